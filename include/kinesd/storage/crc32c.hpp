#pragma once
// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every record frame.
// Standard parameters: initial value ~0, final xor ~0, so crc32c("123456789") == 0xE3069283.
//
// crc32c() uses the SSE4.2 crc32 instruction when the CPU has it (checked once, at first use),
// running three interleaved chains over inputs of 1008 bytes or more, and a slicing-by-8 table
// otherwise; both give identical results. All functions are pure and thread-safe.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace kinesd::storage {

// Checksum of `data`, continuing from `crc` (the result of a previous call over the preceding
// bytes, or 0 to start): crc32c(ab) == crc32c(b, crc32c(a)).
std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc = 0);

inline std::uint32_t crc32c(std::string_view text, std::uint32_t crc = 0) {
    return crc32c(std::as_bytes(std::span(text.data(), text.size())), crc);
}

// The two implementations behind crc32c(), exposed so tests can check both.
std::uint32_t crc32c_software(std::span<const std::byte> data, std::uint32_t crc = 0);
// Precondition: crc32c_hardware_available().
std::uint32_t crc32c_hardware(std::span<const std::byte> data, std::uint32_t crc = 0);
bool crc32c_hardware_available();

}  // namespace kinesd::storage
