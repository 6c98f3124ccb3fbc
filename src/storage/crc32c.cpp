#include "kinesd/storage/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define KINESD_CRC32C_X86 1
#endif

namespace kinesd::storage {
namespace {

constexpr std::uint32_t polynomial = 0x82F63B78u;  // reflected Castagnoli

// table[k][b]: CRC of byte b followed by k zero bytes, for slicing-by-8.
constexpr std::array<std::array<std::uint32_t, 256>, 8> make_tables() {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t b = 0; b < 256; ++b) {
        std::uint32_t c = b;
        for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1u) ? polynomial : 0u);
        t[0][b] = c;
    }
    for (std::size_t k = 1; k < 8; ++k)
        for (std::uint32_t b = 0; b < 256; ++b)
            t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
    return t;
}

constexpr auto tables = make_tables();

std::uint32_t load_u32_le(const unsigned char* p) {
    return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
           std::uint32_t{p[3]} << 24;
}

#if defined(KINESD_CRC32C_X86) && defined(__x86_64__)
// The hardware path feeds three independent streams at once (see interleaved_rounds) and then
// joins their CRCs. Joining needs "feed n zero bytes to a CRC register", done here with tables.

// 32-bit CRC registers are polynomials over GF(2) in the reflected order (bit 31 holds x^0, bit 0
// holds x^31), and feeding one zero bit multiplies the register by x modulo the polynomial.
constexpr std::uint32_t times_x(std::uint32_t c) { return (c >> 1) ^ ((c & 1u) ? polynomial : 0u); }

// shift[k][b]: the register after feeding the table's count of zero bytes to the register b << 8k.
using shift_table = std::array<std::array<std::uint32_t, 256>, 4>;

// Feeding zeros is linear over GF(2): zeros(a ^ b) == zeros(a) ^ zeros(b). So its effect on any
// register is the xor of its effect on each set bit, and 4 lookups (one per register byte) replace
// feeding `count` bytes one by one.
constexpr shift_table make_shift_table(std::size_t count) {
    // bit_image[i]: the register after feeding the zeros to the register 1 << i.
    std::array<std::uint32_t, 32> bit_image{};
    std::uint32_t c = 1u << 31;                                                  // x^0
    for (std::size_t i = 0; i < count; ++i) c = (c >> 8) ^ tables[0][c & 0xFF];  // one zero byte
    bit_image[31] = c;
    // 1 << i is (1 << (i + 1)) times x, and multiplying by x commutes with feeding zeros.
    for (int i = 30; i >= 0; --i) bit_image[i] = times_x(bit_image[i + 1]);

    shift_table t{};
    for (std::size_t k = 0; k < 4; ++k)
        for (std::uint32_t b = 0; b < 256; ++b)
            for (std::size_t bit = 0; bit < 8; ++bit)
                if ((b >> bit) & 1u) t[k][b] ^= bit_image[8 * k + bit];
    return t;
}

template <std::size_t count>
constexpr shift_table shift_by_zero_bytes = make_shift_table(count);

// The register after feeding the table's count of zero bytes to register c.
std::uint32_t shift(const shift_table& t, std::uint32_t c) {
    return t[0][c & 0xFF] ^ t[1][(c >> 8) & 0xFF] ^ t[2][(c >> 16) & 0xFF] ^ t[3][c >> 24];
}

std::uint64_t load_u64(const unsigned char* p) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);  // x86 is little-endian: the byte order the CRC expects
    return word;
}

// Block lengths for the interleave, as in Google's crc32c: about 16 KiB, 4 KiB and 1 KiB per round
// of three blocks, each a multiple of 8. Longer blocks spread the cost of a join (two shifts,
// ~15 cycles) over more data; the short one is there so that a record frame of 1 KiB still gets
// a round (3 * 336 = 1008 bytes) instead of running one chain.
constexpr std::size_t long_block = 16 * 1024 / 3 / 64 * 64;  // 5440
constexpr std::size_t medium_block = 4 * 1024 / 3 / 8 * 8;   // 1360
constexpr std::size_t short_block = 1024 / 3 / 8 * 8;        // 336

// Feeds to register c, while at least 3 * block bytes remain, rounds of three consecutive blocks,
// advancing p and shrinking n. crc32 has a latency of 3 cycles but a throughput of one per cycle,
// so one chain of crc32 leaves the unit idle two cycles in three; three independent chains keep it
// busy. The chains for blocks 2 and 3 start from 0, and since feeding is linear,
// feed(r, AB) == zeros(feed(r, A), |B|) ^ feed(0, B), which is how the three results are joined.
template <std::size_t block>
__attribute__((target("sse4.2"))) std::uint64_t interleaved_rounds(std::uint64_t c,
                                                                   const unsigned char*& p,
                                                                   std::size_t& n) {
    static_assert(block % 8 == 0);
    constexpr const shift_table& zeros = shift_by_zero_bytes<block>;
    while (n >= 3 * block) {
        std::uint64_t c1 = 0;
        std::uint64_t c2 = 0;
        for (std::size_t i = 0; i < block; i += 8) {
            c = _mm_crc32_u64(c, load_u64(p + i));
            c1 = _mm_crc32_u64(c1, load_u64(p + block + i));
            c2 = _mm_crc32_u64(c2, load_u64(p + 2 * block + i));
        }
        // crc32 leaves the upper 32 bits of its 64-bit result zero, so the casts lose nothing.
        const auto first_two =
            shift(zeros, static_cast<std::uint32_t>(c)) ^ static_cast<std::uint32_t>(c1);
        c = shift(zeros, first_two) ^ c2;
        p += 3 * block;
        n -= 3 * block;
    }
    return c;
}
#endif

#ifdef KINESD_CRC32C_X86
// Feeds n bytes at p to the register c (no pre/post inversion) and returns the register.
__attribute__((target("sse4.2"))) std::uint32_t hardware_update(std::uint32_t c,
                                                                const unsigned char* p,
                                                                std::size_t n) {
#if defined(__x86_64__)
    std::uint64_t c64 = c;
    c64 = interleaved_rounds<long_block>(c64, p, n);
    c64 = interleaved_rounds<medium_block>(c64, p, n);
    c64 = interleaved_rounds<short_block>(c64, p, n);
    while (n >= 8) {
        c64 = _mm_crc32_u64(c64, load_u64(p));
        p += 8;
        n -= 8;
    }
    c = static_cast<std::uint32_t>(c64);
#endif
    while (n >= 4) {
        std::uint32_t word;
        std::memcpy(&word, p, 4);
        c = _mm_crc32_u32(c, word);
        p += 4;
        n -= 4;
    }
    while (n > 0) {
        c = _mm_crc32_u8(c, *p++);
        --n;
    }
    return c;
}
#endif

std::uint32_t software_update(std::uint32_t c, const unsigned char* p, std::size_t n) {
    while (n >= 8) {
        const std::uint32_t lo = load_u32_le(p) ^ c;
        const std::uint32_t hi = load_u32_le(p + 4);
        c = tables[7][lo & 0xFF] ^ tables[6][(lo >> 8) & 0xFF] ^ tables[5][(lo >> 16) & 0xFF] ^
            tables[4][lo >> 24] ^ tables[3][hi & 0xFF] ^ tables[2][(hi >> 8) & 0xFF] ^
            tables[1][(hi >> 16) & 0xFF] ^ tables[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n > 0) {
        c = (c >> 8) ^ tables[0][(c ^ *p++) & 0xFF];
        --n;
    }
    return c;
}

bool detect_hardware() {
#ifdef KINESD_CRC32C_X86
    return __builtin_cpu_supports("sse4.2");
#else
    return false;
#endif
}

const unsigned char* bytes_of(std::span<const std::byte> data) {
    return reinterpret_cast<const unsigned char*>(data.data());
}

}  // namespace

bool crc32c_hardware_available() {
    static const bool available = detect_hardware();
    return available;
}

std::uint32_t crc32c_software(std::span<const std::byte> data, std::uint32_t crc) {
    return ~software_update(~crc, bytes_of(data), data.size());
}

std::uint32_t crc32c_hardware(std::span<const std::byte> data, std::uint32_t crc) {
#ifdef KINESD_CRC32C_X86
    return ~hardware_update(~crc, bytes_of(data), data.size());
#else
    return crc32c_software(data, crc);
#endif
}

std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc) {
    return crc32c_hardware_available() ? crc32c_hardware(data, crc) : crc32c_software(data, crc);
}

}  // namespace kinesd::storage
