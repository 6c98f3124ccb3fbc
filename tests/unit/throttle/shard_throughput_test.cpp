#include "kinesd/throttle/shard_throughput.hpp"

#include <gtest/gtest.h>

using namespace kinesd;
using namespace kinesd::throttle;

namespace {

constexpr epoch_ms t0 = 1'700'000'000'000;
constexpr std::size_t mib = 1 << 20;
const throughput_limits aws = throughput_limits::per_second(mib, 1000, 2 * mib, 5);

}  // namespace

TEST(shard_throughput, writes_stop_at_1000_records_per_second) {
    shard_throughput s;
    int passed = 0;
    for (int i = 0; i < 1200; ++i) passed += s.admit_record(aws, 10, t0);
    EXPECT_EQ(passed, 1000);
    EXPECT_EQ(s.write_throttled.load(), 200u);
    EXPECT_TRUE(s.admit_record(aws, 10, t0 + 1));  // one record per millisecond refills
}

TEST(shard_throughput, writes_stop_at_1_mib_per_second_counting_each_record) {
    shard_throughput s;
    EXPECT_TRUE(s.admit_record(aws, 512 * 1024, t0));
    EXPECT_TRUE(s.admit_record(aws, 512 * 1024, t0));
    EXPECT_FALSE(s.admit_record(aws, 1, t0));
    EXPECT_EQ(s.write_throttled.load(), 1u);
    EXPECT_TRUE(s.admit_record(aws, 512 * 1024, t0 + 500));
}

TEST(shard_throughput, a_record_refused_for_bytes_does_not_use_a_record_token) {
    // Records are the scarce budget here: 2 per second, 100 bytes per second.
    const auto limits = throughput_limits::per_second(100, 2, 2 * mib, 5);
    shard_throughput s;
    ASSERT_TRUE(s.admit_record(limits, 100, t0));  // 1 record token left, no bytes
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(s.admit_record(limits, 50, t0));
    // Half a second later: 50 bytes and (1 + 1) record tokens, had the refusals taken none.
    EXPECT_TRUE(s.admit_record(limits, 50, t0 + 500));
    EXPECT_TRUE(s.admit_record(limits, 0, t0 + 500));
    EXPECT_FALSE(s.admit_record(limits, 0, t0 + 500));
    EXPECT_EQ(s.write_throttled.load(), 4u);
}

TEST(shard_throughput, five_reads_per_second_then_refused) {
    shard_throughput s;
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(s.admit_read(aws, t0 + i * 10)) << i;
    EXPECT_FALSE(s.admit_read(aws, t0 + 60));
    EXPECT_EQ(s.read_throttled.load(), 1u);
    EXPECT_TRUE(s.admit_read(aws, t0 + 200));
}

TEST(shard_throughput, a_10_mib_read_blocks_reads_until_repaid) {
    shard_throughput s;
    ASSERT_TRUE(s.admit_read(aws, t0));
    s.charge_read(aws, 10 * mib, t0);
    EXPECT_FALSE(s.admit_read(aws, t0 + 1000));
    EXPECT_FALSE(s.admit_read(aws, t0 + 3999));
    EXPECT_TRUE(s.admit_read(aws, t0 + 4001));
    EXPECT_EQ(s.read_throttled.load(), 2u);
}

TEST(shard_throughput, reads_of_2_mib_per_second_pass) {
    shard_throughput s;
    for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(s.admit_read(aws, t0 + i * 1000)) << i;
        s.charge_read(aws, 2 * mib, t0 + i * 1000);
    }
    EXPECT_EQ(s.read_throttled.load(), 0u);
}
