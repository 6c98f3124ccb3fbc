#include "kinesd/common/random.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

using namespace kinesd;

// Keys and stream ids come from here: every byte must be written, and two draws must differ
// (a constant or untouched buffer would make iterator keys guessable).
TEST(random, fills_every_byte_and_draws_differ) {
    std::array<std::uint8_t, 4096> a{}, b{};
    fill_random(a.data(), a.size());
    fill_random(b.data(), b.size());
    EXPECT_NE(a, b);
    // 4096 random bytes: each value 0..255 is missing with probability ~1e-7.
    std::array<bool, 256> seen{};
    for (auto v : a) seen[v] = true;
    for (int v = 0; v < 256; ++v) EXPECT_TRUE(seen[v]) << v;
    fill_random(a.data(), 0);  // no-op
}
