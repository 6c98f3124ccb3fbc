#pragma once
// The one source of "now" for everything that reads time: arrival timestamps, iterator expiry,
// retention, throttling and stream state transitions. Tests pass a manual_clock; the server uses
// an adjustable_clock, which the admin API can move forward.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace kinesd {

// Milliseconds since the Unix epoch.
using epoch_ms = std::int64_t;

// Thread-safe: now_ms() may be called from any thread.
class clock {
public:
    virtual ~clock() = default;
    virtual epoch_ms now_ms() const = 0;
};

// The system clock plus an offset that can only be set explicitly (admin API, tests).
// It can also be frozen: time then stands still except when advanced, so that tests of
// rate limits do not depend on how fast a loaded machine runs them.
class adjustable_clock final : public clock {
public:
    epoch_ms now_ms() const override {
        if (auto frozen = frozen_ms_.load(std::memory_order_relaxed)) return frozen;
        auto real = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
        return real + offset_ms_.load(std::memory_order_relaxed);
    }
    void advance(std::int64_t ms) {
        offset_ms_.fetch_add(ms, std::memory_order_relaxed);
        if (frozen_ms_.load(std::memory_order_relaxed)) frozen_ms_.fetch_add(ms, std::memory_order_relaxed);
    }
    void reset() {
        frozen_ms_.store(0, std::memory_order_relaxed);
        offset_ms_.store(0, std::memory_order_relaxed);
    }
    std::int64_t offset_ms() const { return offset_ms_.load(std::memory_order_relaxed); }

    // Stops time at now (advance() still moves it). Unfreezing resumes at the system clock
    // plus the offset, so time jumps forward by as long as it stood still, never back.
    // Control-plane only: freeze/unfreeze are not meant to race with advance().
    void freeze() {
        if (!frozen_ms_.load(std::memory_order_relaxed)) frozen_ms_.store(now_ms(), std::memory_order_relaxed);
    }
    void unfreeze() { frozen_ms_.store(0, std::memory_order_relaxed); }
    bool frozen() const { return frozen_ms_.load(std::memory_order_relaxed) != 0; }

private:
    std::atomic<std::int64_t> offset_ms_{0};
    std::atomic<epoch_ms> frozen_ms_{0};  // 0: running
};

// A clock that moves only when told to. For tests.
class manual_clock final : public clock {
public:
    explicit manual_clock(epoch_ms start = 1'700'000'000'000) : now_(start) {}
    epoch_ms now_ms() const override { return now_.load(std::memory_order_relaxed); }
    void set(epoch_ms t) { now_.store(t, std::memory_order_relaxed); }
    void advance(std::int64_t ms) { now_.fetch_add(ms, std::memory_order_relaxed); }

private:
    std::atomic<epoch_ms> now_;
};

}  // namespace kinesd
