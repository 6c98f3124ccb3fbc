#include "kinesd/shard/on_demand_scaling.hpp"

#include <algorithm>
#include <exception>

#include "kinesd/common/logging.hpp"
#include "kinesd/shard/resharding.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd {
namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("scaling");
    return l;
}

// Thrown from a reshard decision to change nothing (the stream changed under us, or the
// account has no shards to spare).
struct scaling_declined {};

struct demand_totals {
    std::uint64_t records = 0, bytes = 0, throttled_records = 0;
};

demand_totals totals_of(const shard_table& table) {
    demand_totals t;
    for (const auto& sh : table.all) {
        const auto m = sh->metrics().snapshot();
        t.records += m.incoming_records;
        t.bytes += m.incoming_bytes;
        t.throttled_records += sh->throughput().write_throttled.load(std::memory_order_relaxed);
    }
    return t;
}

std::vector<std::uint32_t> indexes_of(const shard_table& table) {
    std::vector<std::uint32_t> out;
    out.reserve(table.all.size());
    for (const auto& sh : table.all) out.push_back(sh->info().id.index);
    return out;
}

}  // namespace

std::vector<scaling_event> on_demand_scaler::evaluate(stream_registry& streams, epoch_ms now) {
    std::vector<scaling_event> events;
    std::unordered_map<std::string, window> kept;
    for (const auto& s : streams.all()) {
        if (s->status(now) != stream_status::active || s->settings().mode != stream_mode::on_demand)
            continue;
        const auto table = s->shards();
        const demand_totals totals = totals_of(*table);
        auto indexes = indexes_of(*table);
        window restarted{s->uid, now, indexes, totals.records, totals.bytes, totals.throttled_records};

        auto found = windows_.find(s->arn);
        if (found == windows_.end() || found->second.stream_uid != s->uid ||
            found->second.shard_indexes != indexes || now < found->second.start_ms) {
            kept.emplace(s->arn, std::move(restarted));
            continue;
        }
        const window& w = found->second;
        const epoch_ms elapsed_ms = now - w.start_ms;
        if (elapsed_ms < policy_.window_ms) {
            kept.emplace(s->arn, w);
            continue;
        }
        const auto open = static_cast<std::uint32_t>(table->open.size());
        const double seconds = static_cast<double>(elapsed_ms) / 1000.0;
        const double record_capacity = open * seconds * policy_.shard_write_records_per_sec;
        const double byte_capacity = open * seconds * static_cast<double>(policy_.shard_write_bytes_per_sec);
        // Counters only grow while the shard set is unchanged, which the index check ensured.
        const double wanted_records =
            static_cast<double>(totals.records - w.records + totals.throttled_records - w.throttled_records);
        const double written_bytes = static_cast<double>(totals.bytes - w.bytes);
        const bool busy = wanted_records > policy_.scale_up_utilization * record_capacity ||
                          written_bytes > policy_.scale_up_utilization * byte_capacity;
        const std::uint32_t target = std::min<std::uint64_t>(2ull * open, policy_.max_open_shards);
        if (!busy || target <= open) {
            kept.emplace(s->arn, std::move(restarted));
            continue;
        }

        std::uint32_t granted = 0;
        try {
            streams.reshard(*s, [&](const stream_settings& st, std::uint32_t account_open) {
                std::uint32_t st_open = 0;
                for (const auto& info : st.shards) st_open += info.ending_seq ? 0 : 1;
                // The shards measured are still the stream's, and it is still ACTIVE ON_DEMAND.
                if (st.mode != stream_mode::on_demand || st_open != open ||
                    status_after(st.status, st.status_until_ms, now) != stream_status::active)
                    throw scaling_declined{};
                const std::uint64_t others = account_open - std::min(account_open, open);
                const std::uint64_t room = streams.options().shard_limit > others
                                               ? streams.options().shard_limit - others
                                               : 0;
                granted = static_cast<std::uint32_t>(std::min<std::uint64_t>(target, room));
                if (granted <= open) throw scaling_declined{};
                std::vector<open_shard> current;
                for (const auto& info : st.shards)
                    if (!info.ending_seq) current.push_back({info.id.index, info.range});
                reshard_planner plan(std::move(current), st.next_shard_index);
                plan.scale_uniformly(granted);
                stream::reshard_change change;
                change.closing = plan.closed_existing();
                change.created = plan.created();
                change.next_shard_index = plan.next_index();
                return change;
            });
        } catch (const scaling_declined&) {
            if (granted != 0 && granted <= open)
                logger()->warn("stream {} ({}/{}): ON_DEMAND writes need more than its {} shards, but "
                               "the account's shard limit ({}) is reached",
                               s->name, s->account, s->region, open, streams.options().shard_limit);
            kept.emplace(s->arn, std::move(restarted));
            continue;
        } catch (const std::exception& e) {
            logger()->error("stream {} ({}/{}): ON_DEMAND scaling failed: {}", s->name, s->account,
                            s->region, e.what());
            kept.emplace(s->arn, std::move(restarted));
            continue;
        }
        logger()->info("stream {} ({}/{}): ON_DEMAND capacity grows from {} to {} open shards "
                       "({:.0f} records and {:.0f} bytes wanted in {:.0f} s, {:.0f}% of capacity)",
                       s->name, s->account, s->region, open, granted, wanted_records, written_bytes,
                       seconds,
                       100.0 * std::max(wanted_records / record_capacity, written_bytes / byte_capacity));
        events.push_back({s->arn, open, granted});
        // The next window starts on the new shard table.
        const auto after = s->shards();
        const demand_totals now_totals = totals_of(*after);
        kept.emplace(s->arn, window{s->uid, now, indexes_of(*after), now_totals.records, now_totals.bytes,
                                    now_totals.throttled_records});
    }
    windows_ = std::move(kept);  // streams gone, or no longer ON_DEMAND, are forgotten
    return events;
}

on_demand_scaling_task::on_demand_scaling_task(stream_registry& streams, const clock& time,
                                               on_demand_scaling_policy policy,
                                               std::chrono::milliseconds interval)
    : scaler_(policy), task_("scaling", interval, [this, &streams, &time] {
          scaler_.evaluate(streams, time.now_ms());
      }) {}

}  // namespace kinesd
