#pragma once
// A thread that calls `tick` every `interval` of real time (the steady clock) until stopped.
// For background passes that read the server's clock themselves (retention, ON_DEMAND scaling):
// the interval only bounds how soon a pass notices that the server's time moved on.
//
// Thread-safety: start, stop and destroy from one owner thread. `tick` runs on the task's
// thread; an exception it throws is logged and the next tick runs as planned. stop() wakes the
// thread at once (it does not wait out the interval), waits for a tick in progress, and runs no
// final tick.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace kinesd {

class periodic_task {
public:
    // `name` is the module whose logger reports a tick's exception.
    periodic_task(std::string name, std::chrono::milliseconds interval, std::function<void()> tick);
    ~periodic_task();  // stop()
    periodic_task(const periodic_task&) = delete;
    periodic_task& operator=(const periodic_task&) = delete;

    void start();  // no-op when running
    void stop();   // idempotent

private:
    void run();

    const std::string name_;
    const std::chrono::milliseconds interval_;
    const std::function<void()> tick_;
    std::mutex mu_;
    std::condition_variable wake_;
    bool stopping_ = false;  // guarded by mu_
    std::thread thread_;
};

}  // namespace kinesd
