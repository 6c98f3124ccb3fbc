#pragma once
// 128-bit unsigned arithmetic for hash keys and sequence numbers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kinesd {

using uint128 = unsigned __int128;

inline constexpr uint128 uint128_max = ~uint128{0};

// Decimal text of v, no leading zeros ("0" for zero).
std::string to_decimal(uint128 v);

// Appends the decimal text of v to `out`, with no temporary string (answers that list many
// sequence numbers render each one in place).
void append_decimal(std::string& out, uint128 v);

// Parses a non-empty string of decimal digits. Returns nullopt for anything else, including a
// value of 2^128 or more. Leading zeros are accepted.
std::optional<uint128> parse_decimal_u128(std::string_view text);

}  // namespace kinesd
