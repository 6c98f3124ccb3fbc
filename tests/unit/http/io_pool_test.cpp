#include "kinesd/http/io_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace kinesd::http {
namespace {

namespace asio = boost::asio;

// Posts `jobs` handlers through next() (one per call) and records which thread ran each; the
// last one to run stops the pool.
std::vector<std::thread::id> run_jobs(io_pool& pool, int jobs) {
    std::mutex mu;
    std::vector<std::thread::id> ran(jobs);
    int done = 0;
    for (int i = 0; i < jobs; ++i)
        asio::post(pool.next(), [&, i] {
            std::lock_guard lock(mu);
            ran[i] = std::this_thread::get_id();
            if (++done == jobs) pool.stop();
        });
    pool.run();
    return ran;
}

TEST(io_pool, gives_each_thread_its_own_context_in_turn) {
    io_pool pool(3);
    EXPECT_EQ(pool.threads(), 3u);
    auto* first = &pool.next();
    auto* second = &pool.next();
    auto* third = &pool.next();
    EXPECT_NE(first, second);
    EXPECT_NE(second, third);
    EXPECT_NE(first, third);
    EXPECT_EQ(&pool.next(), first);  // round-robin
    const auto ran = run_jobs(pool, 9);
    // Jobs 0, 3, 6 went to one context, 1, 4, 7 to the next...: each context is run by one
    // thread, and no two contexts share one.
    std::set<std::thread::id> threads;
    for (int c = 0; c < 3; ++c) {
        EXPECT_EQ(ran[c], ran[c + 3]);
        EXPECT_EQ(ran[c], ran[c + 6]);
        threads.insert(ran[c]);
    }
    EXPECT_EQ(threads.size(), 3u);
}

TEST(io_pool, a_context_without_work_keeps_running_until_stop) {
    // Nothing is posted to the second context: its thread must not return before stop(),
    // or connections placed on it later would never be served.
    io_pool pool(2);
    bool late_job_ran = false;
    asio::post(pool.main(), [&] {
        asio::post(pool.next(), [&] {
            asio::post(pool.next(), [&] {  // main again, then the second
                late_job_ran = true;
                pool.stop();
            });
        });
    });
    pool.run();
    EXPECT_TRUE(late_job_ran);
}

TEST(io_pool, stop_before_run_returns_at_once) {
    io_pool pool(2);
    pool.stop();
    pool.run();
    SUCCEED();
}

TEST(io_pool, connection_executors_alternate_between_contexts) {
    io_pool pool(2);
    auto a = pool.connection_executor();
    auto b = pool.connection_executor();
    EXPECT_NE(&asio::query(a, asio::execution::context), &asio::query(b, asio::execution::context));
}

}  // namespace
}  // namespace kinesd::http
