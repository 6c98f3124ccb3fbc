#pragma once
// Process-wide storage counters, for whoever publishes metrics (and for tests). Each is a
// monotonic count, updated with relaxed atomics: read them with load(std::memory_order_relaxed);
// they order nothing.
#include <atomic>
#include <cstdint>

namespace kinesd::storage {

struct storage_counters {
    // Segments found corrupt (at open, or by a read) whose rest is no longer served, plus
    // segment files that could not be opened at all.
    std::atomic<std::uint64_t> quarantined_segments{0};
    // Appends that failed (nothing of them was published): ENOSPC/EDQUOT, and other errors.
    std::atomic<std::uint64_t> append_no_space{0};
    std::atomic<std::uint64_t> append_io_errors{0};
    // fsync/fdatasync calls that failed.
    std::atomic<std::uint64_t> sync_errors{0};
    // fsync rounds that ran (group commit: one round covers many appends), and appends that
    // waited for one (fsync=always).
    std::atomic<std::uint64_t> sync_rounds{0};
    std::atomic<std::uint64_t> sync_waits{0};
    // Rounds of the commit pipeline that flushed the logs of several shards with one syncfs.
    std::atomic<std::uint64_t> file_system_syncs{0};
    // Rounds of the commit pipeline that wrote the commit journal (one fdatasync of it), and
    // the journal's checkpoints (one syncfs each, before a lap starts again at offset 0).
    std::atomic<std::uint64_t> journal_writes{0};
    std::atomic<std::uint64_t> journal_checkpoints{0};
};

storage_counters& counters();

}  // namespace kinesd::storage
