// The background thread behind the retention reaper and ON_DEMAND scaling. Waits are bounded
// condition waits on what the task did, not sleeps.
#include "kinesd/common/periodic_task.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <stdexcept>

using namespace kinesd;
using namespace std::chrono_literals;

namespace {

struct tick_counter {
    std::mutex mu;
    std::condition_variable cv;
    int ticks = 0;

    void tick() {
        std::lock_guard lock(mu);
        ++ticks;
        cv.notify_all();
    }
    bool wait_for_ticks(int n) {
        std::unique_lock lock(mu);
        return cv.wait_for(lock, 10s, [&] { return ticks >= n; });
    }
};

TEST(periodic_task, ticks_every_interval_until_stopped_and_not_after) {
    tick_counter c;
    periodic_task task("test", 1ms, [&] { c.tick(); });
    task.start();
    ASSERT_TRUE(c.wait_for_ticks(3));
    task.stop();
    const int at_stop = c.ticks;
    task.stop();  // idempotent
    EXPECT_EQ(c.ticks, at_stop);  // joined: no tick ran after stop()
    task.start();  // and restartable
    ASSERT_TRUE(c.wait_for_ticks(at_stop + 1));
}

TEST(periodic_task, a_tick_that_throws_does_not_end_the_task) {
    tick_counter c;
    periodic_task task("test", 1ms, [&] {
        c.tick();
        throw std::runtime_error("disk on fire");
    });
    task.start();
    EXPECT_TRUE(c.wait_for_ticks(3));
}

TEST(periodic_task, stop_does_not_wait_out_the_interval) {
    periodic_task task("test", 1h, [] {});
    task.start();
    const auto t0 = std::chrono::steady_clock::now();
    task.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

}  // namespace
