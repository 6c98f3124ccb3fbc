#pragma once
// Token buckets as AWS meters a shard's throughput: a bucket refills continuously at `rate`
// units per second up to `burst` units (AWS: one second's worth, so short bursts pass), starts
// full, and a take succeeds only when the tokens are there. charge() takes what was used even
// when there is less (a GetRecords call may return up to 10 MiB): the balance goes negative and
// later takes fail until refilling has repaid it.
//
// The state is one atomic word, the time at which the bucket is full again (the "theoretical
// arrival time" of GCRA, which is the same algorithm): a bucket is lock-free, thread-safe,
// 8 bytes, and never allocates. The limits are passed to every call rather than stored, since
// they are the server's configuration and the same for every shard.
#include <atomic>
#include <cstdint>

#include "kinesd/common/clock.hpp"

namespace kinesd::throttle {

struct bucket_limits {
    double rate = 1;      // units per second; must be > 0
    double burst = 1;     // capacity in units; must be > 0
    double max_debt = 0;  // how far below zero charge() and an oversized take may go
};

class token_bucket {
public:
    // Tokens at `now`: at most burst, negative while in debt.
    double available(const bucket_limits& limits, epoch_ms now) const;

    // Takes n tokens when there are at least n. A take larger than the whole bucket (n > burst:
    // a record above 1 MiB) succeeds only from a full bucket and leaves it in debt, which is how
    // AWS lets a shard "burst up to 10 MiB while averaging 1 MiB/s" for large records.
    bool try_take(const bucket_limits& limits, double n, epoch_ms now);

    // Takes n tokens whatever the balance; the balance stops at -max_debt.
    void charge(const bucket_limits& limits, double n, epoch_ms now);

    // Returns n tokens taken by try_take() (when a companion bucket refused the same request).
    void give_back(const bucket_limits& limits, double n);

private:
    // Nanoseconds since the epoch at which the bucket holds `burst` tokens again; at or before
    // now means full. A value further ahead than the largest possible debt can only come from
    // the clock having gone back (the admin API's reset): the bucket then counts as full.
    std::atomic<std::int64_t> full_at_ns_{0};
};

}  // namespace kinesd::throttle
