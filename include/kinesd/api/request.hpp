#pragma once
// Helpers shared by the handlers: reading members of a validated request, resolving the stream a
// request names, and writing JSON on the hot path without building a DOM.
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kinesd/api/dispatch.hpp"
#include "kinesd/shard/stream.hpp"

namespace kinesd::api {

using json = nlohmann::json;

// Members of a request that api_model::validate_input has accepted, so types are right.
// Absent and null members read as nullopt.
std::optional<std::string_view> string_member(const json& req, const char* name);
std::optional<std::int64_t> int_member(const json& req, const char* name);
std::optional<bool> bool_member(const json& req, const char* name);
// A timestamp member (epoch seconds, possibly fractional) in epoch milliseconds.
std::optional<epoch_ms> timestamp_member(const json& req, const char* name);

// "arn:PARTITION:kinesis:REGION:ACCOUNT:RESOURCE" split; PARTITION is aws, aws-cn, aws-us-gov...
struct kinesis_arn {
    std::string_view region, account, resource;  // resource: "stream/NAME[/consumer/...]"
};
std::optional<kinesis_arn> parse_kinesis_arn(std::string_view arn);

struct stream_arn {
    std::string_view region, account, name;
};
// Parses "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME"; nullopt when it is not a stream ARN.
std::optional<stream_arn> parse_stream_arn(std::string_view arn);

// The stream named by StreamName and/or StreamARN. Throws ResourceNotFoundException when it
// does not exist, InvalidArgumentException when neither or conflicting names are given.
std::shared_ptr<stream> resolve_stream(context& ctx, const json& req);

// The name the request uses for the stream (for messages), from StreamName or StreamARN.
std::string requested_stream_name(const json& req);

// Epoch milliseconds as the epoch-seconds number AWS's JSON protocol uses: 1700000000.123
void append_epoch_seconds(std::string& out, epoch_ms ms);
json epoch_seconds(epoch_ms ms);

// Appends `s` as a JSON string literal (quoted, escaped). `s` must be valid UTF-8.
void append_json_string(std::string& out, std::string_view s);

// Appends one record as GetRecords answers and SubscribeToShard events carry it:
// {"SequenceNumber":"...","ApproximateArrivalTimestamp":1700000000.123,"Data":"<base64>",
//  "PartitionKey":"..."}
void append_record_json(std::string& out, const storage::record_view& r);

// Appends ,"ChildShards":[...] of the closed shard `parent`: every shard of `table` whose parent
// or adjacent parent it is (GetRecords and SubscribeToShard at a closed shard's end).
void append_child_shards(std::string& out, const shard_table& table, std::uint32_t parent);

// The Shard structure of DescribeStream and ListShards.
json shard_json(const shard_info& info);

// When a closed shard closed (the time in its EndingSequenceNumber); nullopt while open.
std::optional<epoch_ms> shard_closed_ms(const shard_info& info);
// A shard is still listed while open, or until it has been closed for longer than the
// retention period (its records are gone by then), as on AWS.
bool shard_listed(const shard_info& info, epoch_ms trim_horizon_ms);

}  // namespace kinesd::api
