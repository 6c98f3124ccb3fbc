#include "kinesd/http/io_pool.hpp"

#include <algorithm>
#include <boost/asio/strand.hpp>
#include <thread>

namespace kinesd::http {
namespace asio = boost::asio;

io_pool::io_pool(unsigned threads, layout how) : threads_(std::max(1u, threads)), layout_(how) {
    const unsigned contexts = how == layout::per_thread ? threads_ : 1;
    // Concurrency hint 1: a context run by one thread skips the scheduler's cross-thread
    // bookkeeping (posting to it from other threads stays safe).
    const int hint = how == layout::per_thread ? 1 : static_cast<int>(threads_);
    for (unsigned i = 0; i < contexts; ++i) {
        contexts_.push_back(std::make_unique<asio::io_context>(hint));
        keep_running_.push_back(asio::make_work_guard(*contexts_.back()));
    }
}

asio::io_context& io_pool::next() {
    const auto i = next_.fetch_add(1, std::memory_order_relaxed);
    return *contexts_[i % contexts_.size()];
}

asio::any_io_executor io_pool::connection_executor() {
    auto& ctx = next();
    if (layout_ == layout::per_thread) return ctx.get_executor();
    return asio::make_strand(ctx);
}

void io_pool::run() {
    std::vector<std::thread> others;
    for (unsigned t = 1; t < threads_; ++t) {
        auto& ctx = *contexts_[t % contexts_.size()];
        others.emplace_back([&ctx] { ctx.run(); });
    }
    contexts_.front()->run();
    for (auto& t : others) t.join();
}

void io_pool::stop() {
    for (auto& ctx : contexts_) ctx->stop();
}

}  // namespace kinesd::http
