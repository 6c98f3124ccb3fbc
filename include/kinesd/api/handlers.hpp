#pragma once
// One function per operation, grouped as in STYLE.md. Each validates what the model cannot
// express, makes one call into the shard layer and returns the response body.
#include "kinesd/api/dispatch.hpp"

namespace kinesd::api {

struct put_record_input;  // api/fast_path.hpp (not included: tags.cpp has a stream_ref of its own)
struct put_records_input;
struct get_records_input;

namespace streams {
std::string create_stream(context&, const nlohmann::json&);
std::string delete_stream(context&, const nlohmann::json&);
std::string describe_stream(context&, const nlohmann::json&);
std::string describe_stream_summary(context&, const nlohmann::json&);
std::string list_streams(context&, const nlohmann::json&);
}  // namespace streams

namespace shards {
std::string list_shards(context&, const nlohmann::json&);
}  // namespace shards

namespace records {
std::string put_record(context&, const nlohmann::json&);
std::string put_records(context&, const nlohmann::json&);
std::string get_shard_iterator(context&, const nlohmann::json&);
std::string get_records(context&, const nlohmann::json&);
// The bodies of the three hot operations, on typed input from either the fast path (simdjson,
// see api/fast_path.hpp) or the generic path (the json overloads above convert and call these).
std::string put_record_typed(context&, const put_record_input&);
std::string put_records_typed(context&, const put_records_input&);
std::string get_records_typed(context&, const get_records_input&);
}  // namespace records

namespace tags {
std::string add_tags_to_stream(context&, const nlohmann::json&);
std::string remove_tags_from_stream(context&, const nlohmann::json&);
std::string list_tags_for_stream(context&, const nlohmann::json&);
std::string tag_resource(context&, const nlohmann::json&);
std::string untag_resource(context&, const nlohmann::json&);
std::string list_tags_for_resource(context&, const nlohmann::json&);
}  // namespace tags

namespace consumers {
std::string register_stream_consumer(context&, const nlohmann::json&);
std::string describe_stream_consumer(context&, const nlohmann::json&);
std::string list_stream_consumers(context&, const nlohmann::json&);
std::string deregister_stream_consumer(context&, const nlohmann::json&);
}  // namespace consumers

namespace stream_settings_ops {
std::string start_stream_encryption(context&, const nlohmann::json&);
std::string stop_stream_encryption(context&, const nlohmann::json&);
std::string enable_enhanced_monitoring(context&, const nlohmann::json&);
std::string disable_enhanced_monitoring(context&, const nlohmann::json&);
std::string update_max_record_size(context&, const nlohmann::json&);
std::string update_stream_warm_throughput(context&, const nlohmann::json&);
}  // namespace stream_settings_ops

namespace account {
std::string describe_limits(context&, const nlohmann::json&);
std::string describe_account_settings(context&, const nlohmann::json&);
std::string update_account_settings(context&, const nlohmann::json&);
}  // namespace account

namespace policies {
std::string put_resource_policy(context&, const nlohmann::json&);
std::string get_resource_policy(context&, const nlohmann::json&);
std::string delete_resource_policy(context&, const nlohmann::json&);
}  // namespace policies
namespace retention {
std::string increase_stream_retention_period(context&, const nlohmann::json&);
std::string decrease_stream_retention_period(context&, const nlohmann::json&);
}  // namespace retention

namespace resharding {
std::string split_shard(context&, const nlohmann::json&);
std::string merge_shards(context&, const nlohmann::json&);
std::string update_shard_count(context&, const nlohmann::json&);
std::string update_stream_mode(context&, const nlohmann::json&);
}  // namespace resharding

namespace subscribe {
// Validates and leaves the subscription in context::streaming; the body is unused.
std::string subscribe_to_shard(context&, const nlohmann::json&);
}  // namespace subscribe

}  // namespace kinesd::api
