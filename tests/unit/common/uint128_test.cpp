#include "kinesd/common/uint128.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kinesd {
namespace {

// 2^64, built without a literal (there are no 128-bit literals).
constexpr uint128 two_64 = uint128{1} << 64;

TEST(uint128, to_decimal_small_values) {
    EXPECT_EQ(to_decimal(0), "0");
    EXPECT_EQ(to_decimal(7), "7");
    EXPECT_EQ(to_decimal(10), "10");
    EXPECT_EQ(to_decimal(18'446'744'073'709'551'615ull), "18446744073709551615");  // 2^64-1
}

TEST(uint128, to_decimal_large_values) {
    // Expected texts from python3: str(2**64), str(10**19), str(10**38), str(2**128-1).
    EXPECT_EQ(to_decimal(two_64), "18446744073709551616");
    EXPECT_EQ(to_decimal(uint128{10'000'000'000'000'000'000ull}), "10000000000000000000");
    uint128 ten_38 = uint128{10'000'000'000'000'000'000ull} * 10'000'000'000'000'000'000ull;
    EXPECT_EQ(to_decimal(ten_38), "100000000000000000000000000000000000000");
    EXPECT_EQ(to_decimal(ten_38 - 1), std::string(38, '9'));
    EXPECT_EQ(to_decimal(uint128_max), "340282366920938463463374607431768211455");
    // Zeros inside a 19-digit chunk must be kept: 10^19 + 1 and 2^64 * 10^19 + 5.
    EXPECT_EQ(to_decimal(uint128{10'000'000'000'000'000'000ull} + 1), "10000000000000000001");
    EXPECT_EQ(to_decimal(two_64 * 10'000'000'000'000'000'000ull + 5),
              "184467440737095516160000000000000000005");
}

TEST(uint128, append_decimal_appends_after_existing_text) {
    std::string out = R"({"SequenceNumber":")";
    append_decimal(out, uint128_max);
    append_decimal(out, 0);
    EXPECT_EQ(out, R"({"SequenceNumber":")"
                   "340282366920938463463374607431768211455"
                   "0");
}

TEST(uint128, parse_accepts_decimal_text) {
    EXPECT_EQ(parse_decimal_u128("0"), uint128{0});
    EXPECT_EQ(parse_decimal_u128("42"), uint128{42});
    EXPECT_EQ(parse_decimal_u128("18446744073709551616"), two_64);
    EXPECT_EQ(parse_decimal_u128("340282366920938463463374607431768211455"), uint128_max);
}

TEST(uint128, parse_accepts_leading_zeros) {
    EXPECT_EQ(parse_decimal_u128("007"), uint128{7});
    EXPECT_EQ(parse_decimal_u128("0000"), uint128{0});
    // Many zeros before the largest value still fit.
    EXPECT_EQ(parse_decimal_u128(std::string(100, '0') + "340282366920938463463374607431768211455"),
              uint128_max);
}

TEST(uint128, parse_rejects_out_of_range) {
    EXPECT_EQ(parse_decimal_u128("340282366920938463463374607431768211456"),
              std::nullopt);  // 2^128
    EXPECT_EQ(parse_decimal_u128("340282366920938463463374607431768211460"), std::nullopt);
    EXPECT_EQ(parse_decimal_u128("999999999999999999999999999999999999999"), std::nullopt);
    EXPECT_EQ(parse_decimal_u128(std::string(40, '1')), std::nullopt);
}

TEST(uint128, parse_rejects_non_digits) {
    EXPECT_EQ(parse_decimal_u128(""), std::nullopt);
    EXPECT_EQ(parse_decimal_u128("-1"), std::nullopt);
    EXPECT_EQ(parse_decimal_u128("+1"), std::nullopt);
    EXPECT_EQ(parse_decimal_u128(" 1"), std::nullopt);
    EXPECT_EQ(parse_decimal_u128("1 "), std::nullopt);
    EXPECT_EQ(parse_decimal_u128("1e5"), std::nullopt);
    EXPECT_EQ(parse_decimal_u128("0x10"), std::nullopt);
    EXPECT_EQ(parse_decimal_u128(std::string_view("1\0"
                                                  "2",
                                                  3)),
              std::nullopt);
}

TEST(uint128, round_trips_through_text) {
    uint128 v = 1;
    for (int i = 0; i < 128; ++i) {
        for (uint128 x : {v - 1, v, v + 1}) {
            EXPECT_EQ(parse_decimal_u128(to_decimal(x)), x) << "bit " << i;
        }
        v <<= 1;
    }
    EXPECT_EQ(parse_decimal_u128(to_decimal(uint128_max)), uint128_max);
}

}  // namespace
}  // namespace kinesd
