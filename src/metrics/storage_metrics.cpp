#include "kinesd/metrics/storage_metrics.hpp"

#include "kinesd/metrics/prometheus.hpp"
#include "kinesd/storage/counters.hpp"

namespace kinesd::metrics {
namespace {

std::uint64_t read(const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); }

}  // namespace

void render_storage_metrics(std::string& out) {
    const auto& c = storage::counters();
    write_family(out, "kinesd_storage_quarantined_segments_total", "counter",
                 "Corrupt or unreadable segments whose rest is no longer served (kept on disk).");
    write_sample(out, "kinesd_storage_quarantined_segments_total", {}, read(c.quarantined_segments));
    write_family(out, "kinesd_storage_append_failures_total", "counter",
                 "Appends that failed and wrote nothing visible (InternalFailure), by reason.");
    write_sample(out, "kinesd_storage_append_failures_total", {{"reason", "no_space"}},
                 read(c.append_no_space));
    write_sample(out, "kinesd_storage_append_failures_total", {{"reason", "io_error"}},
                 read(c.append_io_errors));
    write_family(out, "kinesd_storage_fsync_failures_total", "counter",
                 "fsync calls that failed; the puts they covered were not acknowledged.");
    write_sample(out, "kinesd_storage_fsync_failures_total", {}, read(c.sync_errors));
    write_family(out, "kinesd_storage_fsync_rounds_total", "counter",
                 "fsync rounds run (group commit: one round covers every put waiting for it).");
    write_sample(out, "kinesd_storage_fsync_rounds_total", {}, read(c.sync_rounds));
    write_family(out, "kinesd_storage_fsync_waits_total", "counter",
                 "Puts that waited for an fsync before being acknowledged (--fsync always).");
    write_sample(out, "kinesd_storage_fsync_waits_total", {}, read(c.sync_waits));
    write_family(out, "kinesd_storage_file_system_syncs_total", "counter",
                 "fsync rounds that flushed the logs of several shards with one syncfs.");
    write_sample(out, "kinesd_storage_file_system_syncs_total", {}, read(c.file_system_syncs));
    write_family(out, "kinesd_storage_journal_writes_total", "counter",
                 "fsync rounds that made the puts of their shard logs durable with one write and "
                 "fdatasync of the commit journal.");
    write_sample(out, "kinesd_storage_journal_writes_total", {}, read(c.journal_writes));
    write_family(
        out, "kinesd_storage_journal_checkpoints_total", "counter",
        "Checkpoints of the commit journal (one syncfs before it is reused from its start).");
    write_sample(out, "kinesd_storage_journal_checkpoints_total", {}, read(c.journal_checkpoints));
}

}  // namespace kinesd::metrics
