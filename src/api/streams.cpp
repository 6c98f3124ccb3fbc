// CreateStream, DeleteStream, DescribeStream, DescribeStreamSummary, ListStreams.
#include <fmt/format.h>

#include <algorithm>

#include "kinesd/api/error.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/request.hpp"
#include "kinesd/api/resources.hpp"
#include "kinesd/common/base64.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::api::streams {
namespace {

constexpr std::uint32_t on_demand_initial_shards = 4;

json enhanced_monitoring(const stream_settings& st) {
    json metrics = st.extra.contains("shard_level_metrics") ? st.extra["shard_level_metrics"]
                                                            : json::array();
    return json::array({{{"ShardLevelMetrics", metrics}}});
}

void add_encryption(json& out, const stream_settings& st) {
    out["EncryptionType"] = st.extra.value("encryption_type", std::string("NONE"));
    if (st.extra.contains("key_id")) out["KeyId"] = st.extra["key_id"];
}

}  // namespace

std::string create_stream(context& ctx, const json& req) {
    const auto name = *string_member(req, "StreamName");
    if (ctx.log_stream) ctx.log_stream->assign(name);
    auto shard_count = int_member(req, "ShardCount");
    stream_mode mode = stream_mode::provisioned;
    if (auto details = req.find("StreamModeDetails"); details != req.end() && details->is_object()) {
        if (details->value("StreamMode", "") == "ON_DEMAND") mode = stream_mode::on_demand;
    }
    if (mode == stream_mode::provisioned && !shard_count)
        throw api_error::validation(
            "1 validation error detected: Value null at 'shardCount' failed to satisfy constraint: "
            "Member must not be null");
    if (mode == stream_mode::on_demand && shard_count)
        throw api_error::invalid_argument(
            "ShardCount must not be specified for a stream in ON_DEMAND mode.");
    create_stream_request request;
    request.account = ctx.account;
    request.region = ctx.region;
    request.name = name;
    request.mode = mode;
    request.shard_count = mode == stream_mode::on_demand
                              ? on_demand_initial_shards
                              : static_cast<std::uint32_t>(*shard_count);
    if (auto tags = req.find("Tags"); tags != req.end() && tags->is_object()) {
        const auto what = fmt::format("stream {}", name);
        check_tag_characters(*tags, "create", what, ctx.account);
        merge_tags(request.extra["tags"], *tags, "create", what, ctx.account);
    }
    if (auto size = int_member(req, "MaxRecordSizeInKiB")) request.extra["max_record_size_kib"] = *size;
    ctx.streams.create(request);
    return {};  // AWS answers 200 with an empty body
}

std::string delete_stream(context& ctx, const json& req) {
    auto s = resolve_stream(ctx, req);
    // Deleting the stream deletes its consumers, but only when the caller says so.
    if (!bool_member(req, "EnforceConsumerDeletion").value_or(false) &&
        live_consumer_count(s->settings(), ctx.time.now_ms()) > 0)
        throw api_error("ResourceInUseException",
                        fmt::format("DeleteStream can't delete {}:{} because there are consumers associated "
                                    "with this data stream. To delete {} anyway, set the "
                                    "EnforceConsumerDeletion parameter to true to force the deletion of all "
                                    "the consumers that are associated with it.",
                                    s->account, s->name, s->name));
    ctx.streams.remove(stream_key{s->account, s->region, s->name});
    return {};
}

std::string describe_stream(context& ctx, const json& req) {
    auto s = resolve_stream(ctx, req);
    const auto st = s->settings();
    const auto limit = static_cast<std::size_t>(int_member(req, "Limit").value_or(100));
    std::optional<std::uint32_t> exclusive_start;
    if (auto start = string_member(req, "ExclusiveStartShardId")) {
        auto id = shard_id::parse(*start);
        // An id that cannot be read sorts before every shard, as an unknown start does on AWS.
        exclusive_start = id ? std::optional(id->index) : std::nullopt;
    }
    const auto status = s->status(ctx.time.now_ms());
    // AWS lists no shards while a stream is being created or deleted.
    const bool shards_visible = status != stream_status::creating && status != stream_status::deleting;
    // The reads' cutoff: what expired stays expired after a retention increase.
    const epoch_ms trim_horizon = s->retention_cutoff_ms(ctx.time.now_ms());
    json shards = json::array();
    bool more = false;
    for (const auto& info : st.shards) {
        if (!shards_visible) break;
        if (exclusive_start && info.id.index <= *exclusive_start) continue;
        if (!shard_listed(info, trim_horizon)) continue;  // closed and past retention
        if (shards.size() == limit) {
            more = true;
            break;
        }
        shards.push_back(shard_json(info));
    }
    json d;
    d["StreamName"] = s->name;
    d["StreamARN"] = s->arn;
    d["StreamStatus"] = to_string(status);
    d["StreamModeDetails"] = {{"StreamMode", to_string(st.mode)}};
    d["Shards"] = std::move(shards);
    d["HasMoreShards"] = more;
    d["RetentionPeriodHours"] = st.retention_hours;
    d["StreamCreationTimestamp"] = epoch_seconds(s->created_ms);
    d["EnhancedMonitoring"] = enhanced_monitoring(st);
    add_encryption(d, st);
    return json{{"StreamDescription", std::move(d)}}.dump();
}

std::string describe_stream_summary(context& ctx, const json& req) {
    auto s = resolve_stream(ctx, req);
    const auto st = s->settings();
    const auto open_shards = std::count_if(st.shards.begin(), st.shards.end(),
                                           [](const shard_info& i) { return !i.ending_seq; });
    json d;
    d["StreamName"] = s->name;
    d["StreamARN"] = s->arn;
    d["StreamStatus"] = to_string(s->status(ctx.time.now_ms()));
    d["StreamModeDetails"] = {{"StreamMode", to_string(st.mode)}};
    d["RetentionPeriodHours"] = st.retention_hours;
    d["StreamCreationTimestamp"] = epoch_seconds(s->created_ms);
    d["EnhancedMonitoring"] = enhanced_monitoring(st);
    add_encryption(d, st);
    d["OpenShardCount"] = open_shards;
    d["ConsumerCount"] = live_consumer_count(st, ctx.time.now_ms());
    d["MaxRecordSizeInKiB"] = st.extra.value("max_record_size_kib", 1024);
    if (st.extra.contains("warm_throughput_mibps")) {
        const int mibps = st.extra.value("warm_throughput_mibps", 0);
        d["WarmThroughput"] = {{"TargetMiBps", mibps}, {"CurrentMiBps", mibps}};
    }
    return json{{"StreamDescriptionSummary", std::move(d)}}.dump();
}

std::string list_streams(context& ctx, const json& req) {
    const auto limit = static_cast<std::size_t>(int_member(req, "Limit").value_or(100));
    std::string start_after;
    if (auto token = string_member(req, "NextToken")) {
        auto decoded = base64::decode(*token);
        if (!decoded || decoded->rfind("ls1:", 0) != 0)
            throw api_error::invalid_argument(fmt::format("Invalid NextToken: {}", *token));
        start_after = decoded->substr(4);
    } else if (auto name = string_member(req, "ExclusiveStartStreamName")) {
        start_after = *name;
    }
    const epoch_ms now = ctx.time.now_ms();
    json names = json::array(), summaries = json::array();
    bool more = false;
    std::string last;
    for (const auto& s : ctx.streams.list(ctx.account, ctx.region)) {
        if (!start_after.empty() && s->name <= start_after) continue;
        if (names.size() == limit) {
            more = true;
            break;
        }
        names.push_back(s->name);
        const auto st = s->settings();
        summaries.push_back({{"StreamName", s->name},
                             {"StreamARN", s->arn},
                             {"StreamStatus", to_string(s->status(now))},
                             {"StreamModeDetails", {{"StreamMode", to_string(st.mode)}}},
                             {"StreamCreationTimestamp", epoch_seconds(s->created_ms)}});
        last = s->name;
    }
    json out{{"StreamNames", std::move(names)}, {"HasMoreStreams", more}};
    if (more) out["NextToken"] = base64::encode("ls1:" + last);
    out["StreamSummaries"] = std::move(summaries);
    return out.dump();
}

}  // namespace kinesd::api::streams
