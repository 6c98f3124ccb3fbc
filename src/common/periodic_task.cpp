#include "kinesd/common/periodic_task.hpp"

#include <exception>

#include "kinesd/common/logging.hpp"

namespace kinesd {

periodic_task::periodic_task(std::string name, std::chrono::milliseconds interval,
                             std::function<void()> tick)
    : name_(std::move(name)), interval_(interval), tick_(std::move(tick)) {}

periodic_task::~periodic_task() { stop(); }

void periodic_task::start() {
    if (thread_.joinable()) return;
    {
        std::lock_guard lock(mu_);
        stopping_ = false;
    }
    thread_ = std::thread([this] { run(); });
}

void periodic_task::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void periodic_task::run() {
    std::unique_lock lock(mu_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
        lock.unlock();
        try {
            tick_();
        } catch (const std::exception& e) {
            module_logger(name_)->error("{} pass failed: {}", name_, e.what());
        }
        lock.lock();
    }
}

}  // namespace kinesd
