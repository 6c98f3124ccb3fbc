#include "kinesd/api/dispatch.hpp"

#include <unordered_map>

#include "kinesd/api/error.hpp"
#include "kinesd/api/fast_path.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/model.hpp"
#include "kinesd/api/throttling.hpp"
#include "kinesd/common/base64.hpp"
#include "kinesd/config/config.hpp"

namespace kinesd::api {
namespace {

const std::unordered_map<std::string_view, handler> operations = {
    {"CreateStream", streams::create_stream},
    {"DeleteStream", streams::delete_stream},
    {"DescribeStream", streams::describe_stream},
    {"DescribeStreamSummary", streams::describe_stream_summary},
    {"ListStreams", streams::list_streams},
    {"ListShards", shards::list_shards},
    {"PutRecord", records::put_record},
    {"PutRecords", records::put_records},
    {"GetShardIterator", records::get_shard_iterator},
    {"GetRecords", records::get_records},
    {"AddTagsToStream", tags::add_tags_to_stream},
    {"RemoveTagsFromStream", tags::remove_tags_from_stream},
    {"ListTagsForStream", tags::list_tags_for_stream},
    {"TagResource", tags::tag_resource},
    {"UntagResource", tags::untag_resource},
    {"ListTagsForResource", tags::list_tags_for_resource},
    {"RegisterStreamConsumer", consumers::register_stream_consumer},
    {"DescribeStreamConsumer", consumers::describe_stream_consumer},
    {"ListStreamConsumers", consumers::list_stream_consumers},
    {"DeregisterStreamConsumer", consumers::deregister_stream_consumer},
    {"StartStreamEncryption", stream_settings_ops::start_stream_encryption},
    {"StopStreamEncryption", stream_settings_ops::stop_stream_encryption},
    {"EnableEnhancedMonitoring", stream_settings_ops::enable_enhanced_monitoring},
    {"DisableEnhancedMonitoring", stream_settings_ops::disable_enhanced_monitoring},
    {"UpdateMaxRecordSize", stream_settings_ops::update_max_record_size},
    {"UpdateStreamWarmThroughput", stream_settings_ops::update_stream_warm_throughput},
    {"DescribeLimits", account::describe_limits},
    {"DescribeAccountSettings", account::describe_account_settings},
    {"UpdateAccountSettings", account::update_account_settings},
    {"PutResourcePolicy", policies::put_resource_policy},
    {"GetResourcePolicy", policies::get_resource_policy},
    {"DeleteResourcePolicy", policies::delete_resource_policy},
    {"IncreaseStreamRetentionPeriod", retention::increase_stream_retention_period},
    {"DecreaseStreamRetentionPeriod", retention::decrease_stream_retention_period},
    {"SplitShard", resharding::split_shard},
    {"MergeShards", resharding::merge_shards},
    {"UpdateShardCount", resharding::update_shard_count},
    {"UpdateStreamMode", resharding::update_stream_mode},
    {"SubscribeToShard", subscribe::subscribe_to_shard},
};

bool valid_base64(std::string_view b64) { return base64::decode(b64).has_value(); }

bool all_data_valid(const put_record_input& in) { return valid_base64(in.data); }
bool all_data_valid(const put_records_input& in) {
    for (const auto& e : in.records)
        if (!valid_base64(e.data)) return false;
    return true;
}
bool all_data_valid(const get_records_input&) { return true; }

// Runs a hot operation on fast-path input. The fast path checks everything the model checks
// except that Data is valid base64, which the handler finds when it decodes (one pass, straight
// into the frame). So when the handler throws and some Data is not base64, the generic path
// must answer instead: its validation reports the bad base64 first, as AWS does. Returns
// nullopt then. Nothing has been written by that point (decoding precedes every append).
template <class Input, class Body>
std::optional<std::string> run_fast(const Input* in, Body body, context& ctx) {
    if (!in) return std::nullopt;
    try {
        return body(ctx, *in);
    } catch (const fast_path_declined&) {
        return std::nullopt;
    } catch (const api_error&) {
        if (all_data_valid(*in)) throw;
        return std::nullopt;
    }
}

// The hot operations without nlohmann: simdjson On-Demand reads the body into typed input
// (api/fast_path.hpp). Declines (nullopt) for anything unusual, and whenever the control-plane
// limiter has a rate for the operation (dispatch checks those on the generic path). Injected
// faults and throttling are drawn by the handlers, so they apply on both paths.
std::optional<std::string> try_fast_path(context& ctx, std::string_view operation,
                                         std::string_view body, std::size_t readable_past_end) {
    if (ctx.cfg.control_plane_limits && control_plane_limiter::rate_of(operation) > 0) return std::nullopt;
    if (operation == "PutRecord")
        return run_fast(fast_put_record(body, readable_past_end), records::put_record_typed, ctx);
    if (operation == "PutRecords")
        return run_fast(fast_put_records(body, readable_past_end), records::put_records_typed, ctx);
    if (operation == "GetRecords")
        return run_fast(fast_get_records(body, readable_past_end), records::get_records_typed, ctx);
    return std::nullopt;
}

}  // namespace

handler find_handler(std::string_view operation) {
    auto it = operations.find(operation);
    return it == operations.end() ? nullptr : it->second;
}

std::string dispatch(context& ctx, std::string_view operation, std::string_view body,
                     std::size_t readable_past_end) {
    const auto& model = api_model::instance();
    handler h = find_handler(operation);
    if (!h || !model.has_operation(operation)) throw api_error::unknown_operation();
    if (auto out = try_fast_path(ctx, operation, body, readable_past_end)) return std::move(*out);
    // One parse per request; the handlers read members from this document.
    // An empty body is not JSON: AWS answers SerializationException, as for any non-object.
    nlohmann::json request = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object())
        throw api_error::serialization("Start of structure or map found where not expected.");
    model.validate_input(operation, request);
    check_request_limits(ctx, operation, request);  // injected faults, --control-plane-limits
    return h(ctx, request);
}

}  // namespace kinesd::api
