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

std::vector<std::byte> random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::byte> out(n);
    for (auto& b : out) b = static_cast<std::byte>(rng());
    return out;
}

// The hardware path interleaves three chains over rounds of 3 * 5440, 3 * 1360 and 3 * 336 bytes
// (crc32c.cpp) and joins their results with precomputed tables, taking the largest round that fits
// first. The tests below cover every length up to past the medium round, the lengths around each
// multiple of a round, and enough joins to reach every table entry, with several misalignments and
// starting values.
constexpr std::size_t short_round = 3 * 336;
constexpr std::size_t medium_round = 3 * 1360;
constexpr std::size_t long_round = 3 * 5440;

TEST(crc32c, hardware_and_software_agree_on_every_length_up_to_4200) {
    if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
    const auto buf = random_bytes(4200 + 8, 7);
    for (std::size_t start : {0, 1, 3, 7})
        for (std::uint32_t seed : {0u, 0xE3069283u, 0xFFFFFFFFu})
            for (std::size_t len = 0; start + len <= buf.size(); ++len) {
                auto s = std::span<const std::byte>(buf).subspan(start, len);
                ASSERT_EQ(crc32c_hardware(s, seed), crc32c_software(s, seed))
                    << "start " << start << " len " << len << " seed " << seed;
            }
}

TEST(crc32c, hardware_and_software_agree_around_round_boundaries) {
    if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
    std::vector<std::size_t> lengths;
    for (std::size_t round : {short_round, medium_round, long_round})
        for (std::size_t k = 1; k <= 3; ++k)
            for (std::size_t d = 0; d <= 17; ++d) {
                lengths.push_back(k * round - d);
                lengths.push_back(k * round + d);
            }
    // One long round followed by one of each shorter round and a tail in every lane.
    for (std::size_t d = 0; d < 24; ++d)
        lengths.push_back(long_round + medium_round + short_round + d);
    lengths.push_back(64 * 1024);
    lengths.push_back(1024 * 1024 + 5);

    const auto buf = random_bytes(1024 * 1024 + 5 + 16, 11);
    for (std::size_t len : lengths)
        for (std::size_t start : {0, 5})
            for (std::uint32_t seed : {0u, 0x12345678u}) {
                auto s = std::span<const std::byte>(buf).subspan(start, len);
                ASSERT_EQ(crc32c_hardware(s, seed), crc32c_software(s, seed))
                    << "start " << start << " len " << len << " seed " << seed;
            }
}

// Each join looks up 8 entries of its round size's 4 x 256 table, so ~4096 joins per round size
// with registers that are as good as random reach each entry about 32 times, and a single wrong
// entry fails this test. The sweeps above cannot do this: every length shares its leading rounds
// with the shorter ones, so they see only a few dozen distinct joins. Three rounds are the most
// that run at one round size: a fourth would be a round of the next size up.
TEST(crc32c, hardware_and_software_agree_over_many_joins_of_each_round_size) {
    if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
    std::mt19937 rng(17);
    for (std::size_t round : {short_round, medium_round, long_round}) {
        const auto buf = random_bytes(3 * round, static_cast<std::uint32_t>(round));
        for (int i = 0; i < 4096 / 3; ++i) {
            const std::uint32_t seed = rng();
            ASSERT_EQ(crc32c_hardware(buf, seed), crc32c_software(buf, seed))
                << "round " << round << " seed " << seed;
        }
    }
}

TEST(crc32c, hardware_continues_from_a_previous_value_across_rounds) {
    if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
    const auto buf = random_bytes(2 * long_round + 100, 13);
    const auto whole = crc32c_software(buf);
    for (std::size_t cut :
         {std::size_t{0}, std::size_t{1}, short_round - 1, short_round, medium_round + 3,
          long_round, long_round + short_round + 7, buf.size()}) {
        const auto all = std::span<const std::byte>(buf);
        const auto first = crc32c_hardware(all.first(cut));
        EXPECT_EQ(crc32c_hardware(all.subspan(cut), first), whole) << cut;
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
