#include "kinesd/common/base64.hpp"

#include <array>
#include <cstdint>

namespace kinesd::base64 {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t invalid = 0xFF;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
    std::array<std::uint8_t, 256> t{};
    for (auto& v : t) v = invalid;
    for (std::uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
    return t;
}
constexpr auto decode_table = make_decode_table();

}  // namespace

std::optional<std::size_t> decode_into(std::string_view in, std::span<std::byte> out) {
    if (in.size() % 4 != 0) return std::nullopt;
    if (in.empty()) return std::size_t{0};
    std::size_t padding = 0;
    if (in[in.size() - 1] == '=') padding = (in[in.size() - 2] == '=') ? 2 : 1;
    const std::size_t full_quads = in.size() / 4 - (padding ? 1 : 0);
    const auto* src = reinterpret_cast<const unsigned char*>(in.data());
    std::byte* dst = out.data();
    for (std::size_t q = 0; q < full_quads; ++q, src += 4) {
        std::uint32_t a = decode_table[src[0]], b = decode_table[src[1]], c = decode_table[src[2]],
                      d = decode_table[src[3]];
        if ((a | b | c | d) & 0x80) return std::nullopt;
        std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
        dst[0] = std::byte(v >> 16);
        dst[1] = std::byte(v >> 8);
        dst[2] = std::byte(v);
        dst += 3;
    }
    if (padding) {
        std::uint32_t a = decode_table[src[0]], b = decode_table[src[1]];
        std::uint32_t c = padding == 1 ? decode_table[src[2]] : 0;
        if ((a | b | c) & 0x80) return std::nullopt;
        std::uint32_t v = (a << 18) | (b << 12) | (c << 6);
        *dst++ = std::byte(v >> 16);
        if (padding == 1) *dst++ = std::byte(v >> 8);
    }
    return static_cast<std::size_t>(dst - out.data());
}

void encode_append(std::span<const std::byte> in, std::string& out) {
    const std::size_t start = out.size();
    out.resize(start + encoded_size(in.size()));
    char* dst = out.data() + start;
    const auto* src = reinterpret_cast<const unsigned char*>(in.data());
    std::size_t n = in.size();
    while (n >= 3) {
        std::uint32_t v = (std::uint32_t(src[0]) << 16) | (std::uint32_t(src[1]) << 8) | src[2];
        dst[0] = alphabet[v >> 18];
        dst[1] = alphabet[(v >> 12) & 63];
        dst[2] = alphabet[(v >> 6) & 63];
        dst[3] = alphabet[v & 63];
        src += 3;
        dst += 4;
        n -= 3;
    }
    if (n) {
        std::uint32_t v = std::uint32_t(src[0]) << 16;
        if (n == 2) v |= std::uint32_t(src[1]) << 8;
        dst[0] = alphabet[v >> 18];
        dst[1] = alphabet[(v >> 12) & 63];
        dst[2] = n == 2 ? alphabet[(v >> 6) & 63] : '=';
        dst[3] = '=';
    }
}

std::string encode(std::string_view raw) {
    std::string out;
    encode_append(std::as_bytes(std::span(raw.data(), raw.size())), out);
    return out;
}

std::optional<std::string> decode(std::string_view encoded) {
    std::string out(max_decoded_size(encoded.size()), '\0');
    auto n = decode_into(encoded, std::as_writable_bytes(std::span(out.data(), out.size())));
    if (!n) return std::nullopt;
    out.resize(*n);
    return out;
}

}  // namespace kinesd::base64
