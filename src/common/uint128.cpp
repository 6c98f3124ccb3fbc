#include "kinesd/common/uint128.hpp"

#include <cstddef>

namespace kinesd {

namespace {

// 10^19, the largest power of ten that fits in 64 bits: to_decimal() splits the value into
// 19-digit chunks so that only two 128-bit divisions are needed instead of one per digit.
constexpr std::uint64_t ten_pow_19 = 10'000'000'000'000'000'000ull;

// Writes exactly `width` digits of v (zero-padded) ending just before `end`; returns the new
// beginning.
char* write_padded(std::uint64_t v, int width, char* end) {
    for (int i = 0; i < width; ++i) {
        *--end = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    return end;
}

char* write_unpadded(std::uint64_t v, char* end) {
    do {
        *--end = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return end;
}

// parse_decimal_u128 overflow guard, computed at compile time so parsing never divides.
constexpr uint128 max_div_10 = uint128_max / 10;
constexpr unsigned max_mod_10 = static_cast<unsigned>(uint128_max % 10);

}  // namespace

void append_decimal(std::string& out, uint128 v) {
    // 2^128 - 1 has 39 digits.
    char buf[39];
    char* const end = buf + sizeof buf;
    char* p = end;
    if (v >> 64 == 0) {
        p = write_unpadded(static_cast<std::uint64_t>(v), end);
    } else {
        auto low = static_cast<std::uint64_t>(v % ten_pow_19);
        v /= ten_pow_19;
        p = write_padded(low, 19, p);
        if (v >> 64 == 0) {
            p = write_unpadded(static_cast<std::uint64_t>(v), p);
        } else {
            auto mid = static_cast<std::uint64_t>(v % ten_pow_19);
            v /= ten_pow_19;  // now below 2^128 / 10^38 < 4: a single digit
            p = write_padded(mid, 19, p);
            p = write_unpadded(static_cast<std::uint64_t>(v), p);
        }
    }
    out.append(p, static_cast<std::size_t>(end - p));
}

std::string to_decimal(uint128 v) {
    std::string out;
    append_decimal(out, v);
    return out;
}

std::optional<uint128> parse_decimal_u128(std::string_view text) {
    if (text.empty()) return std::nullopt;
    uint128 v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        auto digit = static_cast<unsigned>(c - '0');
        if (v > max_div_10 || (v == max_div_10 && digit > max_mod_10)) return std::nullopt;
        v = v * 10 + digit;
    }
    return v;
}

}  // namespace kinesd
