// commit_pipeline: one fsync round at a time for every log of a data directory. Rounds run on
// jobs the test runs itself (manual_runner), so each test decides what a round finds waiting.
#include "kinesd/storage/commit_pipeline.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fault_io.hpp"
#include "kinesd/storage/counters.hpp"
#include "kinesd/storage/segment_log.hpp"
#include "support/api_test.hpp"

namespace kinesd::storage {
namespace {

namespace fs = std::filesystem;
using testing::fault_io;
using testing::io_op;

// Holds the pipeline's jobs until the test runs them (on the test's thread, never inside the
// runner call, as the contract asks).
class manual_runner {
  public:
    std::function<void(std::function<void()>)> runner() {
        return [this](std::function<void()> job) {
            std::lock_guard lock(mu_);
            jobs_.push_back(std::move(job));
        };
    }
    std::size_t pending() {
        std::lock_guard lock(mu_);
        return jobs_.size();
    }
    // Runs the oldest job; false if there is none.
    bool run_one() {
        std::function<void()> job;
        {
            std::lock_guard lock(mu_);
            if (jobs_.empty()) return false;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        job();
        return true;
    }
    void run_all() {
        while (run_one()) {
        }
    }

  private:
    std::mutex mu_;
    std::deque<std::function<void()>> jobs_;
};

std::error_code append_one(shard_log& log, seqno seq) {
    append_batch batch;
    const std::string data = "record-" + std::to_string(static_cast<std::uint64_t>(seq));
    batch.add_copy("key", {}, std::as_bytes(std::span(data)));
    return log.append(batch, {&seq, 1}, 1000);
}

// The answers commit_async() gave, by producer.
struct answers {
    std::map<int, std::error_code> by_producer;
    commit_callback callback(int producer) {
        return [this, producer](std::error_code ec) { by_producer[producer] = ec; };
    }
};

class commit_pipeline_test : public ::testing::Test {
  protected:
    void make_pipeline(bool use_syncfs, fs::path dir) {
        pipeline_ = std::make_unique<commit_pipeline>(commit_pipeline_options{
            .runner = jobs_.runner(), .dir = std::move(dir), .use_syncfs = use_syncfs, .io = &io_});
    }
    std::unique_ptr<segment_log> open(const fs::path& dir) {
        segment_log_options options;
        options.fsync = fsync_policy::always;
        options.pipeline = pipeline_.get();
        options.io = &io_;
        recovery_report report;
        return segment_log::open(dir, options, report);
    }
    // Appends record `seq` to `log` and leaves its commit to the pipeline.
    void put(segment_log& log, seqno seq, answers& a, int producer) {
        ASSERT_FALSE(append_one(log, seq));
        log.commit_async(log.sync_ticket(), a.callback(producer));
    }

    test_support::temp_dir tmp_;
    fault_io io_;
    manual_runner jobs_;
    std::unique_ptr<commit_pipeline> pipeline_;  // destroyed before jobs_, after the logs
};

TEST_F(commit_pipeline_test, logs_waiting_together_share_one_syncfs) {
    make_pipeline(true, tmp_.path());
    auto a = open(tmp_.path() / "a");
    auto b = open(tmp_.path() / "b");
    auto c = open(tmp_.path() / "c");
    answers got;
    put(*a, 1, got, 0);
    put(*b, 1, got, 1);
    put(*c, 1, got, 2);
    put(*a, 2, got, 3);
    EXPECT_TRUE(got.by_producer.empty());  // nothing is acknowledged before its flush
    EXPECT_EQ(jobs_.pending(), 1u);        // one round for all of them
    const auto file_system_syncs = counters().file_system_syncs.load();
    ASSERT_TRUE(jobs_.run_one());
    ASSERT_EQ(got.by_producer.size(), 4u);
    for (const auto& [producer, ec] : got.by_producer) EXPECT_FALSE(ec) << producer;
    EXPECT_EQ(io_.calls(io_op::syncfs), 1);
    EXPECT_EQ(io_.calls(io_op::fdatasync), 0);  // syncfs covered the segments...
    EXPECT_EQ(io_.calls(io_op::fsync), 0);      // ...and the new segment files' directories
    EXPECT_EQ(counters().file_system_syncs.load(), file_system_syncs + 1);
    EXPECT_EQ(jobs_.pending(), 0u);

    // One log waiting alone flushes itself: no need to write back the whole file system.
    put(*b, 2, got, 4);
    jobs_.run_all();
    EXPECT_FALSE(got.by_producer.at(4));
    EXPECT_EQ(io_.calls(io_op::syncfs), 1);
    EXPECT_EQ(io_.calls(io_op::fdatasync), 1);
    // Already durable: answered at once, without a round.
    b->commit_async(b->sync_ticket(), got.callback(5));
    EXPECT_FALSE(got.by_producer.at(5));
    EXPECT_EQ(jobs_.pending(), 0u);
}

TEST_F(commit_pipeline_test, a_failed_syncfs_fails_every_log_it_covered_and_only_those) {
    make_pipeline(true, tmp_.path());
    auto a = open(tmp_.path() / "a");
    auto b = open(tmp_.path() / "b");
    answers got;
    put(*a, 1, got, 0);
    put(*b, 1, got, 1);
    const auto failed_ticket = a->sync_ticket();
    io_.fail({.op = io_op::syncfs, .error = EIO, .times = 1, .path_part = {}});
    jobs_.run_all();
    EXPECT_EQ(got.by_producer.at(0), make_error_code(storage_errc::io_error));
    EXPECT_EQ(got.by_producer.at(1), make_error_code(storage_errc::io_error));
    // The disk works again: later puts are acknowledged, the failed ones never.
    put(*a, 2, got, 2);
    put(*b, 2, got, 3);
    jobs_.run_all();
    EXPECT_FALSE(got.by_producer.at(2));
    EXPECT_FALSE(got.by_producer.at(3));
    a->commit_async(failed_ticket, got.callback(4));
    EXPECT_EQ(got.by_producer.at(4), make_error_code(storage_errc::io_error));
    EXPECT_EQ(io_.calls(io_op::syncfs), 2);
}

TEST_F(commit_pipeline_test, without_syncfs_each_log_of_a_round_flushes_itself) {
    make_pipeline(false, tmp_.path());
    auto a = open(tmp_.path() / "a");
    auto b = open(tmp_.path() / "b");
    answers got;
    put(*a, 1, got, 0);
    put(*b, 1, got, 1);
    io_.fail({.op = io_op::fdatasync, .error = EIO, .times = 1, .path_part = "/b/"});
    ASSERT_TRUE(jobs_.run_one());  // one round, two flushes
    EXPECT_FALSE(got.by_producer.at(0));
    EXPECT_EQ(got.by_producer.at(1), make_error_code(storage_errc::io_error));  // b's own
    EXPECT_EQ(io_.calls(io_op::syncfs), 0);
    EXPECT_EQ(io_.calls(io_op::fdatasync, "/a/"), 1);
    EXPECT_EQ(io_.calls(io_op::fdatasync, "/b/"), 1);
    EXPECT_EQ(jobs_.pending(), 0u);
}

// A log on another file system than the data directory is not covered by its syncfs.
TEST_F(commit_pipeline_test, a_log_on_another_file_system_flushes_itself) {
    const fs::path other_fs = "/dev/shm";
    struct stat here {};
    struct stat there {};
    if (::stat(tmp_.path().c_str(), &here) != 0 || ::stat(other_fs.c_str(), &there) != 0 ||
        here.st_dev == there.st_dev || ::access(other_fs.c_str(), W_OK) != 0)
        GTEST_SKIP() << "needs a writable " << other_fs << " on another file system";
    const fs::path far_dir = other_fs / fmt::format("kinesd-test-{}-far", ::getpid());
    struct remove_far {
        fs::path dir;
        ~remove_far() {
            std::error_code ignored;
            fs::remove_all(dir, ignored);
        }
    } cleanup{far_dir};
    make_pipeline(true, tmp_.path());
    auto a = open(tmp_.path() / "a");
    auto b = open(tmp_.path() / "b");
    auto far = open(far_dir);
    answers got;
    put(*a, 1, got, 0);
    put(*b, 1, got, 1);
    put(*far, 1, got, 2);
    ASSERT_TRUE(jobs_.run_one());
    ASSERT_EQ(got.by_producer.size(), 3u);
    for (const auto& [producer, ec] : got.by_producer) EXPECT_FALSE(ec) << producer;
    EXPECT_EQ(io_.calls(io_op::syncfs), 1);
    EXPECT_EQ(io_.calls(io_op::fdatasync), 1);
    EXPECT_EQ(io_.calls(io_op::fdatasync, far_dir.string()), 1);
}

// Producers that come while a round runs wait for the next one, which runs as a new job (so the
// runner's thread is never kept by one busy stream), and the round's lead stays with the
// pipeline until no producer is left.
TEST_F(commit_pipeline_test, producers_arriving_during_a_round_get_the_next_one) {
    make_pipeline(true, tmp_.path());
    auto a = open(tmp_.path() / "a");
    auto b = open(tmp_.path() / "b");
    answers got;
    bool put_during_flush = true;
    io_.on_call([&](io_op op, const std::string&) {
        if (op != io_op::syncfs || !put_during_flush) return;
        put_during_flush = false;
        put(*a, 2, got, 2);  // on the round's thread (the test's), while it flushes
    });
    put(*a, 1, got, 0);
    put(*b, 1, got, 1);
    ASSERT_TRUE(jobs_.run_one());
    EXPECT_FALSE(got.by_producer.at(0));
    EXPECT_FALSE(got.by_producer.at(1));
    EXPECT_FALSE(got.by_producer.contains(2));  // its append came after the round's target
    EXPECT_EQ(jobs_.pending(), 1u);
    ASSERT_TRUE(jobs_.run_one());
    EXPECT_FALSE(got.by_producer.at(2));
    EXPECT_EQ(io_.calls(io_op::fdatasync, "/a/"), 1);  // alone in its round
    EXPECT_EQ(jobs_.pending(), 0u);
    io_.on_call(nullptr);
}

// Producers on several threads and logs at once, rounds on a real thread (run under
// ThreadSanitizer by scripts/test-sanitizers.sh): every put is answered once, successfully, and
// the logs hold every record.
TEST(commit_pipeline, concurrent_producers_on_several_logs_are_all_answered) {
    test_support::temp_dir tmp;
    boost::asio::thread_pool fsync_thread(1);  // outlives the pipeline
    commit_pipeline pipeline(
        {.runner =
             [&](std::function<void()> job) { boost::asio::post(fsync_thread, std::move(job)); },
         .dir = tmp.path(),
         .use_syncfs = std::nullopt,
         .io = nullptr});
    constexpr int logs = 4, producers = 8, puts = 60;
    struct guarded_log {
        std::mutex writer;  // one writer at a time, as the shard's lock does
        std::unique_ptr<segment_log> log;
        seqno next = 1;
    };
    std::vector<guarded_log> shards(logs);
    for (int i = 0; i < logs; ++i) {
        segment_log_options options;
        options.fsync = fsync_policy::always;
        options.pipeline = &pipeline;
        options.segment_bytes = 4096;  // rolls while rounds run
        recovery_report report;
        shards[i].log = segment_log::open(tmp.path() / std::to_string(i), options, report);
    }
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            for (int i = 0; i < puts; ++i) {
                guarded_log& g = shards[(p + i) % logs];
                std::uint64_t ticket = 0;
                {
                    std::lock_guard lock(g.writer);
                    if (append_one(*g.log, g.next++)) failures.fetch_add(1);
                    ticket = g.log->sync_ticket();
                }
                std::promise<std::error_code> answered;
                g.log->commit_async(ticket, [&](std::error_code ec) { answered.set_value(ec); });
                if (answered.get_future().get()) failures.fetch_add(1);
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    std::size_t records = 0;
    for (auto& g : shards)
        records +=
            g.log
                ->read({.max_records = 1'000'000, .max_bytes = 1u << 30}, [](const record_view&) {})
                .records;
    EXPECT_EQ(records, static_cast<std::size_t>(producers * puts));
    shards.clear();  // the logs before the pipeline
}

}  // namespace
}  // namespace kinesd::storage
