#pragma once
// The throughput limits of one shard, as AWS enforces them: writes 1 MiB/s and 1000 records/s
// (a record counts its data plus its partition key), reads 2 MiB/s and 5 GetRecords calls/s.
// Each limit is a token bucket holding one second of capacity. The limits come from the
// configuration (--shard-write-bytes-per-sec, ...), the state lives in each shard.
//
// Thread-safety: every member is lock-free and may be called from any thread; the data path
// adds no lock and no allocation for it (see token_bucket).
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "kinesd/common/clock.hpp"
#include "kinesd/throttle/token_bucket.hpp"

namespace kinesd::throttle {

struct throughput_limits {
    bucket_limits write_bytes;
    bucket_limits write_records;
    bucket_limits read_bytes;
    bucket_limits read_calls;

    // Per-second rates; each bucket holds one second of them. The byte budgets may go into
    // debt by up to 10 MiB: the largest record (UpdateMaxRecordSize) and the largest GetRecords
    // response.
    static throughput_limits per_second(double write_bytes, double write_records, double read_bytes,
                                        double read_calls);
};

class shard_throughput {
public:
    // Admits one record of `bytes` (data plus partition key) to be written at `now`: takes from
    // both write buckets, or from neither. Counts a refusal in write_throttled.
    bool admit_record(const throughput_limits& limits, std::size_t bytes, epoch_ms now);

    // Admits one GetRecords call at `now`: refused while the read budget is in debt or when the
    // calls of the last second are used up. Counts a refusal in read_throttled.
    bool admit_read(const throughput_limits& limits, epoch_ms now);

    // Charges the bytes an admitted GetRecords call returned; the read budget may go negative.
    void charge_read(const throughput_limits& limits, std::size_t bytes, epoch_ms now);

    // Records (PutRecord, PutRecords entries) and GetRecords calls refused by throttling or by
    // an injected throttle, since start. Relaxed counters, for metrics (CloudWatch's
    // WriteProvisionedThroughputExceeded and ReadProvisionedThroughputExceeded).
    std::atomic<std::uint64_t> write_throttled{0};
    std::atomic<std::uint64_t> read_throttled{0};

private:
    token_bucket write_bytes_;
    token_bucket write_records_;
    token_bucket read_bytes_;
    token_bucket read_calls_;
};

}  // namespace kinesd::throttle
