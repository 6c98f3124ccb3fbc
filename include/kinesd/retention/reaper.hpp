#pragma once
// The retention reaper: deletes whole segments whose newest record is older than their stream's
// retention period, and forgets closed shards whose records have all expired. Reads do not
// depend on it (they skip expired records themselves); it frees the disk.
//
// reap_expired() is one pass, a plain function of `now` so tests drive it with a manual clock;
// reaper runs it every interval on its own thread. Neither blocks readers, and appends to a
// shard wait only while its expired segments are unhooked from the log, never for file deletion.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "kinesd/common/clock.hpp"
#include "kinesd/common/periodic_task.hpp"

namespace kinesd {
class stream_registry;
class stream;
struct shard_info;
class shard;
}  // namespace kinesd

namespace kinesd::retention {

struct reap_report {
    std::size_t streams = 0;           // streams looked at
    std::size_t segments_deleted = 0;  // segment files deleted (with their indexes)
    std::uint64_t bytes_freed = 0;     // bytes of the deleted segment and index files
    std::size_t shards_dropped = 0;    // closed shards forgotten because all their records expired
};

// True when `info` is closed (ending_seq set) and everything it holds expired at cutoff_ms:
// its newest record, or the time its ending sequence number carries when that is later (a
// shard closed without records stays for one retention period after closing, as on AWS).
bool closed_shard_expired(const shard_info& info, const shard& s, epoch_ms cutoff_ms);

// One pass over every stream at `now`. Logs each stream's disk usage at debug level. Errors are
// logged, never thrown: a stream that cannot be reaped now is tried again at the next pass.
reap_report reap_expired(stream_registry& streams, epoch_ms now);

// Runs reap_expired() every `interval` (real time) on its own thread, reading `now` from the
// server's clock, so a clock moved through the admin API takes effect at the next pass.
// start() and stop() are for one owner thread; stop() waits for a pass in progress.
class reaper {
public:
    reaper(stream_registry& streams, const clock& time, std::chrono::milliseconds interval);
    reaper(const reaper&) = delete;
    reaper& operator=(const reaper&) = delete;

    void start() { task_.start(); }
    void stop() { task_.stop(); }

private:
    periodic_task task_;
};

}  // namespace kinesd::retention
