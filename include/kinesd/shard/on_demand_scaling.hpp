#pragma once
// ON_DEMAND capacity: kinesd's model of how AWS grows an on-demand stream (docs/compatibility.md,
// "ON_DEMAND streams"). Demand is measured per stream over windows of server time: the records
// and data bytes its shards accepted, plus the records they refused for throughput (a producer
// that is throttled wanted to write them). A window whose demand exceeded `scale_up_utilization`
// of the capacity of the stream's open shards (each `shard_write_*_per_sec`) doubles the open
// shards, as UpdateShardCount's uniform scaling would, up to `max_open_shards` and the account's
// shard limit. The stream stays ACTIVE meanwhile (AWS scales on-demand streams without an
// UPDATING phase). Streams never shrink, and a hot partition key is still limited by its shard.
//
// The scaler only reads counters the data path keeps anyway (shard_metrics, the throughput
// meter's refusal count), so scaling costs appends nothing.
#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "kinesd/common/clock.hpp"
#include "kinesd/common/periodic_task.hpp"

namespace kinesd {

class stream_registry;

struct on_demand_scaling_policy {
    std::int64_t window_ms = 60'000;         // server time over which demand is measured
    double scale_up_utilization = 0.8;       // of the open shards' write capacity
    std::uint64_t shard_write_bytes_per_sec = 1u << 20;
    std::uint32_t shard_write_records_per_sec = 1000;
    // AWS's default maximum for an on-demand stream: 200 MiB/s of writes, i.e. 200 shards.
    std::uint32_t max_open_shards = 200;
};

struct scaling_event {
    std::string stream_arn;
    std::uint32_t from_shards = 0;
    std::uint32_t to_shards = 0;
};

// One evaluation per call, at the server time given; the stream_registry applies the reshard.
// Thread-safety: one thread at a time (the scaling task, or a test); stream_registry::reshard
// serialises the change with the control plane.
class on_demand_scaler {
public:
    explicit on_demand_scaler(on_demand_scaling_policy policy) : policy_(policy) {}

    // For every ACTIVE ON_DEMAND stream: starts a window when none is running (first sight,
    // after its shards changed, or when the clock went back), and judges a window that has
    // lasted window_ms, scaling the stream when its demand passed the threshold. Returns the
    // scalings made. Errors (a disk error while resharding) are logged, never thrown.
    std::vector<scaling_event> evaluate(stream_registry& streams, epoch_ms now);

private:
    struct window {
        std::uint64_t stream_uid = 0;  // the incarnation measured: a recreated stream restarts
        epoch_ms start_ms = 0;
        std::vector<std::uint32_t> shard_indexes;  // the shard table measured, all shards
        std::uint64_t records = 0, bytes = 0, throttled_records = 0;  // totals at start_ms
    };

    const on_demand_scaling_policy policy_;
    std::unordered_map<std::string, window> windows_;  // by stream ARN
};

// Runs an on_demand_scaler every `interval` of real time on its own thread, at the server
// clock's now (so an admin clock moved forward takes effect within one interval).
class on_demand_scaling_task {
public:
    on_demand_scaling_task(stream_registry& streams, const clock& time, on_demand_scaling_policy policy,
                           std::chrono::milliseconds interval);
    void start() { task_.start(); }
    void stop() { task_.stop(); }

private:
    on_demand_scaler scaler_;  // used by task_'s thread only
    periodic_task task_;
};

}  // namespace kinesd
