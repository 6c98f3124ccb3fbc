#include "kinesd/metrics/shard_metrics.hpp"

#include <gtest/gtest.h>

using namespace kinesd::metrics;

TEST(shard_metrics, counters_add_and_age_is_the_latest) {
    shard_metrics m;
    m.add_incoming(3, 300);
    m.add_incoming(1, 5);
    m.add_outgoing(2, 200, 1500);
    m.add_outgoing(0, 0, 0);
    auto s = m.snapshot();
    EXPECT_EQ(s.incoming_records, 4u);
    EXPECT_EQ(s.incoming_bytes, 305u);
    EXPECT_EQ(s.outgoing_records, 2u);
    EXPECT_EQ(s.outgoing_bytes, 200u);
    EXPECT_EQ(s.iterator_age_ms, 0);  // the latest answer was empty: caught up
}

TEST(shard_metrics, one_warning_per_interval) {
    shard_metrics m;
    const kinesd::epoch_ms t0 = 1'700'000'000'000;
    EXPECT_TRUE(m.claim_warning(t0));
    EXPECT_FALSE(m.claim_warning(t0));
    EXPECT_FALSE(m.claim_warning(t0 + 999));
    EXPECT_TRUE(m.claim_warning(t0 + 1000));
    EXPECT_FALSE(m.claim_warning(t0 + 1500));
    EXPECT_TRUE(m.claim_warning(t0 + 2000));
    EXPECT_EQ(alignof(shard_metrics), 64u);
}
