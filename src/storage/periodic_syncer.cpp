#include "kinesd/storage/periodic_syncer.hpp"

namespace kinesd::storage {

periodic_syncer::periodic_syncer(std::chrono::milliseconds interval, std::function<void()> tick)
    : interval_(std::max(interval, std::chrono::milliseconds(1))), tick_(std::move(tick)) {
    thread_ = std::thread([this] { run(); });
}

periodic_syncer::~periodic_syncer() { stop(); }

void periodic_syncer::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void periodic_syncer::run() {
    std::unique_lock lock(mu_);
    for (;;) {
        // Ticks are spaced by the interval from the end of the previous one: a slow disk
        // makes rounds later, never overlapping.
        const bool stopping = cv_.wait_for(lock, interval_, [this] { return stopping_; });
        lock.unlock();
        tick_();
        lock.lock();
        if (stopping) return;
    }
}

}  // namespace kinesd::storage
