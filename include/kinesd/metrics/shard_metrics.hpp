#pragma once
// The counters of one shard, mirroring the shard-level CloudWatch metrics Kinesis publishes
// (IncomingRecords, IncomingBytes, OutgoingRecords, OutgoingBytes, IteratorAgeMilliseconds; the
// throttling counts live with the token buckets, in throttle::shard_throughput, and are read
// from there). Each shard owns one (shard::metrics()),
// so the data path updates them through a pointer it already holds: relaxed atomic adds, no lock,
// no allocation, no lookup. The object fills its own cache line so that counting on one shard
// does not slow down writers of its neighbours.
//
// Thread-safety: every member function may be called from any thread. A snapshot reads each
// counter atomically but not all of them at one instant (fine for monitoring).
#include <atomic>
#include <cstdint>

#include "kinesd/common/clock.hpp"

namespace kinesd::metrics {

struct shard_metrics_snapshot {
    std::uint64_t incoming_records = 0;
    std::uint64_t incoming_bytes = 0;   // decoded data bytes of records written
    std::uint64_t outgoing_records = 0;
    std::uint64_t outgoing_bytes = 0;   // data bytes of records returned by GetRecords
    std::uint64_t write_throttled_records = 0;  // from throttle::shard_throughput::write_throttled
    std::uint64_t read_throttled_calls = 0;     // from throttle::shard_throughput::read_throttled
    std::int64_t iterator_age_ms = 0;  // age of the last record of the latest GetRecords (0: none)
};

class alignas(64) shard_metrics {
public:
    // Records successfully written (PutRecord, PutRecords); bytes are the records' data bytes.
    void add_incoming(std::uint64_t records, std::uint64_t bytes) noexcept {
        incoming_records_.fetch_add(records, std::memory_order_relaxed);
        incoming_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    }

    // One GetRecords answer: records and data bytes returned, and the age (now - arrival) of
    // the last record returned, 0 when the answer was empty (the consumer is caught up).
    void add_outgoing(std::uint64_t records, std::uint64_t bytes, std::int64_t iterator_age_ms) noexcept {
        outgoing_records_.fetch_add(records, std::memory_order_relaxed);
        outgoing_bytes_.fetch_add(bytes, std::memory_order_relaxed);
        iterator_age_ms_.store(iterator_age_ms, std::memory_order_relaxed);
    }

    // True for at most one caller per `interval_ms` window: claims the right to log a warning
    // about this shard at `now`. Lock-free (one CAS).
    bool claim_warning(epoch_ms now, std::int64_t interval_ms = 1000) noexcept {
        epoch_ms last = last_warning_ms_.load(std::memory_order_relaxed);
        if (last != never && now - last < interval_ms) return false;
        return last_warning_ms_.compare_exchange_strong(last, now, std::memory_order_relaxed);
    }

    // The throttle fields are left 0: the caller fills them from the shard's throughput meter.
    shard_metrics_snapshot snapshot() const noexcept {
        shard_metrics_snapshot s;
        s.incoming_records = incoming_records_.load(std::memory_order_relaxed);
        s.incoming_bytes = incoming_bytes_.load(std::memory_order_relaxed);
        s.outgoing_records = outgoing_records_.load(std::memory_order_relaxed);
        s.outgoing_bytes = outgoing_bytes_.load(std::memory_order_relaxed);
        s.iterator_age_ms = iterator_age_ms_.load(std::memory_order_relaxed);
        return s;
    }

private:
    static constexpr epoch_ms never = INT64_MIN;

    std::atomic<std::uint64_t> incoming_records_{0};
    std::atomic<std::uint64_t> incoming_bytes_{0};
    std::atomic<std::uint64_t> outgoing_records_{0};
    std::atomic<std::uint64_t> outgoing_bytes_{0};
    std::atomic<std::int64_t> iterator_age_ms_{0};
    std::atomic<epoch_ms> last_warning_ms_{never};
};

}  // namespace kinesd::metrics
