#pragma once
// The thread behind --fsync interval: calls `tick` (which syncs every log) every `interval` of
// real time, and once more when stopped. Time here is the steady clock, not the server's
// adjustable clock: the interval bounds how much acknowledged data a power loss can take, which
// is about the real disk, not simulated time.
//
// Thread-safety: construct, stop and destroy from one thread; tick runs on the syncer thread
// and must be safe to call concurrently with appends (shard_log::sync is).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace kinesd::storage {

class periodic_syncer {
  public:
    periodic_syncer(std::chrono::milliseconds interval, std::function<void()> tick);
    ~periodic_syncer();  // stop()
    periodic_syncer(const periodic_syncer&) = delete;
    periodic_syncer& operator=(const periodic_syncer&) = delete;

    // Wakes the thread for a last tick and joins it. Idempotent.
    void stop();

  private:
    void run();

    const std::chrono::milliseconds interval_;
    const std::function<void()> tick_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;  // guarded by mu_
    std::thread thread_;
};

}  // namespace kinesd::storage
