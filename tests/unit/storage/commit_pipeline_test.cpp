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
#include "kinesd/storage/commit_journal.hpp"
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
    void make_pipeline(bool use_syncfs, fs::path dir, std::uint64_t journal_bytes = 0) {
        pipeline_ = std::make_unique<commit_pipeline>(
            commit_pipeline_options{.runner = jobs_.runner(),
                                    .dir = std::move(dir),
                                    .use_syncfs = use_syncfs,
                                    .journal_bytes = journal_bytes,
                                    .io = &io_});
    }
    std::unique_ptr<segment_log> open(const fs::path& dir, std::uint64_t segment_bytes = 0) {
        segment_log_options options;
        options.fsync = fsync_policy::always;
        options.pipeline = pipeline_.get();
        options.io = &io_;
        if (segment_bytes > 0) options.segment_bytes = segment_bytes;
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

// With a commit journal, a round of logs whose new bytes are all in their active segment is one
// write and one fdatasync of the journal; a log that created a segment file since its last round
// (the first round of a new log, a roll) still flushes its files and directory.
TEST_F(commit_pipeline_test, with_a_journal_a_round_is_one_fdatasync_of_the_journal) {
    make_pipeline(true, tmp_.path(), 1 << 20);
    auto a = open(tmp_.path() / "a");
    auto b = open(tmp_.path() / "b");
    auto c = open(tmp_.path() / "c", 1024);  // rolls below
    answers got;
    put(*a, 1, got, 0);
    put(*b, 1, got, 1);
    put(*c, 1, got, 2);
    jobs_.run_all();  // new logs: their files and directories need the syncfs
    EXPECT_EQ(io_.calls(io_op::syncfs), 1);
    const int opening_fdatasyncs = io_.calls(io_op::fdatasync);  // the journal's creation
    const auto writes = counters().journal_writes.load();
    put(*a, 2, got, 3);
    put(*b, 2, got, 4);
    put(*c, 2, got, 5);
    put(*a, 3, got, 6);
    ASSERT_TRUE(jobs_.run_one());
    ASSERT_EQ(got.by_producer.size(), 7u);
    for (const auto& [producer, ec] : got.by_producer) EXPECT_FALSE(ec) << producer;
    EXPECT_EQ(io_.calls(io_op::syncfs), 1);
    EXPECT_EQ(io_.calls(io_op::fdatasync), opening_fdatasyncs + 1);
    EXPECT_EQ(io_.calls(io_op::fdatasync, "commit.journal"), 2);  // opening + this round
    EXPECT_EQ(counters().journal_writes.load(), writes + 1);

    // c rolls to a new segment: it flushes itself (sealed segment, new one, directory) in the
    // same round as a's journal entry.
    const std::string big(900, 'z');
    append_batch batch;
    batch.add_copy("key", {}, std::as_bytes(std::span(big)));
    seqno seq = 3;
    ASSERT_FALSE(c->append(batch, {&seq, 1}, 1000));
    c->commit_async(c->sync_ticket(), got.callback(7));
    put(*a, 4, got, 8);
    ASSERT_TRUE(jobs_.run_one());
    EXPECT_FALSE(got.by_producer.at(7));
    EXPECT_FALSE(got.by_producer.at(8));
    EXPECT_EQ(io_.calls(io_op::fdatasync, "/c/"), 2);  // both segments
    EXPECT_EQ(io_.calls(io_op::fsync, "/c"), 1);       // its directory
    EXPECT_EQ(io_.calls(io_op::fdatasync, "/a/"), 0);
    EXPECT_EQ(io_.calls(io_op::fdatasync, "commit.journal"), 3);
    // A failed journal write fails every log it covered.
    io_.fail({.op = io_op::fdatasync, .error = EIO, .times = 1, .path_part = "commit.journal"});
    put(*a, 5, got, 9);
    put(*b, 3, got, 10);
    jobs_.run_all();
    EXPECT_EQ(got.by_producer.at(9), make_error_code(storage_errc::io_error));
    EXPECT_EQ(got.by_producer.at(10), make_error_code(storage_errc::io_error));
}

// A data directory given as "dir/" (as a user may type it): the segment paths under it are
// still recognized as inside it, and journaled.
TEST_F(commit_pipeline_test, a_data_directory_given_with_a_trailing_slash_still_uses_the_journal) {
    make_pipeline(true, tmp_.path() / "", 1 << 20);
    auto a = open(tmp_.path() / "a");
    auto b = open(tmp_.path() / "b");
    answers got;
    put(*a, 1, got, 0);
    put(*b, 1, got, 1);
    jobs_.run_all();  // new logs: syncfs
    const auto writes = counters().journal_writes.load();
    put(*a, 2, got, 2);
    put(*b, 2, got, 3);
    jobs_.run_all();
    ASSERT_EQ(got.by_producer.size(), 4u);
    for (const auto& [producer, ec] : got.by_producer) EXPECT_FALSE(ec) << producer;
    EXPECT_EQ(counters().journal_writes.load(), writes + 1);
    EXPECT_EQ(io_.calls(io_op::syncfs), 1);
}

// The point of the journal: after a crash that loses every segment byte no fsync of the segment
// files covered (only the journal had them), replay and recovery give back every acknowledged
// record.
TEST_F(commit_pipeline_test, a_crash_loses_no_acknowledged_record_of_journaled_rounds) {
    make_pipeline(true, tmp_.path(), 1 << 20);
    const std::vector<fs::path> dirs = {tmp_.path() / "streams" / "s" / "a",
                                        tmp_.path() / "streams" / "s" / "b"};
    std::vector<std::unique_ptr<segment_log>> logs;
    for (const auto& d : dirs) logs.push_back(open(d));
    answers got;
    put(*logs[0], 1, got, 0);
    put(*logs[1], 1, got, 1);
    jobs_.run_all();  // syncfs: everything so far is durable in the segment files
    std::vector<std::uintmax_t> durable;
    for (const auto& d : dirs) durable.push_back(fs::file_size(d / "00000000000000000001.seg"));
    for (seqno seq = 2; seq <= 40; ++seq) {
        put(*logs[0], seq, got, static_cast<int>(seq) * 2);
        put(*logs[1], seq, got, static_cast<int>(seq) * 2 + 1);
        if (seq % 3 == 0) jobs_.run_all();
    }
    jobs_.run_all();
    ASSERT_EQ(got.by_producer.size(), 80u);
    for (const auto& [producer, ec] : got.by_producer) ASSERT_FALSE(ec) << producer;
    EXPECT_EQ(io_.calls(io_op::syncfs), 1);  // the rest went through the journal
    logs.clear();
    pipeline_.reset();
    // Power loss: the segment files lose what only the page cache held.
    for (std::size_t i = 0; i < dirs.size(); ++i) {
        const auto seg = dirs[i] / "00000000000000000001.seg";
        ASSERT_GT(fs::file_size(seg), durable[i]);
        fs::resize_file(seg, durable[i]);
    }
    const auto replayed = commit_journal::replay(tmp_.path(), true, &io_);
    EXPECT_EQ(replayed.files, 2u);
    make_pipeline(true, tmp_.path(), 1 << 20);
    for (const auto& d : dirs) {
        auto log = open(d);
        std::vector<seqno> seqs;
        log->read({.max_records = 1000, .max_bytes = 1u << 20},
                  [&](const record_view& r) { seqs.push_back(r.seq); });
        ASSERT_EQ(seqs.size(), 40u) << d;
        for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], seqno{i + 1});
    }
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
         .journal_bytes = 64 * 1024,  // checkpoints while rounds run
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
