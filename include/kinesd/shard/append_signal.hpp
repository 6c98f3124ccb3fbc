#pragma once
// Wakes whoever waits for a shard's next record (SubscribeToShard subscriptions), so records are
// pushed as soon as they are readable instead of being polled for.
//
// Cost on the data path: notify() is one fence and one atomic load when nobody watches, so
// appends pay nothing for the feature while no one subscribes. The watcher list has its own
// mutex per shard (never the shard's write lock, never wider than a shard).
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace kinesd {

class append_signal {
public:
    // Called on the appending thread with the signal's mutex held: must be quick and must not
    // block (e.g. post to an executor), and must not call add() or remove().
    using waker = std::function<void()>;

    // Registers `w`; returns its id for remove(). Thread-safe.
    std::uint64_t add(waker w) {
        std::lock_guard lock(mu_);
        const std::uint64_t id = ++next_id_;
        wakers_.emplace_back(id, std::move(w));
        count_.fetch_add(1, std::memory_order_seq_cst);
        return id;
    }

    // Unregisters; once it returns the waker is not running and will not be called again (so
    // what it captured may be destroyed). Unknown ids are ignored. Thread-safe.
    void remove(std::uint64_t id) {
        std::lock_guard lock(mu_);
        for (auto it = wakers_.begin(); it != wakers_.end(); ++it)
            if (it->first == id) {
                wakers_.erase(it);
                count_.fetch_sub(1, std::memory_order_seq_cst);
                return;
            }
    }

    // Calls every waker. The caller has made the new records readable before calling: the
    // fence orders that publication before the load of the watcher count, so a watcher that
    // registered and then read the log either saw the records or is woken here.
    void notify() {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (count_.load(std::memory_order_relaxed) == 0) return;
        std::lock_guard lock(mu_);
        for (auto& [id, w] : wakers_) w();
    }

    std::size_t watchers() const { return count_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::size_t> count_{0};
    std::mutex mu_;
    std::vector<std::pair<std::uint64_t, waker>> wakers_;  // guarded by mu_
    std::uint64_t next_id_ = 0;                            // guarded by mu_
};

}  // namespace kinesd
