#include "kinesd/common/clock.hpp"

#include <gtest/gtest.h>

using namespace kinesd;

TEST(adjustable_clock, advances_and_resets) {
    adjustable_clock c;
    const epoch_ms before = c.now_ms();
    c.advance(90'000'000);
    EXPECT_GE(c.now_ms(), before + 90'000'000);
    EXPECT_EQ(c.offset_ms(), 90'000'000);
    c.reset();
    EXPECT_EQ(c.offset_ms(), 0);
    EXPECT_LT(c.now_ms(), before + 90'000'000);
}

TEST(adjustable_clock, a_frozen_clock_moves_only_when_advanced) {
    adjustable_clock c;
    c.freeze();
    ASSERT_TRUE(c.frozen());
    const epoch_ms t = c.now_ms();
    // Real time passes (busy-wait on the system clock; no sleep), the frozen clock does not.
    const auto until = std::chrono::system_clock::now() + std::chrono::milliseconds(5);
    while (std::chrono::system_clock::now() < until) {
    }
    EXPECT_EQ(c.now_ms(), t);
    c.freeze();  // freezing again keeps the frozen time
    EXPECT_EQ(c.now_ms(), t);
    c.advance(250);
    EXPECT_EQ(c.now_ms(), t + 250);
    // Unfreezing resumes at system time plus the offset: never earlier than the frozen time.
    c.unfreeze();
    EXPECT_FALSE(c.frozen());
    EXPECT_GE(c.now_ms(), t + 250);
    c.freeze();
    c.reset();
    EXPECT_FALSE(c.frozen());
    EXPECT_EQ(c.offset_ms(), 0);
}
