#include "kinesd/http/answer_hold.hpp"

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <system_error>

#include "kinesd/api/error.hpp"
#include "kinesd/common/logging.hpp"

namespace kinesd::http {
namespace asio = boost::asio;
namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("http");
    return l;
}

struct held_answer {
    response answer;
    asio::any_io_executor ex;
    std::function<void(response)> send;
    std::vector<pending_commit> commits;  // keeps the shards alive until every commit ended
    std::atomic<std::size_t> commits_left{0};
    std::atomic<bool> commit_failed{false};
};

// On ex, once the commits have ended.
void release(const std::shared_ptr<held_answer>& held) {
    response& answer = held->answer;
    if (held->commit_failed.load(std::memory_order_acquire)) {
        logger()->error("request {}: fsync failed; answered InternalFailure", answer.request_id);
        set_error(answer, api_error::internal_failure());
    }
    if (answer.unfinished) {
        answer.unfinished->finish(answer.status, answer.error_type, answer.request_id);
        answer.unfinished.reset();
    }
    if (answer.delay_ms <= 0) return held->send(std::move(answer));
    auto timer =
        std::make_shared<asio::steady_timer>(held->ex, std::chrono::milliseconds(answer.delay_ms));
    timer->async_wait(
        [held, timer](const boost::system::error_code&) { held->send(std::move(held->answer)); });
}

}  // namespace

void send_when_ready(response answer, asio::any_io_executor ex,
                     std::function<void(response)> send) {
    auto held = std::make_shared<held_answer>();
    held->commits = std::move(answer.commits);
    answer.commits.clear();
    held->answer = std::move(answer);
    held->ex = std::move(ex);
    held->send = std::move(send);
    if (held->commits.empty()) return release(held);
    held->commits_left.store(held->commits.size(), std::memory_order_relaxed);
    for (const auto& c : held->commits) {
        // Runs on an fsync thread (or right here when the fsync already happened).
        commit_async(c, [held](std::error_code ec) {
            if (ec) held->commit_failed.store(true, std::memory_order_release);
            if (held->commits_left.fetch_sub(1, std::memory_order_acq_rel) == 1)
                asio::post(held->ex, [held] { release(held); });
        });
    }
}

}  // namespace kinesd::http
