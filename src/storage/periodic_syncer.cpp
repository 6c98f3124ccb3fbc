#include "kinesd/storage/periodic_syncer.hpp"

#include <algorithm>

namespace kinesd::storage {

// Ticks are spaced by the interval from the end of the previous one (periodic_task): a slow
// disk makes rounds later, never overlapping.
periodic_syncer::periodic_syncer(std::chrono::milliseconds interval, std::function<void()> tick)
    : tick_(std::move(tick)),
      task_("storage", std::max(interval, std::chrono::milliseconds(1)), [this] { tick_(); }) {
    task_.start();
}

periodic_syncer::~periodic_syncer() { stop(); }

void periodic_syncer::stop() {
    if (stopped_) return;
    stopped_ = true;
    task_.stop();
    tick_();
}

}  // namespace kinesd::storage
