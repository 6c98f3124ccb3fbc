// StartStreamEncryption, StopStreamEncryption, EnableEnhancedMonitoring,
// DisableEnhancedMonitoring, UpdateMaxRecordSize, UpdateStreamWarmThroughput: settings of one
// stream, kept in stream_settings.extra (meta.json) and reported by DescribeStream(Summary):
//   encryption_type ("KMS"; absent: NONE), key_id, shard_level_metrics (array),
//   max_record_size_kib (published to the data path by stream::publish), warm_throughput_mibps.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "kinesd/api/error.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/request.hpp"
#include "kinesd/api/resources.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::api {
namespace {

// Shard-level metrics in the order AWS lists them; "ALL" stands for all of them.
constexpr std::array<std::string_view, 7> all_metrics = {"IncomingBytes",
                                                         "OutgoingBytes",
                                                         "IncomingRecords",
                                                         "OutgoingRecords",
                                                         "WriteProvisionedThroughputExceeded",
                                                         "ReadProvisionedThroughputExceeded",
                                                         "IteratorAgeMilliseconds"};

json metrics_of(const stream_settings& st) {
    auto it = st.extra.find("shard_level_metrics");
    return it != st.extra.end() && it->is_array() ? *it : json::array();
}

// The metrics a request names (ALL expanded), as a set over all_metrics.
std::array<bool, all_metrics.size()> requested_metrics(const json& req) {
    std::array<bool, all_metrics.size()> out{};
    for (const auto& m : req.at("ShardLevelMetrics")) {
        const auto& name = m.get_ref<const std::string&>();
        for (std::size_t i = 0; i < all_metrics.size(); ++i)
            if (name == "ALL" || name == all_metrics[i]) out[i] = true;
    }
    return out;
}

// Enable (on = true) or disable the requested metrics; answers Current (before) and Desired.
std::string change_monitoring(context& ctx, const json& req, bool on) {
    auto s = resolve_stream(ctx, req);
    const epoch_ms now = ctx.time.now_ms();
    const auto wanted = requested_metrics(req);
    json before, after;
    update_active_settings(*s, now, [&](stream_settings& st) {
        before = metrics_of(st);
        std::array<bool, all_metrics.size()> set{};
        for (const auto& m : before)
            for (std::size_t i = 0; i < all_metrics.size(); ++i)
                if (m == all_metrics[i]) set[i] = true;
        for (std::size_t i = 0; i < all_metrics.size(); ++i)
            if (wanted[i]) set[i] = on;
        after = json::array();
        for (std::size_t i = 0; i < all_metrics.size(); ++i)
            if (set[i]) after.push_back(all_metrics[i]);
        st.extra["shard_level_metrics"] = after;
    });
    return json{{"StreamName", s->name},
                {"StreamARN", s->arn},
                {"CurrentShardLevelMetrics", std::move(before)},
                {"DesiredShardLevelMetrics", std::move(after)}}
        .dump();
}

void require_kms(const json& req) {
    if (*string_member(req, "EncryptionType") != "KMS")
        throw api_error::invalid_argument("Encryption type must be KMS.");
}

}  // namespace

namespace stream_settings_ops {

std::string start_stream_encryption(context& ctx, const json& req) {
    auto s = resolve_stream(ctx, req);
    require_kms(req);
    const epoch_ms now = ctx.time.now_ms();
    const auto key = std::string(*string_member(req, "KeyId"));
    update_active_settings(*s, now, [&](stream_settings& st) {
        st.extra["encryption_type"] = "KMS";
        st.extra["key_id"] = key;
        start_updating(st, now, ctx.streams.options().update_stream_ms);
    });
    return {};
}

std::string stop_stream_encryption(context& ctx, const json& req) {
    auto s = resolve_stream(ctx, req);
    require_kms(req);
    const epoch_ms now = ctx.time.now_ms();
    const auto key = std::string(*string_member(req, "KeyId"));
    update_active_settings(*s, now, [&](stream_settings& st) {
        if (st.extra.value("encryption_type", std::string("NONE")) != "KMS")
            throw api_error::invalid_argument(
                fmt::format("Stream {} under account {} is not encrypted.", s->name, s->account));
        if (st.extra.value("key_id", std::string()) != key)
            throw api_error::invalid_argument(fmt::format(
                "KeyId {} does not match the key the stream {} under account {} is encrypted with.",
                key, s->name, s->account));
        st.extra.erase("encryption_type");
        st.extra.erase("key_id");
        start_updating(st, now, ctx.streams.options().update_stream_ms);
    });
    return {};
}

std::string enable_enhanced_monitoring(context& ctx, const json& req) {
    return change_monitoring(ctx, req, true);
}

std::string disable_enhanced_monitoring(context& ctx, const json& req) {
    return change_monitoring(ctx, req, false);
}

std::string update_max_record_size(context& ctx, const json& req) {
    auto s = resolve_stream(ctx, req);
    const epoch_ms now = ctx.time.now_ms();
    // The model bounds it to [1024, 10240] KiB. The new limit applies to the next request.
    const auto kib = *int_member(req, "MaxRecordSizeInKiB");
    update_active_settings(*s, now, [&](stream_settings& st) { st.extra["max_record_size_kib"] = kib; });
    return {};
}

std::string update_stream_warm_throughput(context& ctx, const json& req) {
    auto s = resolve_stream(ctx, req);
    const epoch_ms now = ctx.time.now_ms();
    const auto mibps = *int_member(req, "WarmThroughputMiBps");
    update_active_settings(*s, now, [&](stream_settings& st) {
        if (st.mode != stream_mode::on_demand)
            throw api_error::invalid_argument(fmt::format(
                "Warm throughput can only be configured for streams in ON_DEMAND mode; stream {} "
                "under account {} is PROVISIONED.",
                s->name, s->account));
        st.extra["warm_throughput_mibps"] = mibps;
    });
    // kinesd has no capacity to warm: the target is reached at once.
    return json{{"StreamARN", s->arn},
                {"StreamName", s->name},
                {"WarmThroughput", {{"TargetMiBps", mibps}, {"CurrentMiBps", mibps}}}}
        .dump();
}

}  // namespace stream_settings_ops
}  // namespace kinesd::api
