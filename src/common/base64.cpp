#include "kinesd/common/base64.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

#if defined(__x86_64__)
// AVX2 decoding (Muła and Lemire, 2018): 32 characters -> 24 bytes per step, about 1
// instruction per character against 7 for the table loop; PutRecord(s) spend a third of their
// time decoding Data. Each step stores 32 bytes (8 past the 24 it produces), so it runs only
// while 48 characters remain: the output span (max_decoded_size) then has room, and the last
// quad, which may hold padding, is always left to the scalar loop. A step that meets a
// character outside the alphabet stops without consuming; the scalar loop then rejects it.
// Returns the characters consumed (a multiple of 32); `dst` receives 3/4 of that.
__attribute__((target("avx2"))) std::size_t decode_avx2(const unsigned char* src, std::size_t n, std::byte* dst) {
    // Validity by nibbles: a character is in the alphabet iff lut_lo[low] & lut_hi[high] == 0.
    const __m256i lut_lo = _mm256_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                            0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A,
                                            0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                            0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
    const __m256i lut_hi = _mm256_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10,
                                            0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
                                            0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10,
                                            0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
    // What to add to a character to get its 6-bit value, by high nibble ('/' apart).
    const __m256i lut_roll = _mm256_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0,
                                              0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i mask_2f = _mm256_set1_epi8(0x2f);
    // The 3 bytes of each 32-bit group, in order, packed to 12 bytes per lane, then 24 in a row.
    const __m256i pack = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
                                          2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, -1, -1);
    std::size_t done = 0;
    while (n - done >= 48) {
        __m256i str = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + done));
        const __m256i hi_nibbles = _mm256_and_si256(_mm256_srli_epi32(str, 4), mask_2f);
        const __m256i lo_nibbles = _mm256_and_si256(str, mask_2f);
        const __m256i hi = _mm256_shuffle_epi8(lut_hi, hi_nibbles);
        const __m256i lo = _mm256_shuffle_epi8(lut_lo, lo_nibbles);
        if (!_mm256_testz_si256(lo, hi)) break;
        const __m256i eq_2f = _mm256_cmpeq_epi8(str, mask_2f);
        str = _mm256_add_epi8(str, _mm256_shuffle_epi8(lut_roll, _mm256_add_epi8(eq_2f, hi_nibbles)));
        // Four 6-bit values -> one 24-bit group per 32-bit word.
        const __m256i ab_bc = _mm256_maddubs_epi16(str, _mm256_set1_epi32(0x01400140));
        __m256i out = _mm256_madd_epi16(ab_bc, _mm256_set1_epi32(0x00011000));
        out = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(out, pack), lanes);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), out);
        done += 32;
        dst += 24;
    }
    return done;
}

bool detect_avx2_for_decode() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}
const bool decode_with_avx2 = detect_avx2_for_decode();
#endif

}  // namespace

std::optional<std::size_t> decode_into(std::string_view in, std::span<std::byte> out) {
    if (in.size() % 4 != 0) return std::nullopt;
    if (in.empty()) return std::size_t{0};
    std::size_t padding = 0;
    if (in[in.size() - 1] == '=') padding = (in[in.size() - 2] == '=') ? 2 : 1;
    const std::size_t full_quads = in.size() / 4 - (padding ? 1 : 0);
    const auto* src = reinterpret_cast<const unsigned char*>(in.data());
    std::byte* dst = out.data();
    std::size_t q = 0;
#if defined(__x86_64__)
    if (decode_with_avx2 && in.size() >= 48) {
        const std::size_t done = decode_avx2(src, in.size(), dst);
        src += done;
        dst += done / 4 * 3;
        q = done / 4;
    }
#endif
    for (; q < full_quads; ++q, src += 4) {
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
        // Canonical form only (as AWS): the bits after the last byte must be zero.
        if (padding == 2 ? (b & 0x0F) : (c & 0x03)) return std::nullopt;
        std::uint32_t v = (a << 18) | (b << 12) | (c << 6);
        *dst++ = std::byte(v >> 16);
        if (padding == 1) *dst++ = std::byte(v >> 8);
    }
    return static_cast<std::size_t>(dst - out.data());
}

namespace {

// Two output characters for every 12-bit value: the encoder turns 3 bytes into 2 lookups.
struct pair_table {
    std::array<std::uint16_t, 4096> pairs{};
    pair_table() {
        for (unsigned v = 0; v < 4096; ++v) {
            unsigned char hi = static_cast<unsigned char>(alphabet[v >> 6]);
            unsigned char lo = static_cast<unsigned char>(alphabet[v & 63]);
            // Stored so that a little-endian 16-bit store writes hi then lo.
            pairs[v] = static_cast<std::uint16_t>(hi | (lo << 8));
        }
    }
};
const pair_table encode_pairs;

inline void store_pair(char* dst, std::uint32_t v12) {
    std::memcpy(dst, &encode_pairs.pairs[v12], 2);
}

#if defined(__x86_64__)
// AVX2 (Muła and Lemire, "Faster Base64 Encoding and Decoding using AVX2 Instructions", 2018):
// 24 input bytes -> 32 characters per step, about 0.5 instructions per byte against 4 for the
// table loop below; GetRecords spends most of its time here. Each step reads 28 bytes (two
// 16-byte loads, 12 bytes apart), so it runs only while 32 remain; the rest goes to the scalar
// loop. Returns the bytes consumed; `dst` receives 4/3 of that.
__attribute__((target("avx2"))) std::size_t encode_avx2(const unsigned char* src, std::size_t n, char* dst) {
    // Per 128-bit lane: 12 bytes in; each 32-bit word gets the 3 bytes of one group, ordered
    // (b1, b0, b2, b1) so the shifts below can cut out the four 6-bit values.
    const __m256i shuffle = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
                                             1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
    // Offsets from a 6-bit value to its character, by range: A-Z +65, a-z +71, 0-9 -4, '+' -19, '/' -16.
    const __m256i offsets = _mm256_setr_epi8(65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0,
                                             65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0);
    std::size_t done = 0;
    while (n - done >= 32) {
        const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + done));
        const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + done + 12));
        __m256i in = _mm256_shuffle_epi8(_mm256_set_m128i(hi, lo), shuffle);
        // The four 6-bit values of each group into the four bytes of its word.
        const __m256i t0 = _mm256_mulhi_epu16(_mm256_and_si256(in, _mm256_set1_epi32(0x0fc0fc00)),
                                              _mm256_set1_epi32(0x04000040));
        const __m256i t1 = _mm256_mullo_epi16(_mm256_and_si256(in, _mm256_set1_epi32(0x003f03f0)),
                                              _mm256_set1_epi32(0x01000010));
        in = _mm256_or_si256(t0, t1);
        // Range index: 0 for 0..25, 1 for 26..51, 2..11 for digits, 12 '+', 13 '/'.
        __m256i index = _mm256_subs_epu8(in, _mm256_set1_epi8(51));
        index = _mm256_sub_epi8(index, _mm256_cmpgt_epi8(in, _mm256_set1_epi8(25)));
        const __m256i chars = _mm256_add_epi8(in, _mm256_shuffle_epi8(offsets, index));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), chars);
        done += 24;
        dst += 32;
    }
    return done;
}

bool detect_avx2() {
    __builtin_cpu_init();  // may run before libgcc's own constructor has
    return __builtin_cpu_supports("avx2");
}
const bool have_avx2 = detect_avx2();
#endif

}  // namespace

void encode_append(std::span<const std::byte> in, std::string& out) {
    const std::size_t start = out.size();
    out.resize(start + encoded_size(in.size()));
    char* dst = out.data() + start;
    const auto* src = reinterpret_cast<const unsigned char*>(in.data());
    std::size_t n = in.size();
#if defined(__x86_64__)
    if (have_avx2 && n >= 32) {
        const std::size_t done = encode_avx2(src, n, dst);
        src += done;
        dst += done / 3 * 4;
        n -= done;
    }
#endif
    // 6 bytes -> 8 characters per step, reading 8 bytes at a time while 8 are there.
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, src, 8);
        w = __builtin_bswap64(w);  // the first byte in the top bits
        store_pair(dst, static_cast<std::uint32_t>(w >> 52) & 0xFFF);
        store_pair(dst + 2, static_cast<std::uint32_t>(w >> 40) & 0xFFF);
        store_pair(dst + 4, static_cast<std::uint32_t>(w >> 28) & 0xFFF);
        store_pair(dst + 6, static_cast<std::uint32_t>(w >> 16) & 0xFFF);
        src += 6;
        dst += 8;
        n -= 6;
    }
    while (n >= 3) {
        std::uint32_t v = (std::uint32_t(src[0]) << 16) | (std::uint32_t(src[1]) << 8) | src[2];
        store_pair(dst, v >> 12);
        store_pair(dst + 2, v & 0xFFF);
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
