#include "kinesd/http/io_pool.hpp"

#include <algorithm>
#include <thread>

namespace kinesd::http {
namespace asio = boost::asio;

io_pool::io_pool(unsigned threads) : threads_(std::max(1u, threads)) {
    // Concurrency hint 1: a context run by one thread skips the scheduler's cross-thread
    // bookkeeping (posting to it from other threads stays safe).
    for (unsigned i = 0; i < threads_; ++i) {
        contexts_.push_back(std::make_unique<asio::io_context>(1));
        keep_running_.push_back(asio::make_work_guard(*contexts_.back()));
    }
}

asio::io_context& io_pool::next() {
    const auto i = next_.fetch_add(1, std::memory_order_relaxed);
    return *contexts_[i % contexts_.size()];
}

asio::any_io_executor io_pool::connection_executor() { return next().get_executor(); }

void io_pool::run() {
    std::vector<std::thread> others;
    for (unsigned t = 1; t < threads_; ++t) {
        auto& ctx = *contexts_[t];
        others.emplace_back([&ctx] { ctx.run(); });
    }
    contexts_.front()->run();
    for (auto& t : others) t.join();
}

void io_pool::stop() {
    for (auto& ctx : contexts_) ctx->stop();
}

}  // namespace kinesd::http
