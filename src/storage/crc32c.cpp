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

#ifdef KINESD_CRC32C_X86
__attribute__((target("sse4.2"))) std::uint32_t hardware_update(std::uint32_t c,
                                                                const unsigned char* p,
                                                                std::size_t n) {
#if defined(__x86_64__)
    std::uint64_t c64 = c;
    while (n >= 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);  // x86 is little-endian: the byte order the CRC expects
        c64 = _mm_crc32_u64(c64, word);
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
