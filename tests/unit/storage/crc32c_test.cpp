#include "kinesd/storage/crc32c.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

namespace kinesd::storage {
namespace {

std::vector<std::byte> bytes_of(std::initializer_list<int> values) {
    std::vector<std::byte> out;
    for (int v : values) out.push_back(static_cast<std::byte>(v));
    return out;
}

std::vector<std::byte> filled(std::size_t n, int value) {
    return std::vector<std::byte>(n, static_cast<std::byte>(value));
}

// The check value of the CRC-32C catalogue and the iSCSI vectors of RFC 3720, appendix B.4.
struct known_vector {
    std::vector<std::byte> data;
    std::uint32_t crc;
};

std::vector<known_vector> known_vectors() {
    std::vector<known_vector> v;
    const std::string_view check = "123456789";
    v.push_back({std::vector<std::byte>(reinterpret_cast<const std::byte*>(check.data()),
                                        reinterpret_cast<const std::byte*>(check.data()) + 9),
                 0xE3069283u});
    v.push_back({{}, 0u});
    v.push_back({filled(32, 0x00), 0x8A9136AAu});
    v.push_back({filled(32, 0xFF), 0x62A8AB43u});
    std::vector<std::byte> up, down;
    for (int i = 0; i < 32; ++i) {
        up.push_back(static_cast<std::byte>(i));
        down.push_back(static_cast<std::byte>(31 - i));
    }
    v.push_back({up, 0x46DD794Eu});
    v.push_back({down, 0x113FDB5Cu});
    return v;
}

TEST(crc32c, check_value) { EXPECT_EQ(crc32c(std::string_view("123456789")), 0xE3069283u); }

TEST(crc32c, known_vectors_software) {
    for (const auto& kv : known_vectors()) EXPECT_EQ(crc32c_software(kv.data), kv.crc);
}

TEST(crc32c, known_vectors_hardware) {
    if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
    for (const auto& kv : known_vectors()) EXPECT_EQ(crc32c_hardware(kv.data), kv.crc);
}

TEST(crc32c, known_vectors_dispatch) {
    for (const auto& kv : known_vectors()) EXPECT_EQ(crc32c(kv.data), kv.crc);
}

TEST(crc32c, hardware_and_software_agree_on_every_length_and_alignment) {
    if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
    std::mt19937 rng(42);
    std::vector<std::byte> buf(600);
    for (auto& b : buf) b = static_cast<std::byte>(rng());
    for (std::size_t start = 0; start < 9; ++start)
        for (std::size_t len = 0; start + len <= 300; ++len) {
            auto s = std::span<const std::byte>(buf).subspan(start, len);
            ASSERT_EQ(crc32c_hardware(s), crc32c_software(s)) << start << "+" << len;
        }
}

TEST(crc32c, continues_from_a_previous_value) {
    const std::string_view text = "123456789";
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        const auto first = crc32c(text.substr(0, cut));
        EXPECT_EQ(crc32c(text.substr(cut), first), 0xE3069283u) << cut;
        EXPECT_EQ(crc32c_software(std::as_bytes(std::span(text.substr(cut))),
                                  crc32c_software(std::as_bytes(std::span(text.substr(0, cut))))),
                  0xE3069283u);
    }
}

TEST(crc32c, detects_a_single_bit_flip) {
    auto data = bytes_of({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
    const auto good = crc32c(data);
    for (std::size_t i = 0; i < data.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            data[i] ^= static_cast<std::byte>(1 << bit);
            EXPECT_NE(crc32c(data), good);
            data[i] ^= static_cast<std::byte>(1 << bit);
        }
}

}  // namespace
}  // namespace kinesd::storage
