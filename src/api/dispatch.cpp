#include "kinesd/api/dispatch.hpp"

#include <unordered_map>

#include "kinesd/api/error.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/model.hpp"
#include "kinesd/api/throttling.hpp"

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
};

}  // namespace

handler find_handler(std::string_view operation) {
    auto it = operations.find(operation);
    return it == operations.end() ? nullptr : it->second;
}

std::string dispatch(context& ctx, std::string_view operation, std::string_view body) {
    const auto& model = api_model::instance();
    handler h = find_handler(operation);
    if (!h || !model.has_operation(operation)) throw api_error::unknown_operation();
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
