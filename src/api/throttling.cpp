#include "kinesd/api/throttling.hpp"

#include <fmt/format.h>

#include <chrono>

#include "kinesd/api/faults.hpp"
#include "kinesd/api/request.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/metrics/throttle_events.hpp"

namespace kinesd::api {
namespace {

enum class scope { account, stream, shard };

struct operation_limit {
    std::string_view operation;
    double per_second;
    scope per;
};

// From the API reference (each operation's documentation in the API model). Operations that
// kinesd does not implement yet are listed too, so they are limited once they exist.
constexpr operation_limit operation_limits[] = {
    {"AddTagsToStream", 5, scope::account},
    {"CreateStream", 5, scope::account},
    {"DeleteStream", 5, scope::account},
    {"DeregisterStreamConsumer", 5, scope::stream},
    {"DescribeAccountSettings", 5, scope::account},
    {"DescribeLimits", 1, scope::account},
    {"DescribeStream", 10, scope::account},
    {"DescribeStreamConsumer", 20, scope::stream},
    {"DescribeStreamSummary", 20, scope::account},
    {"GetShardIterator", 5, scope::shard},
    {"ListShards", 1000, scope::stream},
    {"ListStreamConsumers", 5, scope::stream},
    {"ListStreams", 5, scope::account},
    {"ListTagsForStream", 5, scope::account},
    {"MergeShards", 5, scope::account},
    {"RegisterStreamConsumer", 5, scope::account},
    {"RemoveTagsFromStream", 5, scope::account},
    {"SplitShard", 5, scope::account},
    {"UpdateAccountSettings", 5, scope::account},
    {"UpdateShardCount", 10, scope::account},
    {"UpdateStreamWarmThroughput", 5, scope::account},
};

const operation_limit* limit_of(std::string_view operation) {
    for (const auto& l : operation_limits)
        if (l.operation == operation) return &l;
    return nullptr;
}

// Past this many buckets, idle (full) ones are dropped: requests for made-up shard or stream
// names must not grow the map without bound.
constexpr std::size_t prune_above = 10'000;

control_plane_limiter& control_plane() {
    static control_plane_limiter limiter;
    return limiter;
}

bool is_data_path(std::string_view operation) {
    return operation == "PutRecord" || operation == "PutRecords" || operation == "GetRecords";
}

}  // namespace

throttle::throughput_limits shard_limits(const config& cfg) {
    return throttle::throughput_limits::per_second(
        static_cast<double>(cfg.shard_write_bytes_per_sec), cfg.shard_write_records_per_sec,
        static_cast<double>(cfg.shard_read_bytes_per_sec), cfg.shard_read_calls_per_sec);
}

std::string write_throttled_message(const stream& s, const shard& target) {
    return fmt::format("Rate exceeded for shard {} in stream {} under account {}.",
                       target.info().id.str(), s.name, s.account);
}

api_error read_throttled(const stream& s, const shard& source) {
    return {"ProvisionedThroughputExceededException",
            fmt::format("Rate exceeded for Shard - {}/{}/{}", s.account, s.name, source.info().id.str())};
}

void delay_answer(context& ctx, std::int64_t ms) {
    if (ms > 0 && ctx.answer_delay_ms) *ctx.answer_delay_ms = std::max(*ctx.answer_delay_ms, ms);
}

void admit_put_record(context& ctx, const stream& s, const shard& target, std::size_t bytes,
                      epoch_ms now) {
    auto& meter = target.throughput();
    if (faults().active()) {
        auto fault = faults().draw("PutRecord", s.name);
        delay_answer(ctx, fault.latency_ms);
        if (fault.error_type == "ProvisionedThroughputExceededException") {
            meter.write_throttled.fetch_add(1, std::memory_order_relaxed);
            throw api_error(fault.error_type, write_throttled_message(s, target));
        }
        if (!fault.error_type.empty()) throw injected_error(fault.error_type, s.name, s.account);
    }
    if (ctx.cfg.throttle && !meter.admit_record(shard_limits(ctx.cfg), bytes, now)) {
        metrics::warn_write_throttled(target.metrics(), s.name, target.info().id.str(), now);
        throw api_error("ProvisionedThroughputExceededException", write_throttled_message(s, target));
    }
}

entry_refusal admit_put_records_entry(context& ctx, const stream& s, const shard& target,
                                      std::size_t bytes, epoch_ms now, bool& shard_blocked,
                                      std::int64_t& latency_ms) {
    auto& meter = target.throughput();
    if (faults().active()) {
        auto fault = faults().draw("PutRecords", s.name);
        latency_ms = std::max(latency_ms, fault.latency_ms);
        // An injected throttle fails this entry only, as AWS may (the buckets are untouched).
        if (fault.error_type == "ProvisionedThroughputExceededException") {
            meter.write_throttled.fetch_add(1, std::memory_order_relaxed);
            return entry_refusal::throttled;
        }
        if (fault.error_type == "InternalFailure" || fault.error_type == "InternalFailureException")
            return entry_refusal::internal_failure;
        if (!fault.error_type.empty()) throw injected_error(fault.error_type, s.name, s.account);
    }
    if (shard_blocked) {
        meter.write_throttled.fetch_add(1, std::memory_order_relaxed);
        return entry_refusal::throttled;
    }
    if (ctx.cfg.throttle && !meter.admit_record(shard_limits(ctx.cfg), bytes, now)) {
        metrics::warn_write_throttled(target.metrics(), s.name, target.info().id.str(), now);
        shard_blocked = true;
        return entry_refusal::throttled;
    }
    return entry_refusal::none;
}

void admit_get_records(context& ctx, const stream& s, const shard& source, epoch_ms now) {
    auto& meter = source.throughput();
    if (faults().active()) {
        auto fault = faults().draw("GetRecords", s.name);
        delay_answer(ctx, fault.latency_ms);
        if (fault.error_type == "ProvisionedThroughputExceededException") {
            meter.read_throttled.fetch_add(1, std::memory_order_relaxed);
            throw read_throttled(s, source);
        }
        if (!fault.error_type.empty()) throw injected_error(fault.error_type, s.name, s.account);
    }
    if (ctx.cfg.throttle && !meter.admit_read(shard_limits(ctx.cfg), now)) {
        metrics::warn_read_throttled(source.metrics(), s.name, source.info().id.str(), now);
        throw read_throttled(s, source);
    }
}

void charge_get_records(context& ctx, const shard& source, std::size_t bytes, epoch_ms now) {
    if (ctx.cfg.throttle) source.throughput().charge_read(shard_limits(ctx.cfg), bytes, now);
}

double control_plane_limiter::rate_of(std::string_view operation) {
    const auto* l = limit_of(operation);
    return l ? l->per_second : 0;
}

void control_plane_limiter::check(std::string_view operation, std::string_view account,
                                  std::string_view region, std::string_view stream,
                                  std::string_view shard, epoch_ms now) {
    const auto* l = limit_of(operation);
    if (!l) return;
    std::string key = fmt::format("{}\n{}\n{}", operation, account, region);
    if (l->per != scope::account) fmt::format_to(std::back_inserter(key), "\n{}", stream);
    if (l->per == scope::shard) fmt::format_to(std::back_inserter(key), "\n{}", shard);
    const throttle::bucket_limits limits{l->per_second, l->per_second, 0};
    {
        std::lock_guard lock(mu_);
        if (buckets_.size() > prune_above)
            std::erase_if(buckets_, [&](const auto& kv) { return kv.second.available(limits, now) >= limits.burst; });
        if (buckets_[key].try_take(limits, 1, now)) return;
    }
    if (l->per == scope::shard)
        throw api_error("ProvisionedThroughputExceededException",
                        fmt::format("Rate exceeded for shard {} in stream {} under account {}.", shard,
                                    stream, account));
    throw api_error("LimitExceededException",
                    stream.empty() ? fmt::format("Rate exceeded for account {}.", account)
                                   : fmt::format("Rate exceeded for stream {} under account {}.",
                                                 stream, account));
}

void check_request_limits(context& ctx, std::string_view operation, const nlohmann::json& req) {
    const bool inject = faults().active() && !is_data_path(operation);
    if (!inject && !ctx.cfg.control_plane_limits) return;
    const std::string stream = requested_stream_name(req);
    if (inject) {
        auto fault = faults().draw(operation, stream);
        delay_answer(ctx, fault.latency_ms);
        if (!fault.error_type.empty()) throw injected_error(fault.error_type, stream, ctx.account);
    }
    if (ctx.cfg.control_plane_limits) {
        const auto shard = string_member(req, "ShardId").value_or("");
        control_plane().check(operation, ctx.account, ctx.region, stream, shard, ctx.time.now_ms());
    }
}

}  // namespace kinesd::api
