// SplitShard, MergeShards, UpdateShardCount, UpdateStreamMode: the control plane of resharding.
// Each validates against the stream's settings under the registry's control lock and the
// stream's metadata lock (stream_registry::reshard), so concurrent calls cannot both pass.
#include <fmt/format.h>

#include <algorithm>

#include "kinesd/api/error.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/request.hpp"
#include "kinesd/api/resources.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::api::resharding {
namespace {

constexpr std::uint32_t max_shards_per_stream = 10000;  // AWS's default per-stream limit
constexpr int max_scalings_per_day = 10;                // UpdateShardCount per rolling 24 h
constexpr epoch_ms day_ms = 24 * 3'600'000;

void require_provisioned(const stream& s, const stream_settings& st) {
    if (st.mode == stream_mode::on_demand)
        throw api_error::validation(fmt::format(
            "Request is invalid. Stream {} under account {} is in On-Demand mode.", s.name, s.account));
}

// The open shard a request names. ResourceNotFoundException when there is no such shard,
// InvalidArgumentException when it is closed.
const shard_info& open_shard_named(const stream& s, const stream_settings& st, std::string_view text) {
    auto id = shard_id::parse(text);
    const shard_info* found = nullptr;
    if (id)
        for (const auto& info : st.shards)
            if (info.id == *id) found = &info;
    if (!found)
        throw api_error("ResourceNotFoundException",
                        fmt::format("Could not find shard {} in stream {} under account {}.", text,
                                    s.name, s.account));
    if (found->ending_seq)
        throw api_error::invalid_argument(fmt::format(
            "Shard {} in stream {} under account {} has already been merged or split, and thus is "
            "not eligible for merging or splitting.",
            found->id.str(), s.name, s.account));
    return *found;
}

std::vector<open_shard> open_shards(const stream_settings& st) {
    std::vector<open_shard> out;
    for (const auto& info : st.shards)
        if (!info.ending_seq) out.push_back({info.id.index, info.range});
    return out;
}

api_error shard_limit_exceeded(const stream& s, std::uint32_t current, std::uint32_t limit,
                               std::uint32_t additional) {
    return {"LimitExceededException",
            fmt::format("This request would exceed the shard limit for the account {} in {}. "
                        "Current shard count for the account: {}. Limit: {}. Number of additional "
                        "shards that would have resulted from this request: {}. Refer to the AWS "
                        "Service Limits page (http://docs.aws.amazon.com/general/latest/gr/"
                        "aws_service_limits.html) for current limits and how to request higher "
                        "limits.",
                        s.account, s.region, current, limit, additional)};
}

// The change of a planner's result, with the stream going UPDATING for the configured time.
stream::reshard_change change_of(const reshard_planner& p, epoch_ms now, std::int64_t update_ms,
                                 std::function<void(stream_settings&)> also = {}) {
    stream::reshard_change change;
    change.closing = p.closed_existing();
    change.created = p.created();
    change.next_shard_index = p.next_index();
    change.mutate = [now, update_ms, also = std::move(also)](stream_settings& st) {
        start_updating(st, now, update_ms);
        if (also) also(st);
    };
    return change;
}

}  // namespace

std::string split_shard(context& ctx, const json& req) {
    const epoch_ms now = ctx.time.now_ms();
    auto s = resolve_stream(ctx, req);
    const auto shard_text = *string_member(req, "ShardToSplit");
    const auto key_text = *string_member(req, "NewStartingHashKey");
    const auto& opts = ctx.streams.options();
    ctx.streams.reshard(*s, [&](const stream_settings& st, std::uint32_t account_open) {
        require_provisioned(*s, st);
        require_active(*s, st, now);
        const shard_info& parent = open_shard_named(*s, st, shard_text);
        auto key = hash_key::parse(key_text);
        if (!key || !valid_split_key(parent.range, key->value))
            throw api_error::invalid_argument(fmt::format(
                "NewStartingHashKey {} used in SplitShard() on shard {} in stream {} under account "
                "{} is not both greater than one plus the shard's StartingHashKey {} and less than "
                "the shard's EndingHashKey {}.",
                key_text, parent.id.str(), s->name, s->account, to_decimal(parent.range.start),
                to_decimal(parent.range.end)));
        if (static_cast<std::uint64_t>(account_open) + 1 > opts.shard_limit)
            throw shard_limit_exceeded(*s, account_open, opts.shard_limit, 1);
        reshard_planner plan(open_shards(st), st.next_shard_index);
        plan.split(parent.id.index, key->value);
        return change_of(plan, now, opts.update_stream_ms);
    });
    return {};  // AWS answers 200 with an empty body
}

std::string merge_shards(context& ctx, const json& req) {
    const epoch_ms now = ctx.time.now_ms();
    auto s = resolve_stream(ctx, req);
    const auto first_text = *string_member(req, "ShardToMerge");
    const auto second_text = *string_member(req, "AdjacentShardToMerge");
    const auto& opts = ctx.streams.options();
    ctx.streams.reshard(*s, [&](const stream_settings& st, std::uint32_t) {
        require_provisioned(*s, st);
        require_active(*s, st, now);
        const shard_info& first = open_shard_named(*s, st, first_text);
        const shard_info& second = open_shard_named(*s, st, second_text);
        reshard_planner plan(open_shards(st), st.next_shard_index);
        if (!plan.merge(first.id.index, second.id.index))
            throw api_error::invalid_argument(fmt::format(
                "Shards {} and {} in stream {} under account {} are not an adjacent pair of shards "
                "eligible for merging",
                first.id.str(), second.id.str(), s->name, s->account));
        return change_of(plan, now, opts.update_stream_ms);
    });
    return {};
}

std::string update_shard_count(context& ctx, const json& req) {
    const epoch_ms now = ctx.time.now_ms();
    auto s = resolve_stream(ctx, req);
    const auto target = static_cast<std::uint32_t>(*int_member(req, "TargetShardCount"));
    const auto& opts = ctx.streams.options();
    const bool throttle = ctx.cfg.throttle;
    std::uint32_t current = 0;
    ctx.streams.reshard(*s, [&](const stream_settings& st, std::uint32_t account_open) {
        require_provisioned(*s, st);
        require_active(*s, st, now);
        const auto open = open_shards(st);
        current = static_cast<std::uint32_t>(open.size());
        auto limit_error = [&](std::string_view what) {
            return api_error("LimitExceededException",
                             fmt::format("{} Current open shard count: {}, Target shard count: {}",
                                         what, current, target));
        };
        if (target > max_shards_per_stream)
            throw limit_error(fmt::format(
                "Target shard count or number of open shards cannot be greater than {}.",
                max_shards_per_stream));
        if (target > 2 * static_cast<std::uint64_t>(current))
            throw limit_error("UpdateShardCount cannot scale up over double your current open shard count.");
        if (2 * static_cast<std::uint64_t>(target) < current)
            throw limit_error("UpdateShardCount cannot scale down below half your current open shard count.");
        // Scaling history for the per-day limit: times of the calls in the last 24 hours.
        json history = json::array();
        if (auto it = st.extra.find("scaling_history"); it != st.extra.end() && it->is_array())
            for (const auto& t : *it)
                if (t.is_number_integer() && t.get<epoch_ms>() > now - day_ms) history.push_back(t);
        if (throttle && history.size() >= static_cast<std::size_t>(max_scalings_per_day))
            throw api_error("LimitExceededException",
                            fmt::format("UpdateShardCount cannot be called more than {} times in a "
                                        "rolling 24-hour period for stream {} under account {}.",
                                        max_scalings_per_day, s->name, s->account));
        if (target > current &&
            static_cast<std::uint64_t>(account_open) - current + target > opts.shard_limit)
            throw shard_limit_exceeded(*s, account_open, opts.shard_limit, target - current);
        history.push_back(now);
        reshard_planner plan(open, st.next_shard_index);
        plan.scale_uniformly(target);
        return change_of(plan, now, opts.update_stream_ms,
                         [history = std::move(history)](stream_settings& next) {
                             next.extra["scaling_history"] = history;
                         });
    });
    json out;
    out["StreamName"] = s->name;
    out["CurrentShardCount"] = current;
    out["TargetShardCount"] = target;
    out["StreamARN"] = s->arn;
    return out.dump();
}

std::string update_stream_mode(context& ctx, const json& req) {
    const epoch_ms now = ctx.time.now_ms();
    auto s = resolve_stream(ctx, req);
    const auto& details = req.at("StreamModeDetails");
    const stream_mode mode = details.value("StreamMode", "") == "ON_DEMAND" ? stream_mode::on_demand
                                                                             : stream_mode::provisioned;
    const auto& opts = ctx.streams.options();
    // No shard changes: the open shards carry on in the new mode. Through reshard() for its
    // locking (validation and change are one step).
    ctx.streams.reshard(*s, [&](const stream_settings& st, std::uint32_t) {
        require_active(*s, st, now);
        stream::reshard_change change;
        change.next_shard_index = st.next_shard_index;
        change.mutate = [&](stream_settings& next) {
            next.mode = mode;
            // Warm throughput is a setting of ON_DEMAND streams only.
            if (mode == stream_mode::provisioned) next.extra.erase("warm_throughput_mibps");
            start_updating(next, now, opts.update_stream_ms);
        };
        return change;
    });
    return {};
}

}  // namespace kinesd::api::resharding
