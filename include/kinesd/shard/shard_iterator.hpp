#pragma once
// Shard iterators: opaque, tamper-evident tokens (HMAC-SHA256 over their content) that say where
// the next GetRecords of a shard starts. They expire 5 minutes after issue.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kinesd/common/clock.hpp"
#include "kinesd/common/uint128.hpp"

namespace kinesd {

struct iterator_position {
    std::string stream_name;
    std::uint64_t stream_uid = 0;  // the stream's incarnation: a recreated stream has a new one
    std::uint32_t shard_index = 0;
    uint128 after_seq = 0;         // read records with seq > after_seq (0: from the oldest)
    epoch_ms min_arrival_ms = 0;   // skip records that arrived before (AT_TIMESTAMP)
    epoch_ms issued_ms = 0;        // when the iterator was created (expiry counts from here)

    friend bool operator==(const iterator_position&, const iterator_position&) = default;
};

inline constexpr std::int64_t iterator_lifetime_ms = 300'000;

// Holds the HMAC key. Immutable after construction; thread-safe.
class iterator_codec {
public:
    explicit iterator_codec(std::array<std::uint8_t, 32> key) : key_(key) {}

    // URL-safe text that fits the API's ShardIterator constraint (1..512 characters).
    std::string encode(const iterator_position& pos) const;

    // nullopt when the text was not made by encode() with this key, or was altered.
    // Expiry is the caller's check (issued_ms + iterator_lifetime_ms).
    std::optional<iterator_position> decode(std::string_view text) const;

private:
    std::array<std::uint8_t, 32> key_;
};

// 32 random bytes from the kernel (fill_random).
std::array<std::uint8_t, 32> random_iterator_key();

}  // namespace kinesd
