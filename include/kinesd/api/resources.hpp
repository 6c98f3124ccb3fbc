#pragma once
// What the control-plane handlers (tags, consumers, stream settings, policies) share: consumer
// records kept in a stream's settings, ARNs of consumers and of "resources" (a stream or one of
// its consumers), and the checks every control-plane change makes.
//
// Consumers live in stream_settings.extra["consumers"] (persisted in meta.json), an array of
//   {"name": str, "created_ms": epoch ms, "status": "CREATING"|"ACTIVE"|"DELETING",
//    "status_until_ms": epoch ms, "tags": {key: value}, "policy": str (optional)}
// A CREATING entry is ACTIVE once status_until_ms has passed; a DELETING one is gone then (it
// is dropped from the array at the next change of the stream's settings).
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "kinesd/api/dispatch.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/shard/stream.hpp"

namespace kinesd::api {

enum class consumer_state { creating, active, deleting, gone };

// The state of a consumer entry at `now`.
consumer_state consumer_status(const nlohmann::json& entry, epoch_ms now);
std::string_view consumer_status_name(consumer_state s);

// Index in extra["consumers"] of the consumer named `name` that is not gone at `now`; when
// created_s is given the consumer must also have been created in that second (the ARN's
// timestamp), so an ARN never names a later consumer of the same name.
std::optional<std::size_t> find_consumer(const stream_settings& st, std::string_view name,
                                         epoch_ms now,
                                         std::optional<std::int64_t> created_s = std::nullopt);
// Consumers that are not gone at `now` (ConsumerCount, the 20-per-stream limit).
std::size_t live_consumer_count(const stream_settings& st, epoch_ms now);
// Drops the entries that are gone at `now`.
void purge_gone_consumers(stream_settings& st, epoch_ms now);

// arn:aws:kinesis:REGION:ACCOUNT:stream/STREAM/consumer/CONSUMER:CREATED_EPOCH_SECONDS
struct consumer_arn {
    std::string_view region, account, stream, consumer;
    std::int64_t created_s = 0;
};
std::optional<consumer_arn> parse_consumer_arn(std::string_view arn);
std::string make_consumer_arn(const stream& s, std::string_view consumer, epoch_ms created_ms);

// The Consumer structure (ListStreamConsumers, RegisterStreamConsumer); with_stream adds
// StreamARN (ConsumerDescription).
nlohmann::json consumer_json(const stream& s, const nlohmann::json& entry, epoch_ms now,
                             bool with_stream);

// A stream or one of its consumers, as a ResourceARN or ConsumerARN names it.
struct resource_ref {
    std::shared_ptr<stream> owner;
    std::optional<std::string> consumer;  // set for a consumer
    std::int64_t consumer_created_s = 0;
    std::string arn;  // as given

    bool is_consumer() const { return consumer.has_value(); }
};

// Resolves a ResourceARN. Throws InvalidArgumentException when it is neither a stream nor a
// consumer ARN, ResourceNotFoundException when the stream or consumer does not exist.
resource_ref resolve_resource(context& ctx, std::string_view arn);
// Resolves a ConsumerARN; same errors.
resource_ref resolve_consumer_arn(context& ctx, std::string_view arn);

// The consumer entry a resource_ref names, inside settings being changed; throws
// ResourceNotFoundException when it went away meanwhile.
nlohmann::json& consumer_entry(stream_settings& st, const resource_ref& ref, epoch_ms now);

api_error consumer_not_found(const stream& s, std::string_view consumer);
// ResourceInUseException, AWS's answer to a change of a consumer that is not ACTIVE.
api_error consumer_not_active(const resource_ref& ref);

// ResourceInUseException unless the stream is ACTIVE: AWS refuses to change a stream that is
// CREATING, UPDATING or DELETING.
void require_active(const stream& s, epoch_ms now);
// The same check against settings being changed (inside update_settings or a reshard plan),
// so that the check and the change are one step under the stream's metadata lock.
void require_active(const stream& s, const stream_settings& st, epoch_ms now);
// The stream shows UPDATING for `delay_ms` (--update-stream-ms) after a change, as on AWS; not
// at all when it is 0.
void start_updating(stream_settings& st, epoch_ms now, std::int64_t delay_ms);

// Applies `mutate` to the stream's settings and persists them (stream::update). `mutate` may
// throw api_error to refuse the change; then nothing changes. A failed write is logged and
// surfaces as InternalFailure.
void update_settings(stream& s, const std::function<void(stream_settings&)>& mutate);
// update_settings for a change AWS makes only to an ACTIVE stream: require_active runs inside.
void update_active_settings(stream& s, epoch_ms now,
                            const std::function<void(stream_settings&)>& mutate);

// Tags: AWS allows 50 per stream or consumer; keys and values of Unicode letters, digits, white
// space and _ . / = + - @ : (the model checks lengths). Throws InvalidArgumentException with
// AWS's wording; `verb` and `what` complete it: "Failed to {verb} {what} under account ...".
constexpr std::size_t max_tags_per_resource = 50;
void check_tag_characters(const nlohmann::json& keys_or_map, std::string_view verb,
                          std::string_view what, std::string_view account);
// Merges `tags` into `into` (an object), refusing a result of more than 50 tags.
void merge_tags(nlohmann::json& into, const nlohmann::json& tags, std::string_view verb,
                std::string_view what, std::string_view account);

}  // namespace kinesd::api
