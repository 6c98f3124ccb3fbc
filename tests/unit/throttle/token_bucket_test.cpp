#include "kinesd/throttle/token_bucket.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using namespace kinesd;
using namespace kinesd::throttle;

namespace {

constexpr epoch_ms t0 = 1'700'000'000'000;
constexpr double mib = 1 << 20;

}  // namespace

TEST(token_bucket, starts_full_and_refills_at_configured_rate) {
    const bucket_limits in{1e6, 1e6, 0};  // rate per second, burst
    token_bucket b;
    EXPECT_DOUBLE_EQ(b.available(in, t0), 1e6);
    EXPECT_TRUE(b.try_take(in, 1e6, t0));
    EXPECT_FALSE(b.try_take(in, 1e6, t0 + 500));  // half refilled
    EXPECT_NEAR(b.available(in, t0 + 500), 5e5, 1);
    EXPECT_TRUE(b.try_take(in, 1e6, t0 + 1000));
}

TEST(token_bucket, steady_rate_passes_and_anything_above_it_fails) {
    const bucket_limits calls{5, 5, 0};
    token_bucket b;
    EXPECT_TRUE(b.try_take(calls, 5, t0));  // the initial burst
    // Then exactly one call per 200 ms, for a minute: every one passes, none early.
    for (int i = 1; i <= 300; ++i) {
        EXPECT_FALSE(b.try_take(calls, 1, t0 + i * 200 - 1)) << i;
        EXPECT_TRUE(b.try_take(calls, 1, t0 + i * 200)) << i;
    }
}

TEST(token_bucket, burst_is_one_bucket_and_no_more) {
    const bucket_limits records{1000, 1000, 0};
    token_bucket b;
    int passed = 0;
    for (int i = 0; i < 1500; ++i) passed += b.try_take(records, 1, t0);
    EXPECT_EQ(passed, 1000);
    // Idle time does not bank more than one bucket.
    passed = 0;
    for (int i = 0; i < 1500; ++i) passed += b.try_take(records, 1, t0 + 60'000);
    EXPECT_EQ(passed, 1000);
}

TEST(token_bucket, a_refused_take_takes_nothing) {
    const bucket_limits bytes{mib, mib, 0};
    token_bucket b;
    EXPECT_TRUE(b.try_take(bytes, 0.75 * mib, t0));
    EXPECT_FALSE(b.try_take(bytes, 0.5 * mib, t0));
    EXPECT_TRUE(b.try_take(bytes, 0.25 * mib, t0));
    EXPECT_FALSE(b.try_take(bytes, 1, t0));
}

TEST(token_bucket, charge_goes_negative_and_blocks_until_repaid) {
    const bucket_limits reads{2 * mib, 2 * mib, 10 * mib};
    token_bucket b;
    b.charge(reads, 10 * mib, t0);  // one GetRecords returned 10 MiB
    EXPECT_NEAR(b.available(reads, t0), -8 * mib, 1);
    EXPECT_LT(b.available(reads, t0 + 3999), 0);
    EXPECT_FALSE(b.try_take(reads, 1, t0 + 3999));
    EXPECT_NEAR(b.available(reads, t0 + 4000), 0, 1);
    EXPECT_TRUE(b.try_take(reads, 1024, t0 + 4001));
    // Refilled to the full burst and no further.
    EXPECT_DOUBLE_EQ(b.available(reads, t0 + 60'000), 2 * mib);
}

TEST(token_bucket, debt_stops_at_max_debt) {
    const bucket_limits reads{2 * mib, 2 * mib, 10 * mib};
    token_bucket b;
    for (int i = 0; i < 10; ++i) b.charge(reads, 10 * mib, t0);
    EXPECT_NEAR(b.available(reads, t0), -10 * mib, 1);
    EXPECT_NEAR(b.available(reads, t0 + 6000), 2 * mib, 1);
}

TEST(token_bucket, an_oversized_take_needs_a_full_bucket_and_leaves_debt) {
    const bucket_limits bytes{mib, mib, 10 * mib};
    token_bucket b;
    EXPECT_TRUE(b.try_take(bytes, 1, t0));
    EXPECT_FALSE(b.try_take(bytes, 4 * mib, t0));  // not full
    EXPECT_TRUE(b.try_take(bytes, 4 * mib, t0 + 1000));
    EXPECT_NEAR(b.available(bytes, t0 + 1000), -3 * mib, 1);
    EXPECT_FALSE(b.try_take(bytes, 1, t0 + 3999));
    EXPECT_TRUE(b.try_take(bytes, 1, t0 + 4001));
}

TEST(token_bucket, give_back_restores_a_take) {
    const bucket_limits records{1000, 1000, 0};
    token_bucket b;
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.try_take(records, 1, t0));
    EXPECT_FALSE(b.try_take(records, 1, t0));
    b.give_back(records, 1);
    EXPECT_TRUE(b.try_take(records, 1, t0));
    EXPECT_FALSE(b.try_take(records, 1, t0));
}

TEST(token_bucket, a_clock_that_goes_back_does_not_lock_the_bucket) {
    // The admin API can move the clock forward and then reset it: debt recorded at the moved
    // time must not leave the bucket empty for the length of the move.
    const bucket_limits records{1000, 1000, 0};
    token_bucket b;
    const epoch_ms moved = t0 + 90'000'000;
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.try_take(records, 1, moved));
    EXPECT_TRUE(b.try_take(records, 1, t0));
    EXPECT_NEAR(b.available(records, t0), 999, 1e-6);
}

TEST(token_bucket, concurrent_takes_never_exceed_the_bucket) {
    const bucket_limits records{1000, 1000, 0};
    token_bucket b;
    std::atomic<int> passed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i)
                if (b.try_take(records, 1, t0)) passed.fetch_add(1);
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(passed.load(), 1000);
}
