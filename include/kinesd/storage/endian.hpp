#pragma once
// Little-endian loads and stores at unaligned addresses, for the on-disk formats.
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kinesd/common/uint128.hpp"

namespace kinesd::storage::le {

template <std::integral T>
inline T byte_reversed(T v) {
    using U = std::make_unsigned_t<T>;
    U u = static_cast<U>(v), r = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        r = static_cast<U>(r << 8) | static_cast<U>(u & 0xFFu);
        u = static_cast<U>(u >> 8);
    }
    return static_cast<T>(r);
}

template <std::integral T>
inline T load(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::big) v = byte_reversed(v);
    return v;
}

template <std::integral T>
inline void store(std::byte* p, T v) {
    if constexpr (std::endian::native == std::endian::big) v = byte_reversed(v);
    std::memcpy(p, &v, sizeof v);
}

// 128-bit values: the low 64 bits first.
inline uint128 load_u128(const std::byte* p) {
    return uint128{load<std::uint64_t>(p + 8)} << 64 | load<std::uint64_t>(p);
}

inline void store_u128(std::byte* p, uint128 v) {
    store<std::uint64_t>(p, static_cast<std::uint64_t>(v));
    store<std::uint64_t>(p + 8, static_cast<std::uint64_t>(v >> 64));
}

}  // namespace kinesd::storage::le
