#pragma once
// The per-stream families of /metrics, read from the shards' counters (shard_metrics) of every
// stream in the registry at scrape time:
//   kinesd_incoming_records_total, kinesd_incoming_bytes_total, kinesd_outgoing_records_total,
//   kinesd_outgoing_bytes_total, kinesd_write_provisioned_throughput_exceeded_total,
//   kinesd_read_provisioned_throughput_exceeded_total  (counters)
//   kinesd_iterator_age_milliseconds, kinesd_stream_disk_bytes, kinesd_stream_open_shards (gauges)
// Labels: region and stream; for a stream with enhanced (shard-level) monitoring of a metric,
// that metric has one series per shard with a shard label instead of one per stream, so
// sum by (stream) is right either way. Counters of a deleted stream disappear with it.
#include <string>

namespace kinesd {
class stream_registry;
}

namespace kinesd::metrics {

void render_stream_metrics(const stream_registry& streams, std::string& out);

}  // namespace kinesd::metrics
