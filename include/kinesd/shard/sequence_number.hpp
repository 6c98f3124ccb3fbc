#pragma once
// Sequence numbers: decimal strings of a 128-bit value, strictly increasing within a shard and
// unique across a stream, comparable as big integers.
//
// Layout of the value (high to low bits):
//   [127..124] version, always 2     (so every number has 38 decimal digits)
//   [123..92]  shard index           (32 bits: numbers of different shards never collide, and
//                                     the shard a number belongs to can be read back)
//   [91..44]   arrival time, epoch ms (48 bits)
//   [43..0]    counter within that millisecond
// Numbers of one shard increase with time; next() keeps them strictly increasing even when the
// clock stands still or goes back.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kinesd/common/clock.hpp"
#include "kinesd/common/uint128.hpp"

namespace kinesd {

struct sequence_number {
    uint128 value = 0;

    static constexpr unsigned version = 2;

    // The smallest number of shard `shard_index` at time `ms` (counter 0).
    static sequence_number first_of(std::uint32_t shard_index, epoch_ms ms);

    // The number to give the next record of shard `shard_index`, given the shard's last number
    // (0 if none) and now: max(first_of(shard, now), last + 1).
    static sequence_number next(std::uint32_t shard_index, uint128 last, epoch_ms now);

    // Reads "0|[1-9][0-9]{0,128}" text; nullopt when it is not decimal or does not fit 128 bits.
    static std::optional<sequence_number> parse(std::string_view text);
    std::string str() const { return to_decimal(value); }

    // True when the value has our layout (version bits) — numbers of other shapes are refused
    // by AT/AFTER_SEQUENCE_NUMBER with InvalidArgumentException.
    bool well_formed() const;
    std::uint32_t shard_index() const;
    epoch_ms time_ms() const;

    friend auto operator<=>(const sequence_number&, const sequence_number&) = default;
};

}  // namespace kinesd
