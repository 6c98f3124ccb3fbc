#pragma once
// Warnings about throttling, for the throughput limits (src/api/throttling.cpp) to call when they
// refuse a request: at most one per second per shard, so that a client hammering a hot shard
// cannot flood the log. The refusals themselves are counted by throttle::shard_throughput (and
// exported as kinesd_write/read_provisioned_throughput_exceeded_total). Lock-free; safe on the
// data path.
#include <string_view>

#include "kinesd/common/clock.hpp"
#include "kinesd/metrics/shard_metrics.hpp"

namespace kinesd::metrics {

// A PutRecord or PutRecords entry refused for write throughput on `shard` of `stream`.
void warn_write_throttled(shard_metrics& m, std::string_view stream, std::string_view shard, epoch_ms now);

// A GetRecords call refused for read throughput.
void warn_read_throttled(shard_metrics& m, std::string_view stream, std::string_view shard, epoch_ms now);

}  // namespace kinesd::metrics
