#include "kinesd/shard/hash_key.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace kinesd {
namespace {

uint128 dec(std::string_view text) { return parse_decimal_u128(text).value(); }

TEST(hash_key, parse_accepts_the_full_range) {
    EXPECT_EQ(hash_key::parse("0"), hash_key{0});
    EXPECT_EQ(hash_key::parse("1"), hash_key{1});
    EXPECT_EQ(hash_key::parse("340282366920938463463374607431768211455"), hash_key{uint128_max});
}

TEST(hash_key, parse_rejects_2_pow_128_and_above) {
    EXPECT_EQ(hash_key::parse("340282366920938463463374607431768211456"), std::nullopt);
    EXPECT_EQ(hash_key::parse("999999999999999999999999999999999999999"), std::nullopt);
    EXPECT_EQ(hash_key::parse("3402823669209384634633746074317682114550"), std::nullopt);
}

TEST(hash_key, parse_rejects_non_canonical_text) {
    EXPECT_EQ(hash_key::parse(""), std::nullopt);
    EXPECT_EQ(hash_key::parse("abc"), std::nullopt);
    EXPECT_EQ(hash_key::parse("12a"), std::nullopt);
    EXPECT_EQ(hash_key::parse("-1"), std::nullopt);
    EXPECT_EQ(hash_key::parse("+1"), std::nullopt);
    EXPECT_EQ(hash_key::parse(" 1"), std::nullopt);
    EXPECT_EQ(hash_key::parse("1.0"), std::nullopt);
    // The API pattern 0|([1-9]\d{0,38}) has no leading zeros.
    EXPECT_EQ(hash_key::parse("00"), std::nullopt);
    EXPECT_EQ(hash_key::parse("01"), std::nullopt);
    EXPECT_EQ(hash_key::parse("0340282366920938463463374607431768211455"), std::nullopt);
}

TEST(hash_key, str_is_decimal) {
    EXPECT_EQ(hash_key{0}.str(), "0");
    EXPECT_EQ(hash_key{uint128_max}.str(), "340282366920938463463374607431768211455");
    auto k = hash_key::parse("113427455640312821154458202477256070485").value();
    EXPECT_EQ(k.str(), "113427455640312821154458202477256070485");
}

// Expected values computed with python3: int(hashlib.md5(key).hexdigest(), 16).
TEST(hash_key, partition_key_is_md5_read_big_endian) {
    // md5(b"") = d41d8cd98f00b204e9800998ecf8427e
    EXPECT_EQ(hash_key::of_partition_key("").str(), "281949768489412648962353822266799178366");
    // md5(b"a") = 0cc175b9c0f1b6a831c399e269772661
    EXPECT_EQ(hash_key::of_partition_key("a").str(), "16955237001963240173058271559858726497");
    // md5(b"partition-key-1") = 1919e33a21e68e961f03b16ba66b2376
    EXPECT_EQ(hash_key::of_partition_key("partition-key-1").str(),
              "33365116028791453877729010807000998774");
    // md5("ключ".encode("utf-8")) = c3657b66c60a307292aae11f07b04ae7
    EXPECT_EQ(hash_key::of_partition_key("\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87").str(),
              "259726384039714788407059515981389908711");
    // md5(b"x" * 256) = c7a139a2b8e92164276f778917ba10b9 (the API's longest partition key)
    EXPECT_EQ(hash_key::of_partition_key(std::string(256, 'x')).str(),
              "265353499944959180620795534685136097465");
}

TEST(hash_key, partition_key_bytes_are_hashed_verbatim) {
    // Embedded NUL is part of the key; md5(b"a\0") differs from md5(b"a").
    EXPECT_NE(hash_key::of_partition_key(std::string_view("a\0", 2)),
              hash_key::of_partition_key("a"));
}

TEST(hash_key, partition_key_hashing_is_thread_safe) {
    const std::string expected = "16955237001963240173058271559858726497";  // md5(b"a"), as above
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2000; ++i) {
                if (hash_key::of_partition_key("a").str() != expected) ++mismatches[t];
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(hash_key, bytes_are_big_endian) {
    hash_key k{(uint128{0x0102030405060708ull} << 64) | 0x090a0b0c0d0e0f10ull};
    std::byte out[16];
    k.to_bytes(out);
    for (int i = 0; i < 16; ++i) EXPECT_EQ(out[i], std::byte(i + 1)) << "byte " << i;
    EXPECT_EQ(hash_key::from_bytes(out), k);
}

TEST(hash_key, bytes_round_trip) {
    for (uint128 v : {uint128{0}, uint128{1}, uint128_max, uint128{1} << 127,
                      dec("113427455640312821154458202477256070485")}) {
        std::byte out[16];
        hash_key{v}.to_bytes(out);
        EXPECT_EQ(hash_key::from_bytes(out).value, v);
    }
}

TEST(hash_key, ordering_is_numeric) {
    EXPECT_LT(hash_key{1}, hash_key{2});
    EXPECT_LT(hash_key{uint128{1} << 64}, hash_key{uint128_max});
    EXPECT_EQ(hash_key{5}, hash_key{5});
}

TEST(hash_range, contains_is_inclusive) {
    hash_range r{10, 20};
    EXPECT_FALSE(r.contains(9));
    EXPECT_TRUE(r.contains(10));
    EXPECT_TRUE(r.contains(20));
    EXPECT_FALSE(r.contains(21));
    EXPECT_TRUE(hash_range{}.contains(0));
    EXPECT_TRUE(hash_range{}.contains(uint128_max));
}

// The ranges tile 0..2^128-1 in order with no gap or overlap; all but the last have the same
// size floor(2^128 / n), and the last one takes the remainder.
void expect_even_tiling(std::uint32_t n) {
    auto ranges = split_evenly(n);
    ASSERT_EQ(ranges.size(), n);
    EXPECT_EQ(ranges.front().start, 0u);
    EXPECT_EQ(ranges.back().end, uint128_max);
    const uint128 step = ranges.front().end + 1;
    for (std::uint32_t i = 0; i < n; ++i) {
        ASSERT_LE(ranges[i].start, ranges[i].end) << "range " << i;
        EXPECT_EQ(ranges[i].start, step * i) << "range " << i;
        if (i + 1 < n) {
            EXPECT_EQ(ranges[i + 1].start, ranges[i].end + 1) << "range " << i;
            EXPECT_EQ(ranges[i].end - ranges[i].start + 1, step) << "range " << i;
        }
    }
    // step is floor(2^128 / n): n * step <= 2^128 < n * (step + 1), i.e. the last range is at
    // least a step and less than two steps long.
    uint128 last_size_minus_1 = ranges.back().end - ranges.back().start;
    EXPECT_GE(last_size_minus_1, step - 1);
    EXPECT_LT(last_size_minus_1 - (step - 1), uint128{n});
}

TEST(split_evenly, one_shard_covers_everything) {
    auto ranges = split_evenly(1);
    ASSERT_EQ(ranges.size(), 1u);
    EXPECT_EQ(ranges[0], (hash_range{0, uint128_max}));
}

TEST(split_evenly, tiles_the_key_space) {
    for (std::uint32_t n : {2u, 3u, 7u, 500u}) {
        SCOPED_TRACE(n);
        expect_even_tiling(n);
    }
}

// Values AWS returns for CreateStream with ShardCount 2 and 3.
TEST(split_evenly, matches_aws_for_two_shards) {
    auto ranges = split_evenly(2);
    ASSERT_EQ(ranges.size(), 2u);
    EXPECT_EQ(to_decimal(ranges[0].end), "170141183460469231731687303715884105727");
    EXPECT_EQ(to_decimal(ranges[1].start), "170141183460469231731687303715884105728");
    EXPECT_EQ(ranges[1].end, uint128_max);
}

TEST(split_evenly, matches_aws_for_three_shards) {
    auto ranges = split_evenly(3);
    ASSERT_EQ(ranges.size(), 3u);
    EXPECT_EQ(ranges[0].start, 0u);
    EXPECT_EQ(to_decimal(ranges[0].end), "113427455640312821154458202477256070484");
    EXPECT_EQ(to_decimal(ranges[1].start), "113427455640312821154458202477256070485");
    EXPECT_EQ(to_decimal(ranges[1].end), "226854911280625642308916404954512140969");
    EXPECT_EQ(to_decimal(ranges[2].start), "226854911280625642308916404954512140970");
    EXPECT_EQ(ranges[2].end, uint128_max);
}

// Computed with python3: s = 2**128 // n; first end = s - 1, last start = (n - 1) * s.
TEST(split_evenly, matches_floor_division_for_seven_and_five_hundred) {
    auto seven = split_evenly(7);
    EXPECT_EQ(to_decimal(seven[0].end), "48611766702991209066196372490252601635");
    EXPECT_EQ(to_decimal(seven[6].start), "291670600217947254397178234941515609816");
    auto five_hundred = split_evenly(500);
    EXPECT_EQ(to_decimal(five_hundred[0].end), "680564733841876926926749214863536421");
    EXPECT_EQ(to_decimal(five_hundred[499].start), "339601802187096586536447858216904674578");
}

TEST(split_evenly, every_partition_key_lands_in_exactly_one_range) {
    auto ranges = split_evenly(7);
    for (int i = 0; i < 200; ++i) {
        auto k = hash_key::of_partition_key("key-" + std::to_string(i));
        int hits = 0;
        for (const auto& r : ranges) hits += r.contains(k.value) ? 1 : 0;
        EXPECT_EQ(hits, 1) << i;
    }
}

TEST(split_evenly, zero_shards_is_an_error) {
    EXPECT_THROW(split_evenly(0), std::invalid_argument);
}

}  // namespace
}  // namespace kinesd
