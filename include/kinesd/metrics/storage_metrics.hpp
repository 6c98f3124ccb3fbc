#pragma once
// The storage families of /metrics, read from storage::counters() at scrape time (process-wide
// monotonic counts; see include/kinesd/storage/counters.hpp):
//   kinesd_storage_quarantined_segments_total, kinesd_storage_append_failures_total{reason},
//   kinesd_storage_fsync_failures_total, kinesd_storage_fsync_rounds_total,
//   kinesd_storage_fsync_waits_total  (counters)
#include <string>

namespace kinesd::metrics {

void render_storage_metrics(std::string& out);

}  // namespace kinesd::metrics
