#include "kinesd/storage/periodic_syncer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace kinesd::storage {
namespace {

using namespace std::chrono_literals;

TEST(periodic_syncer, stop_runs_a_last_tick_and_joins) {
    std::atomic<int> ticks{0};
    periodic_syncer syncer(1h, [&] { ++ticks; });  // never due on its own
    syncer.stop();
    EXPECT_EQ(ticks.load(), 1);
    syncer.stop();  // idempotent
    EXPECT_EQ(ticks.load(), 1);
}

TEST(periodic_syncer, ticks_every_interval) {
    std::atomic<int> ticks{0};
    periodic_syncer syncer(1ms, [&] { ++ticks; });
    // Waiting for a condition, bounded: the syncer itself is what keeps time here.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (ticks.load() < 3 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    EXPECT_GE(ticks.load(), 3);
}

}  // namespace
}  // namespace kinesd::storage
