#pragma once
// Hash keys: 128-bit unsigned integers. A partition key maps to MD5(key) read big-endian.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kinesd/common/uint128.hpp"

namespace kinesd {

struct hash_key {
    uint128 value = 0;

    // Decimal text as in the API ("0".."340282366920938463463374607431768211455").
    // nullopt for anything else (not digits, too large).
    static std::optional<hash_key> parse(std::string_view decimal);
    std::string str() const { return to_decimal(value); }

    // MD5 of the partition key's UTF-8 bytes, read as a 128-bit big-endian integer.
    // Thread-safe, no allocation (~90 ns for a 20-byte key).
    static hash_key of_partition_key(std::string_view partition_key);

    // 16 bytes, big-endian (the on-disk form of an ExplicitHashKey).
    void to_bytes(std::byte out[16]) const;
    static hash_key from_bytes(const std::byte in[16]);

    friend auto operator<=>(const hash_key&, const hash_key&) = default;
};

// An inclusive range of hash keys [start, end].
struct hash_range {
    uint128 start = 0;
    uint128 end = uint128_max;

    bool contains(uint128 v) const { return v >= start && v <= end; }
    friend bool operator==(const hash_range&, const hash_range&) = default;
};

// Splits 0..2^128-1 into n ranges as AWS does for CreateStream: step = floor(2^128 / n),
// range i = [i*step, (i+1)*step - 1], the last one ending at 2^128-1. Requires n >= 1.
std::vector<hash_range> split_evenly(std::uint32_t n);

}  // namespace kinesd
