// segment_log under injected file-system faults (fault_io.hpp): a full disk, failed writes,
// truncates, opens and fsyncs, and the fsync policies with group commit. One test per failure
// mode; each checks that nothing half-written is served, that the log keeps serving reads and
// that it recovers by itself once the fault is gone.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fault_io.hpp"
#include "kinesd/storage/commit_pipeline.hpp"
#include "kinesd/storage/counters.hpp"
#include "kinesd/storage/segment_log.hpp"
#include "support/api_test.hpp"

namespace kinesd::storage {
namespace {

namespace fs = std::filesystem;
using testing::fault_io;
using testing::io_op;

using kinesd::test_support::temp_dir;

std::string data_of(seqno seq) {
    return fmt::format("record-{}-{}", static_cast<std::uint64_t>(seq),
                       std::string(static_cast<std::size_t>(seq % 50), 'x'));
}

std::error_code append_range(shard_log& log, seqno first, std::size_t count,
                             epoch_ms arrival = 1000) {
    append_batch batch;
    std::vector<seqno> seqs;
    for (std::size_t i = 0; i < count; ++i) {
        const std::string data = data_of(first + i);
        batch.add_copy("key", {}, std::as_bytes(std::span(data)));
        seqs.push_back(first + i);
    }
    return log.append(batch, seqs, arrival);
}

// Checks that the log holds exactly records 1..last, each with its own data.
void expect_records(const shard_log& log, seqno last) {
    seqno expected = 1;
    log.read({.max_records = 1'000'000, .max_bytes = 1u << 30}, [&](const record_view& v) {
        ASSERT_TRUE(v.seq == expected);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(v.data.data()), v.data.size()),
                  data_of(v.seq));
        ++expected;
    });
    EXPECT_TRUE(expected == last + 1) << static_cast<std::uint64_t>(expected - 1) << " records";
}

std::uint64_t counter(const std::atomic<std::uint64_t>& c) {
    return c.load(std::memory_order_relaxed);
}

class segment_log_faults : public ::testing::Test {
  protected:
    fs::path dir() const { return tmp_.path() / "shard"; }
    std::unique_ptr<segment_log> open(recovery_report* out = nullptr) {
        recovery_report r;
        auto log = segment_log::open(dir(), options_, r);
        if (out != nullptr) *out = r;
        return log;
    }
    fs::path active_file(const segment_log& log) const { return log.segments()->back()->path(); }

    temp_dir tmp_;
    fault_io io_;
    segment_log_options options_{.segment_bytes = 4096, .index_interval_bytes = 256, .io = &io_};
};

TEST_F(segment_log_faults, a_full_disk_fails_the_batch_whole_and_recovers_when_space_returns) {
    auto log = open();
    ASSERT_FALSE(append_range(*log, 1, 10));
    const auto size = fs::file_size(active_file(*log));
    const auto before = counter(counters().append_no_space);

    // The disk fills up 50 bytes into the batch: a short write, then ENOSPC.
    io_.fail({.op = io_op::pwrite, .error = ENOSPC, .path_part = ".seg", .partial_bytes = 50});
    EXPECT_EQ(append_range(*log, 11, 5), make_error_code(storage_errc::no_space));
    EXPECT_EQ(append_range(*log, 11, 5), make_error_code(storage_errc::no_space));
    EXPECT_EQ(counter(counters().append_no_space), before + 2);
    EXPECT_EQ(fs::file_size(active_file(*log)), size);  // cut back: nothing half-written
    EXPECT_TRUE(log->last_seq() == 10);
    expect_records(*log, 10);  // reads go on

    io_.clear();  // space is back: the same records go in, with the same sequence numbers
    ASSERT_FALSE(append_range(*log, 11, 5));
    expect_records(*log, 15);
    log.reset();
    recovery_report rep;
    log = open(&rep);
    EXPECT_TRUE(rep.messages.empty()) << rep.messages.front();
    expect_records(*log, 15);
}

TEST_F(segment_log_faults, a_failed_write_whose_truncate_fails_too_leaves_a_zero_filled_tail) {
    auto log = open();
    ASSERT_FALSE(append_range(*log, 1, 10));
    const auto size = fs::file_size(active_file(*log));
    io_.fail({.op = io_op::pwrite, .error = EIO, .times = 1, .path_part = ".seg",
              .partial_bytes = 60});
    io_.fail({.op = io_op::ftruncate, .error = EIO, .times = 1, .path_part = {}});
    EXPECT_EQ(append_range(*log, 11, 5), make_error_code(storage_errc::io_error));
    expect_records(*log, 10);
    // The leftover bytes are still in the file, but their first frame's length is zeroed.
    EXPECT_GT(fs::file_size(active_file(*log)), size);
    log.reset();  // crash here: recovery reads the leftovers as a zero-filled tail
    io_.clear();
    recovery_report rep;
    log = open(&rep);
    EXPECT_EQ(rep.truncated_bytes, 60u);
    ASSERT_EQ(rep.messages.size(), 1u);
    EXPECT_NE(rep.messages[0].find("zero-filled"), std::string::npos) << rep.messages[0];
    expect_records(*log, 10);
    ASSERT_FALSE(append_range(*log, 11, 5));
    expect_records(*log, 15);
}

TEST_F(segment_log_faults, a_segment_that_cannot_be_created_fails_the_append_and_a_later_one_rolls) {
    auto log = open();
    for (seqno s = 1; s <= 40; s += 10) ASSERT_FALSE(append_range(*log, s, 10));
    // Creating files fails with ENOSPC: appends go on until the active segment is full.
    io_.fail({.op = io_op::open, .error = ENOSPC, .path_part = ".seg"});
    seqno next = 41;
    std::error_code ec;
    std::size_t segments = 0;
    for (;;) {
        segments = log->segments()->size();
        if ((ec = append_range(*log, next, 10))) break;
        next += 10;
    }
    EXPECT_EQ(ec, make_error_code(storage_errc::no_space));
    EXPECT_EQ(log->segments()->size(), segments);  // no roll was published
    expect_records(*log, next - 1);
    io_.clear();
    ASSERT_FALSE(append_range(*log, next, 10));
    expect_records(*log, next + 9);
    log.reset();
    log = open();
    expect_records(*log, next + 9);
}

TEST_F(segment_log_faults, an_index_write_failure_does_not_fail_the_append_and_is_rebuilt) {
    auto log = open();
    io_.fail({.op = io_op::pwrite, .error = ENOSPC, .path_part = ".idx"});
    for (seqno s = 1; s <= 60; s += 5) ASSERT_FALSE(append_range(*log, s, 5));
    expect_records(*log, 60);
    io_.clear();
    log.reset();
    recovery_report rep;
    log = open(&rep);
    EXPECT_GE(rep.rebuilt_indexes, 1u);
    expect_records(*log, 60);
}

TEST_F(segment_log_faults, a_segment_file_that_cannot_be_opened_is_quarantined_and_counted) {
    {
        auto log = open();
        for (seqno s = 1; s <= 300; s += 10) ASSERT_FALSE(append_range(*log, s, 10));
        ASSERT_GE(log->segments()->size(), 4u);
    }
    const auto before = counter(counters().quarantined_segments);
    io_.fail({.op = io_op::open, .error = EIO, .path_part = "00000000000000000002.seg"});
    recovery_report rep;
    auto log = open(&rep);
    EXPECT_EQ(rep.quarantined_segments, 1u);
    EXPECT_EQ(counter(counters().quarantined_segments), before + 1);
    // The first segment is served; the unreadable one is skipped; later ones still served.
    std::vector<std::uint64_t> seen;
    log->read({.max_records = 1000}, [&](const record_view& v) {
        seen.push_back(static_cast<std::uint64_t>(v.seq));
    });
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.front(), 1u);
    EXPECT_EQ(seen.back(), 300u);
    EXPECT_LT(seen.size(), 300u);
    ASSERT_FALSE(append_range(*log, 301, 1));  // the log stays writable
}

TEST_F(segment_log_faults, corruption_found_by_a_read_is_counted_once) {
    {
        auto log = open();
        for (seqno s = 1; s <= 100; s += 10) ASSERT_FALSE(append_range(*log, s, 10));
    }
    // Flip a byte a third into the first (sealed) segment: between two index entries, neither
    // the first nor the last, which are all that open checks.
    const fs::path first = dir() / "00000000000000000001.seg";
    {
        std::fstream f(first, std::ios::in | std::ios::out | std::ios::binary);
        const auto at = static_cast<std::streamoff>(fs::file_size(first) / 3);
        f.seekg(at);
        const char c = static_cast<char>(f.get() ^ 0x5a);
        f.seekp(at);
        f.put(c);
    }
    auto log = open();  // the damage is between index entries: open does not see it
    const auto before = counter(counters().quarantined_segments);
    std::size_t n1 = 0, n2 = 0;
    log->read({.max_records = 1000}, [&](const record_view&) { ++n1; });
    log->read({.max_records = 1000}, [&](const record_view&) { ++n2; });
    EXPECT_LT(n1, 100u);
    EXPECT_EQ(n1, n2);
    EXPECT_EQ(counter(counters().quarantined_segments), before + 1);
}

// --- fsync policies and group commit ---------------------------------------------------------

// Holds the first fdatasync until release(), as a slow disk would.
class held_fsync {
  public:
    explicit held_fsync(fault_io& io) : io_(io) {
        io_.on_call([this](io_op op, const std::string&) {
            if (op != io_op::fdatasync) return;
            std::unique_lock lock(mu_);
            if (entered_) return;  // only the first one is held
            entered_ = true;
            cv_.notify_all();
            cv_.wait(lock, [&] { return released_; });
        });
    }
    ~held_fsync() {
        release();
        io_.on_call(nullptr);
    }
    bool wait_entered() {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return entered_; });
    }
    void release() {
        std::lock_guard lock(mu_);
        released_ = true;
        cv_.notify_all();
    }

  private:
    fault_io& io_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool entered_ = false, released_ = false;
};

TEST_F(segment_log_faults, fsync_never_and_interval_commit_without_an_fsync) {
    for (const auto policy : {fsync_policy::never, fsync_policy::interval}) {
        options_.fsync = policy;
        auto log = open();
        const seqno first = log->last_seq() + 1;
        ASSERT_FALSE(append_range(*log, first, 3));
        const int before = io_.calls(io_op::fdatasync);
        EXPECT_FALSE(log->commit(log->sync_ticket()));
        EXPECT_EQ(io_.calls(io_op::fdatasync), before);
        EXPECT_FALSE(log->sync());  // what the interval syncer and shutdown call
        EXPECT_EQ(io_.calls(io_op::fdatasync), before + 1);
        EXPECT_FALSE(log->sync());  // nothing new: no fsync
        EXPECT_EQ(io_.calls(io_op::fdatasync), before + 1);
    }
}

TEST_F(segment_log_faults, fsync_always_commits_after_an_fsync_of_every_written_file) {
    options_.fsync = fsync_policy::always;
    auto log = open();
    ASSERT_FALSE(append_range(*log, 1, 3));
    EXPECT_EQ(io_.calls(io_op::fdatasync), 0);
    EXPECT_FALSE(log->commit(log->sync_ticket()));
    EXPECT_EQ(io_.calls(io_op::fdatasync), 1);
    EXPECT_EQ(io_.calls(io_op::fsync), 1);  // the directory: the segment file was created
    // A batch that rolls: the sealed segment, the new one and the directory are synced.
    seqno next = 4;
    const auto segments = log->segments()->size();
    while (log->segments()->size() == segments) {
        ASSERT_FALSE(append_range(*log, next, 10));
        next += 10;
    }
    const std::string sealed = log->segments()->front()->path().filename().string();
    const std::string active = log->segments()->back()->path().filename().string();
    const int sealed_before = io_.calls(io_op::fdatasync, sealed);
    EXPECT_FALSE(log->commit(log->sync_ticket()));
    EXPECT_EQ(io_.calls(io_op::fdatasync, sealed), sealed_before + 1);
    EXPECT_EQ(io_.calls(io_op::fdatasync, active), 1);
    EXPECT_EQ(io_.calls(io_op::fsync), 2);
    EXPECT_FALSE(log->commit(log->sync_ticket()));  // already durable: no new fsync
    EXPECT_EQ(io_.calls(io_op::fdatasync, active), 1);
}

TEST_F(segment_log_faults, a_failed_fsync_fails_the_commits_it_covered_and_later_ones_succeed) {
    options_.fsync = fsync_policy::always;
    auto log = open();
    const auto errors = counter(counters().sync_errors);
    ASSERT_FALSE(append_range(*log, 1, 3));
    const auto ticket = log->sync_ticket();
    io_.fail({.op = io_op::fdatasync, .error = EIO, .times = 1, .path_part = {}});
    EXPECT_EQ(log->commit(ticket), make_error_code(storage_errc::io_error));
    EXPECT_EQ(counter(counters().sync_errors), errors + 1);
    // Not retried behind the caller's back: an fsync after a failure may succeed without
    // the lost pages, so the records it covered stay unacknowledged.
    EXPECT_EQ(log->commit(ticket), make_error_code(storage_errc::io_error));
    expect_records(*log, 3);  // written, readable
    ASSERT_FALSE(append_range(*log, 4, 3));
    EXPECT_FALSE(log->commit(log->sync_ticket()));  // the disk works again
    log.reset();
    log = open();
    expect_records(*log, 6);
}

// A writer can be preempted between its append and its commit while another producer's round
// fails and a third one's succeeds: the late commit must still report the failure, even though
// the log's synced position has passed its ticket.
TEST_F(segment_log_faults, a_commit_that_arrives_after_a_later_successful_round_still_fails) {
    options_.fsync = fsync_policy::always;
    auto log = open();
    ASSERT_FALSE(append_range(*log, 1, 1));
    const auto late_ticket = log->sync_ticket();  // its writer has not committed yet
    ASSERT_FALSE(append_range(*log, 2, 1));
    io_.fail({.op = io_op::fdatasync, .error = EIO, .times = 1, .path_part = {}});
    EXPECT_EQ(log->commit(log->sync_ticket()), make_error_code(storage_errc::io_error));
    ASSERT_FALSE(append_range(*log, 3, 1));
    EXPECT_FALSE(log->commit(log->sync_ticket()));  // a later round succeeds
    EXPECT_EQ(log->commit(late_ticket), make_error_code(storage_errc::io_error));
}

// Group commit: while one fsync runs, commits of appends made meanwhile wait for it and then
// share a single next fsync, instead of paying one each.
TEST_F(segment_log_faults, one_fsync_covers_every_commit_waiting_on_the_log) {
    options_.fsync = fsync_policy::always;
    auto log = open();
    held_fsync hold(io_);
    const int syncs_before = io_.calls(io_op::fdatasync);
    const auto rounds_before = counter(counters().sync_rounds);

    ASSERT_FALSE(append_range(*log, 1, 1));
    std::error_code leader_ec;
    std::thread leader([&, t = log->sync_ticket()] { leader_ec = log->commit(t); });
    ASSERT_TRUE(hold.wait_entered());
    // The first fsync is in progress. Four more appends, each committed by its own thread.
    constexpr int waiters = 4;
    std::vector<std::thread> threads;
    std::vector<std::error_code> ecs(waiters);
    for (int i = 0; i < waiters; ++i) {
        ASSERT_FALSE(append_range(*log, 2 + i, 1));
        threads.emplace_back([&, i, t = log->sync_ticket()] { ecs[i] = log->commit(t); });
    }
    hold.release();
    leader.join();
    for (auto& t : threads) t.join();

    EXPECT_FALSE(leader_ec);
    for (const auto& ec : ecs) EXPECT_FALSE(ec);
    // The held fsync covered the first append only (it started before the others); one more
    // covered all four others, whichever thread ran it.
    EXPECT_EQ(io_.calls(io_op::fdatasync) - syncs_before, 2);
    EXPECT_EQ(counter(counters().sync_rounds) - rounds_before, 2u);
}

// Appends go on while an fsync runs: the write lock is not held across it.
TEST_F(segment_log_faults, appends_do_not_wait_for_a_running_fsync) {
    options_.fsync = fsync_policy::always;
    auto log = open();
    held_fsync hold(io_);
    ASSERT_FALSE(append_range(*log, 1, 1));
    std::thread syncer([&, t = log->sync_ticket()] { EXPECT_FALSE(log->commit(t)); });
    ASSERT_TRUE(hold.wait_entered());
    for (seqno s = 2; s <= 50; ++s) ASSERT_FALSE(append_range(*log, s, 1));  // not blocked
    expect_records(*log, 50);
    hold.release();
    syncer.join();
}

// --- commit_async: the fsync wait off the caller's thread ---------------------------------------

// Collects commit_async() answers; thread-safe.
class commit_answers {
  public:
    commit_callback callback(std::size_t i) {
        return [this, i](std::error_code ec) {
            std::lock_guard lock(mu_);
            answers_[i] = ec;
            threads_[i] = std::this_thread::get_id();
            cv_.notify_all();
        };
    }
    bool answered(std::size_t i) {
        std::lock_guard lock(mu_);
        return answers_.count(i) > 0;
    }
    // Waits (bounded) until `n` answers came; returns them in callback order.
    std::vector<std::error_code> wait(std::size_t n) {
        std::unique_lock lock(mu_);
        EXPECT_TRUE(
            cv_.wait_for(lock, std::chrono::seconds(30), [&] { return answers_.size() >= n; }));
        std::vector<std::error_code> out;
        for (const auto& [i, ec] : answers_) out.push_back(ec);
        return out;
    }
    std::thread::id thread_of(std::size_t i) {
        std::lock_guard lock(mu_);
        return threads_[i];
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<std::size_t, std::error_code> answers_;
    std::map<std::size_t, std::thread::id> threads_;
};

class segment_log_async_commits : public segment_log_faults {
  protected:
    segment_log_async_commits() {
        options_.fsync = fsync_policy::always;
        options_.pipeline = &pipeline_;
    }
    boost::asio::thread_pool fsync_threads_{1};  // runs the rounds, as kinesd's main() does
    commit_pipeline pipeline_{{.runner =
                                   [this](std::function<void()> job) {
                                       boost::asio::post(fsync_threads_, std::move(job));
                                   },
                               .dir = tmp_.path(),
                               .use_syncfs = true,
                               .io = &io_}};
};

TEST_F(segment_log_async_commits, answer_once_the_fsync_ends_without_holding_the_caller) {
    auto log = open();
    held_fsync hold(io_);
    commit_answers answers;
    ASSERT_FALSE(append_range(*log, 1, 1));
    log->commit_async(log->sync_ticket(), answers.callback(0));  // returns: the caller is free
    ASSERT_TRUE(hold.wait_entered());
    EXPECT_FALSE(answers.answered(0));  // not before its fsync
    // Four more producers while that fsync runs: they wait for the next round, together.
    for (std::size_t i = 1; i <= 4; ++i) {
        ASSERT_FALSE(append_range(*log, 1 + i, 1));
        log->commit_async(log->sync_ticket(), answers.callback(i));
    }
    EXPECT_FALSE(answers.answered(4));
    hold.release();
    for (const auto& ec : answers.wait(5)) EXPECT_FALSE(ec);
    EXPECT_EQ(io_.calls(io_op::fdatasync), 2);  // the held one, then one for the four
    EXPECT_NE(answers.thread_of(0), std::this_thread::get_id());  // on an fsync thread
    // Already durable: answered at once, on the caller's thread, without an fsync.
    log->commit_async(log->sync_ticket(), answers.callback(5));
    EXPECT_TRUE(answers.answered(5));
    EXPECT_EQ(answers.thread_of(5), std::this_thread::get_id());
    EXPECT_EQ(io_.calls(io_op::fdatasync), 2);
}

TEST_F(segment_log_async_commits,
       a_failed_fsync_fails_the_commits_it_covered_and_later_ones_succeed) {
    auto log = open();
    commit_answers answers;
    ASSERT_FALSE(append_range(*log, 1, 3));
    const auto failed_ticket = log->sync_ticket();
    io_.fail({.op = io_op::fdatasync, .error = EIO, .times = 1, .path_part = {}});
    log->commit_async(failed_ticket, answers.callback(0));
    EXPECT_EQ(answers.wait(1)[0], make_error_code(storage_errc::io_error));
    ASSERT_FALSE(append_range(*log, 4, 1));
    log->commit_async(log->sync_ticket(), answers.callback(1));
    EXPECT_FALSE(answers.wait(2)[1]);                       // the disk works again
    log->commit_async(failed_ticket, answers.callback(2));  // still not acknowledged
    EXPECT_EQ(answers.wait(3)[2], make_error_code(storage_errc::io_error));
}

// A blocking sync() leads a round while commit_async() callers arrive: it hands them to the
// commit pipeline when its round is over.
TEST_F(segment_log_async_commits, a_sync_running_when_commits_arrive_passes_them_on) {
    auto log = open();
    held_fsync hold(io_);
    commit_answers answers;
    ASSERT_FALSE(append_range(*log, 1, 1));
    std::error_code sync_ec;
    std::thread syncer([&] { sync_ec = log->sync(); });
    ASSERT_TRUE(hold.wait_entered());
    ASSERT_FALSE(append_range(*log, 2, 1));
    log->commit_async(log->sync_ticket(), answers.callback(0));
    hold.release();
    syncer.join();
    EXPECT_FALSE(sync_ec);
    EXPECT_FALSE(answers.wait(1)[0]);
    EXPECT_EQ(io_.calls(io_op::fdatasync), 2);
    EXPECT_NE(answers.thread_of(0), std::this_thread::get_id());
}

// A log whose producers never let it idle must not keep the pipeline to itself: another log
// that waits joins the next round, and is answered.
TEST_F(segment_log_async_commits, a_busy_log_does_not_starve_another) {
    auto busy = open();
    recovery_report report;
    auto quiet = segment_log::open(tmp_.path() / "quiet", options_, report);
    commit_answers answers;
    // The busy log's producer puts again during each flush (on the pipeline's thread, its only
    // writer from then on), so a waiter is always left when a round ends.
    std::atomic<bool> stop{false};
    seqno next = 2;
    io_.on_call([&](io_op op, const std::string& path) {
        const bool flush = (op == io_op::fdatasync && path.find("/shard/") != std::string::npos) ||
                           op == io_op::syncfs;
        if (!flush || stop.load()) return;
        ASSERT_FALSE(append_range(*busy, next++, 1));
        busy->commit_async(busy->sync_ticket(), [](std::error_code) {});
    });
    ASSERT_FALSE(append_range(*busy, 1, 1));
    busy->commit_async(busy->sync_ticket(), [](std::error_code) {});
    ASSERT_FALSE(append_range(*quiet, 1, 1));
    quiet->commit_async(quiet->sync_ticket(), answers.callback(0));
    const auto got = answers.wait(1);  // bounded: 30 s
    stop = true;
    ASSERT_EQ(got.size(), 1u);
    EXPECT_FALSE(got[0]);
    busy.reset();  // waits for its last round; before the pipeline, which runs it
    quiet.reset();
    io_.on_call(nullptr);
}

// The log is destroyed (stream deleted) while a round of the commit pipeline is in progress: the
// destructor waits for it (ASan would catch the round touching a freed log).
TEST_F(segment_log_async_commits, destroying_the_log_waits_for_its_running_round) {
    auto log = open();
    auto hold = std::make_unique<held_fsync>(io_);
    commit_answers answers;
    ASSERT_FALSE(append_range(*log, 1, 1));
    log->commit_async(log->sync_ticket(), answers.callback(0));
    ASSERT_TRUE(hold->wait_entered());
    std::thread destroyer([&] { log.reset(); });
    hold->release();
    destroyer.join();
    EXPECT_FALSE(answers.wait(1)[0]);
}

}  // namespace
}  // namespace kinesd::storage
