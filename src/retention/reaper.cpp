#include "kinesd/retention/reaper.hpp"

#include <exception>
#include <vector>

#include "kinesd/common/logging.hpp"
#include "kinesd/shard/sequence_number.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::retention {
namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("retention");
    return l;
}

}  // namespace

bool closed_shard_expired(const shard_info& info, const shard& s, epoch_ms cutoff_ms) {
    if (!info.ending_seq) return false;
    epoch_ms last = std::max(s.log().last_arrival_ms(), info.created_ms);
    const sequence_number ending{*info.ending_seq};
    if (ending.well_formed()) last = std::max(last, ending.time_ms());
    return last < cutoff_ms;
}

reap_report reap_expired(stream_registry& streams, epoch_ms now) {
    reap_report report;
    for (const auto& s : streams.all()) {
        // A stream being deleted loses all its files soon anyway.
        if (s->status(now) == stream_status::deleting) continue;
        ++report.streams;
        const epoch_ms cutoff = s->retention_cutoff_ms(now);
        std::size_t segments = 0;
        std::uint64_t freed = 0;
        std::vector<shard_id> expired_shards;
        const auto table = s->shards();
        for (const auto& sh : table->all) {
            try {
                segments += sh->drop_expired(cutoff, freed);
            } catch (const std::exception& e) {
                logger()->error("stream {} {}: retention failed: {}", s->name, sh->info().id.str(), e.what());
            }
        }
        // ending_seq is set in the stream's settings when a shard closes (the shard object keeps
        // the info it was opened with), so read it from there.
        for (const auto& info : s->settings().shards) {
            const shard* sh = table->find(info.id.index);
            if (sh && closed_shard_expired(info, *sh, cutoff)) expired_shards.push_back(info.id);
        }
        if (!expired_shards.empty()) {
            if (auto ec = s->drop_shards(expired_shards)) {
                logger()->error("stream {}: cannot drop {} expired closed shards: {}", s->name,
                                expired_shards.size(), ec.message());
            } else {
                report.shards_dropped += expired_shards.size();
                for (const auto& id : expired_shards)
                    logger()->info("stream {} ({}/{}): closed shard {} expired, removed", s->name,
                                   s->account, s->region, id.str());
            }
        }
        report.segments_deleted += segments;
        report.bytes_freed += freed;
        logger()->debug("stream {} ({}/{}): {} bytes on disk; {} expired segments ({} bytes) deleted",
                        s->name, s->account, s->region, s->disk_bytes(), segments, freed);
    }
    return report;
}

reaper::reaper(stream_registry& streams, const clock& time, std::chrono::milliseconds interval)
    : task_("retention", interval, [&streams, &time] {
          const auto r = reap_expired(streams, time.now_ms());
          if (r.segments_deleted > 0 || r.shards_dropped > 0)
              logger()->info("retention: deleted {} segments ({} bytes), {} closed shards",
                             r.segments_deleted, r.bytes_freed, r.shards_dropped);
      }) {}

}  // namespace kinesd::retention
