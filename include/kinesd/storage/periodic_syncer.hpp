#pragma once
// The thread behind --fsync interval: calls `tick` (which syncs every log) every `interval` of
// real time, and once more when stopped. Time here is the steady clock, not the server's
// adjustable clock: the interval bounds how much acknowledged data a power loss can take, which
// is about the real disk, not simulated time. A periodic_task with a final tick.
//
// Thread-safety: construct, stop and destroy from one thread; tick runs on the syncer thread
// (the last one on the stopping thread) and must be safe to call concurrently with appends
// (shard_log::sync is).
#include <chrono>
#include <functional>

#include "kinesd/common/periodic_task.hpp"

namespace kinesd::storage {

class periodic_syncer {
  public:
    periodic_syncer(std::chrono::milliseconds interval, std::function<void()> tick);
    ~periodic_syncer();  // stop()
    periodic_syncer(const periodic_syncer&) = delete;
    periodic_syncer& operator=(const periodic_syncer&) = delete;

    // Joins the thread, then ticks once more. Idempotent.
    void stop();

  private:
    const std::function<void()> tick_;
    periodic_task task_;
    bool stopped_ = false;
};

}  // namespace kinesd::storage
