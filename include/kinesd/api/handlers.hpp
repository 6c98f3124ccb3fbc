#pragma once
// One function per operation, grouped as in STYLE.md. Each validates what the model cannot
// express, makes one call into the shard layer and returns the response body.
#include "kinesd/api/dispatch.hpp"

namespace kinesd::api {

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
}  // namespace records

namespace retention {
std::string increase_stream_retention_period(context&, const nlohmann::json&);
std::string decrease_stream_retention_period(context&, const nlohmann::json&);
}  // namespace retention

}  // namespace kinesd::api
