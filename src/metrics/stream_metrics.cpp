#include "kinesd/metrics/stream_metrics.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kinesd/metrics/prometheus.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::metrics {
namespace {

struct shard_view {
    std::uint32_t index = 0;
    std::string id;
    shard_metrics_snapshot counters;
    std::uint64_t disk_bytes = 0;
};

struct stream_view {
    std::shared_ptr<stream> s;
    std::vector<shard_view> shards;
    std::size_t open_shards = 0;
    shard_metrics_snapshot retired;  // counted by shards no longer in the stream
    nlohmann::json shard_level;  // the EnhancedMonitoring ShardLevelMetrics names

    bool enhanced(std::string_view cloudwatch_name) const {
        if (!shard_level.is_array()) return false;
        for (const auto& m : shard_level)
            if (m.is_string() && (m.get_ref<const std::string&>() == cloudwatch_name ||
                                  m.get_ref<const std::string&>() == "ALL"))
                return true;
        return false;
    }
};

struct family {
    std::string_view name;
    std::string_view type;
    std::string_view help;
    std::string_view cloudwatch_name;  // the shard-level metric that splits it by shard
    std::uint64_t shard_metrics_snapshot::*counter;
};

const family counter_families[] = {
    {"kinesd_incoming_records_total", "counter",
     "Records successfully written by PutRecord and PutRecords (CloudWatch IncomingRecords).",
     "IncomingRecords", &shard_metrics_snapshot::incoming_records},
    {"kinesd_incoming_bytes_total", "counter",
     "Data bytes of the records successfully written (CloudWatch IncomingBytes).", "IncomingBytes",
     &shard_metrics_snapshot::incoming_bytes},
    {"kinesd_outgoing_records_total", "counter",
     "Records returned by GetRecords (CloudWatch OutgoingRecords).", "OutgoingRecords",
     &shard_metrics_snapshot::outgoing_records},
    {"kinesd_outgoing_bytes_total", "counter",
     "Data bytes of the records returned by GetRecords (CloudWatch OutgoingBytes).", "OutgoingBytes",
     &shard_metrics_snapshot::outgoing_bytes},
    {"kinesd_write_provisioned_throughput_exceeded_total", "counter",
     "Records refused with ProvisionedThroughputExceededException "
     "(CloudWatch WriteProvisionedThroughputExceeded).",
     "WriteProvisionedThroughputExceeded", &shard_metrics_snapshot::write_throttled_records},
    {"kinesd_read_provisioned_throughput_exceeded_total", "counter",
     "GetRecords calls refused with ProvisionedThroughputExceededException "
     "(CloudWatch ReadProvisionedThroughputExceeded).",
     "ReadProvisionedThroughputExceeded", &shard_metrics_snapshot::read_throttled_calls},
};

// A stream's counters must not go down when retention drops one of its closed shards (a
// Prometheus counter that decreases reads as a restart). So scrapes remember each shard's last
// snapshot, and when a shard has left the stream its last values join the stream's `retired`
// totals. Scrape path only; the data path never takes this lock.
struct stream_memory {
    std::map<std::uint32_t, shard_metrics_snapshot> last;  // by shard index
    shard_metrics_snapshot retired;
};

void add_counters(shard_metrics_snapshot& to, const shard_metrics_snapshot& from) {
    to.incoming_records += from.incoming_records;
    to.incoming_bytes += from.incoming_bytes;
    to.outgoing_records += from.outgoing_records;
    to.outgoing_bytes += from.outgoing_bytes;
    to.write_throttled_records += from.write_throttled_records;
    to.read_throttled_calls += from.read_throttled_calls;
}

void carry_retired_shards(std::vector<stream_view>& views) {
    static std::mutex mu;
    static std::unordered_map<std::uint64_t, stream_memory> memory;  // by stream uid
    std::lock_guard lock(mu);
    std::unordered_set<std::uint64_t> seen;
    for (auto& v : views) {
        seen.insert(v.s->uid);
        auto& mem = memory[v.s->uid];
        std::map<std::uint32_t, shard_metrics_snapshot> now;
        for (const auto& sh : v.shards) now.emplace(sh.index, sh.counters);
        for (const auto& [index, last] : mem.last)
            if (!now.count(index)) add_counters(mem.retired, last);
        mem.last = std::move(now);
        v.retired = mem.retired;
    }
    std::erase_if(memory, [&](const auto& entry) { return !seen.count(entry.first); });
}

std::vector<stream_view> collect(const stream_registry& streams) {
    std::vector<stream_view> out;
    for (auto& s : streams.all()) {
        stream_view v;
        auto table = s->shards();
        v.open_shards = table->open.size();
        for (const auto& sh : table->all) {
            auto counters = sh->metrics().snapshot();
            counters.write_throttled_records = sh->throughput().write_throttled.load(std::memory_order_relaxed);
            counters.read_throttled_calls = sh->throughput().read_throttled.load(std::memory_order_relaxed);
            v.shards.push_back({sh->info().id.index, sh->info().id.str(), counters, sh->log().disk_bytes()});
        }
        // settings() copies under the stream's metadata lock, which the data path never takes.
        const auto settings = s->settings();
        if (auto it = settings.extra.find("shard_level_metrics"); it != settings.extra.end())
            v.shard_level = *it;
        v.s = std::move(s);
        out.push_back(std::move(v));
    }
    carry_retired_shards(out);
    return out;
}

}  // namespace

void render_stream_metrics(const stream_registry& streams, std::string& out) {
    const auto views = collect(streams);
    for (const auto& f : counter_families) {
        write_family(out, f.name, f.type, f.help);
        for (const auto& v : views) {
            const std::string_view region = v.s->region, name = v.s->name;
            if (v.enhanced(f.cloudwatch_name)) {
                for (const auto& sh : v.shards)
                    write_sample(out, f.name, {{"region", region}, {"stream", name}, {"shard", sh.id}},
                                 sh.counters.*f.counter);
            } else {
                std::uint64_t total = v.retired.*f.counter;
                for (const auto& sh : v.shards) total += sh.counters.*f.counter;
                write_sample(out, f.name, {{"region", region}, {"stream", name}}, total);
            }
        }
    }

    constexpr std::string_view age = "kinesd_iterator_age_milliseconds";
    write_family(out, age, "gauge",
                 "Age of the last record returned by the latest GetRecords call, the largest over "
                 "the stream's shards (CloudWatch GetRecords.IteratorAgeMilliseconds).");
    for (const auto& v : views) {
        const std::string_view region = v.s->region, name = v.s->name;
        if (v.enhanced("IteratorAgeMilliseconds")) {
            for (const auto& sh : v.shards)
                write_sample(out, age, {{"region", region}, {"stream", name}, {"shard", sh.id}},
                             sh.counters.iterator_age_ms);
        } else {
            std::int64_t oldest = 0;
            for (const auto& sh : v.shards) oldest = std::max(oldest, sh.counters.iterator_age_ms);
            write_sample(out, age, {{"region", region}, {"stream", name}}, oldest);
        }
    }

    constexpr std::string_view disk = "kinesd_stream_disk_bytes";
    write_family(out, disk, "gauge", "Bytes the stream's segment files take on disk.");
    for (const auto& v : views) {
        std::uint64_t total = 0;
        for (const auto& sh : v.shards) total += sh.disk_bytes;
        write_sample(out, disk, {{"region", v.s->region}, {"stream", v.s->name}}, total);
    }

    constexpr std::string_view open = "kinesd_stream_open_shards";
    write_family(out, open, "gauge", "Open shards of the stream.");
    for (const auto& v : views)
        write_sample(out, open, {{"region", v.s->region}, {"stream", v.s->name}},
                     static_cast<std::uint64_t>(v.open_shards));
}

}  // namespace kinesd::metrics
