#include "kinesd/common/uint128.hpp"

#include <algorithm>

namespace kinesd {

std::string to_decimal(uint128 v) {
    if (v == 0) return "0";
    char buf[40];
    int i = 0;
    while (v != 0) {
        buf[i++] = static_cast<char>('0' + static_cast<int>(v % 10));
        v /= 10;
    }
    std::string out(buf, buf + i);
    std::reverse(out.begin(), out.end());
    return out;
}

std::optional<uint128> parse_decimal_u128(std::string_view text) {
    if (text.empty()) return std::nullopt;
    uint128 v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        unsigned digit = static_cast<unsigned>(c - '0');
        if (v > (uint128_max - digit) / 10) return std::nullopt;
        v = v * 10 + digit;
    }
    return v;
}

}  // namespace kinesd
