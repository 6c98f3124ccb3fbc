#pragma once
// Typed inputs of the hot operations (PutRecord, PutRecords, GetRecords) and two ways to get
// them: the fast path reads them straight from the body with simdjson On-Demand; the generic
// path takes them from a nlohmann document that api_model::validate_input has accepted.
//
// The fast path accepts only requests the API model accepts as they are — every known member
// of the right JSON type and within the constraints of its model shape (the rules are looked up
// in the model, not copied). For anything else it declines, and dispatch takes the generic path,
// which produces AWS's exact error. So the fast path changes speed, never behaviour.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace kinesd::api {

struct stream_ref {
    std::optional<std::string_view> name;  // StreamName
    std::optional<std::string_view> arn;   // StreamARN
};

struct put_record_input {
    stream_ref stream;
    std::string_view partition_key;
    std::string_view data;  // base64 text, checked for validity when decoded
    std::optional<std::string_view> explicit_hash_key;
    std::optional<std::string_view> sequence_number_for_ordering;
};

struct put_records_entry {
    std::string_view partition_key;
    std::string_view data;  // base64 text
    std::optional<std::string_view> explicit_hash_key;
};

struct put_records_input {
    stream_ref stream;
    std::vector<put_records_entry> records;
};

struct get_records_input {
    std::string_view shard_iterator;
    std::optional<std::int64_t> limit;
    std::optional<std::string_view> stream_arn;
};

// Thrown by a handler running on fast-path input when it finds what only the generic path can
// report exactly (e.g. invalid base64); dispatch then re-runs the request on the generic path.
// Handlers throw it before changing anything.
struct fast_path_declined {};

// Bytes a caller can leave readable after a request body (any content; never written) so that
// the fast path parses the body in place instead of copying it into a padded buffer first.
inline constexpr std::size_t fast_path_padding = 64;

// The fast path. Each returns nullptr when it declines. The result and the views in it live in
// thread-local storage and may point into `body`: valid until the next call on the same thread
// and while `body` is. `readable_past_end`: bytes after body's end that may be read; with at
// least fast_path_padding the body is parsed in place.
const put_record_input* fast_put_record(std::string_view body, std::size_t readable_past_end = 0);
const put_records_input* fast_put_records(std::string_view body, std::size_t readable_past_end = 0);
const get_records_input* fast_get_records(std::string_view body, std::size_t readable_past_end = 0);

struct context;
}  // namespace kinesd::api
namespace kinesd {
class stream;
}
namespace kinesd::api {

// The stream `ref` names (request.cpp; the same checks and errors as resolve_stream of a json
// request): InvalidArgumentException or ResourceNotFoundException.
std::shared_ptr<stream> resolve_stream(context& ctx, const stream_ref& ref);

// The generic path, from a request the model has validated. Views point into `req`.
put_record_input put_record_from_json(const nlohmann::json& req);
put_records_input put_records_from_json(const nlohmann::json& req);
get_records_input get_records_from_json(const nlohmann::json& req);

}  // namespace kinesd::api
