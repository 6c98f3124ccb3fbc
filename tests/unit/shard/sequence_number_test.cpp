#include "kinesd/shard/sequence_number.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kinesd {
namespace {

constexpr epoch_ms t0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
constexpr std::uint32_t max_shard = 0xffff'ffff;
constexpr epoch_ms max_time = (epoch_ms{1} << 48) - 1;

TEST(sequence_number, first_of_lays_out_the_fields) {
    auto s = sequence_number::first_of(7, t0);
    // python3: (2 << 124) | (7 << 92) | (1700000000000 << 44)
    EXPECT_EQ(s.str(), "42535295899809535749187980826146504704");
    EXPECT_TRUE(s.well_formed());
    EXPECT_EQ(s.shard_index(), 7u);
    EXPECT_EQ(s.time_ms(), t0);
    EXPECT_EQ(s.value & ((uint128{1} << 44) - 1), 0u);  // counter 0
}

TEST(sequence_number, shard_index_and_time_round_trip) {
    for (std::uint32_t shard : {0u, 1u, 42u, 2147483647u, max_shard}) {
        for (epoch_ms ms : {epoch_ms{0}, epoch_ms{1}, t0, max_time}) {
            auto s = sequence_number::first_of(shard, ms);
            EXPECT_TRUE(s.well_formed());
            EXPECT_EQ(s.shard_index(), shard);
            EXPECT_EQ(s.time_ms(), ms);
            auto parsed = sequence_number::parse(s.str());
            ASSERT_TRUE(parsed);
            EXPECT_EQ(*parsed, s);
        }
    }
}

TEST(sequence_number, times_outside_48_bits_are_clamped) {
    EXPECT_EQ(sequence_number::first_of(3, -5).time_ms(), 0);
    EXPECT_EQ(sequence_number::first_of(3, max_time + 1).time_ms(), max_time);
    EXPECT_EQ(sequence_number::first_of(3, max_time + 1).shard_index(), 3u);
}

TEST(sequence_number, str_always_has_38_digits) {
    EXPECT_EQ(sequence_number::first_of(0, 0).str().size(), 38u);
    EXPECT_EQ(sequence_number::first_of(0, t0).str().size(), 38u);
    // The largest value of the layout: every field at its maximum.
    auto last = sequence_number::first_of(max_shard, max_time);
    last.value |= (uint128{1} << 44) - 1;
    EXPECT_TRUE(last.well_formed());
    EXPECT_EQ(last.str().size(), 38u);
}

TEST(sequence_number, next_uses_the_clock_when_it_moves_forward) {
    auto a = sequence_number::next(2, 0, t0);
    EXPECT_EQ(a, sequence_number::first_of(2, t0));
    auto b = sequence_number::next(2, a.value, t0 + 1);
    EXPECT_EQ(b, sequence_number::first_of(2, t0 + 1));
    EXPECT_EQ(b.time_ms(), t0 + 1);
}

TEST(sequence_number, next_increases_within_one_millisecond) {
    auto prev = sequence_number::next(2, 0, t0);
    for (int i = 0; i < 1000; ++i) {
        auto s = sequence_number::next(2, prev.value, t0);
        EXPECT_GT(s, prev);
        EXPECT_EQ(s.value, prev.value + 1);
        EXPECT_EQ(s.shard_index(), 2u);
        EXPECT_EQ(s.time_ms(), t0);
        prev = s;
    }
}

TEST(sequence_number, next_increases_when_the_clock_goes_back) {
    auto a = sequence_number::next(5, 0, t0);
    auto b = sequence_number::next(5, a.value, t0 - 10'000);
    EXPECT_GT(b, a);
    EXPECT_EQ(b.time_ms(), t0);  // stays at the latest time seen
    auto c = sequence_number::next(5, b.value, t0 - 1);
    EXPECT_GT(c, b);
    auto d = sequence_number::next(5, c.value, t0 + 1);
    EXPECT_GT(d, c);
    EXPECT_EQ(d, sequence_number::first_of(5, t0 + 1));
}

TEST(sequence_number, a_full_counter_carries_into_the_time) {
    auto full = sequence_number::first_of(1, t0);
    full.value |= (uint128{1} << 44) - 1;
    auto s = sequence_number::next(1, full.value, t0);
    EXPECT_GT(s, full);
    EXPECT_EQ(s, sequence_number::first_of(1, t0 + 1));
}

TEST(sequence_number, shards_never_collide) {
    // Later times of a lower shard still sort below any number of a higher shard.
    auto low = sequence_number::first_of(1, max_time);
    auto high = sequence_number::first_of(2, 0);
    EXPECT_LT(low, high);
    EXPECT_NE(sequence_number::first_of(1, t0), sequence_number::first_of(2, t0));
}

TEST(sequence_number, parse_accepts_decimal_text) {
    EXPECT_EQ(sequence_number::parse("0"), sequence_number{0});
    EXPECT_EQ(sequence_number::parse("5"), sequence_number{5});
    EXPECT_EQ(sequence_number::parse("340282366920938463463374607431768211455"),
              sequence_number{uint128_max});
}

TEST(sequence_number, parse_rejects_other_text) {
    EXPECT_EQ(sequence_number::parse(""), std::nullopt);
    EXPECT_EQ(sequence_number::parse("00"), std::nullopt);
    EXPECT_EQ(sequence_number::parse("0123"), std::nullopt);
    EXPECT_EQ(sequence_number::parse("-1"), std::nullopt);
    EXPECT_EQ(sequence_number::parse("12x"), std::nullopt);
    EXPECT_EQ(sequence_number::parse("340282366920938463463374607431768211456"), std::nullopt);
    // The API allows up to 129 digits, but no such number fits 128 bits.
    EXPECT_EQ(sequence_number::parse("1" + std::string(128, '0')), std::nullopt);
    EXPECT_EQ(sequence_number::parse(std::string(129, '9')), std::nullopt);
    // Real AWS numbers have 56 digits: they do not fit either.
    EXPECT_EQ(sequence_number::parse("49590338271490256608559692538361571095921575989136588898"),
              std::nullopt);
}

TEST(sequence_number, well_formed_checks_the_version) {
    EXPECT_FALSE(sequence_number{0}.well_formed());
    EXPECT_FALSE(sequence_number{5}.well_formed());
    EXPECT_FALSE(sequence_number{uint128{1} << 124}.well_formed());  // version 1
    EXPECT_FALSE(sequence_number{uint128{3} << 124}.well_formed());  // version 3
    EXPECT_FALSE(sequence_number{uint128_max}.well_formed());
    EXPECT_TRUE(sequence_number{uint128{2} << 124}.well_formed());
}

TEST(sequence_number, compares_as_big_integers) {
    auto a = sequence_number::parse("42535295899809535749187980826146504704").value();
    auto b = sequence_number::parse("42535295899809535749187980826146504705").value();
    auto c = sequence_number::parse("9").value();
    EXPECT_LT(a, b);
    EXPECT_LT(c, a);
    EXPECT_EQ(a, sequence_number::first_of(7, t0));
}

}  // namespace
}  // namespace kinesd
