#pragma once
// The I/O threads of the HTTP front end: one io_context per thread, each run by its thread
// alone. A connection is placed on one context when it is accepted and stays there, so its
// handlers never move between threads (no strands, no cross-thread hand-offs or wake-ups: with
// one shared context, 2 threads answered fewer PutRecords than 1). A handler that blocks holds
// up every connection of its context, so handlers must not block: a put waiting for its fsync
// (--fsync always) does not hold its thread (http/answer_hold.hpp).
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <vector>

namespace kinesd::http {

class io_pool {
  public:
    explicit io_pool(unsigned threads);  // threads >= 1
    io_pool(const io_pool&) = delete;
    io_pool& operator=(const io_pool&) = delete;

    // The context of the thread that calls run(): for listeners, signals and server timers.
    boost::asio::io_context& main() { return *contexts_.front(); }
    // The context for the next connection or job: round-robin over the contexts. Any thread.
    boost::asio::io_context& next();
    // The executor for a new connection: the next context's (its handlers never run
    // concurrently: one thread runs the context). Any thread.
    boost::asio::any_io_executor connection_executor();
    unsigned threads() const { return threads_; }

    // Runs the pool: the main context on the calling thread, the others on threads of their
    // own. Returns once stop() has been called and every thread has returned.
    void run();
    // Makes run() return (handlers still queued are not run). Any thread; idempotent.
    void stop();

  private:
    using work_guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
    unsigned threads_;
    std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
    std::vector<work_guard> keep_running_;  // a context with no connection yet must not return
    std::atomic<std::size_t> next_{0};
};

}  // namespace kinesd::http
