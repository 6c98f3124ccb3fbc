#pragma once
// commit_pipeline: the fsync rounds of every shard log of a data directory, one round at a time
// (fsync_policy::always, segment_log_options::pipeline).
//
// Every acknowledged put waits for an fsync; the producers of one log share its rounds (group
// commit). Logs that each ran rounds of their own paid one journal commit of the file system per
// log and round (ext4 commits its journal once per fdatasync that changed metadata, one commit
// at a time): 32 producers on 16 shards got about 10,000 records/s, against 15,000-21,000 with
// the pipeline on the same disk (docs/benchmarks.md). A round of the pipeline takes every log
// that has producers waiting and flushes them together: with one syncfs(2) of the data
// directory's file system when several logs are dirty (one journal commit for all of them), with
// the log's own fdatasyncs when only one is. Then it answers every producer the round covered,
// and starts the next round if producers are left.
//
// With a commit journal, a round copies the new bytes of every log whose new bytes are all in its
// active segment into the journal and fdatasyncs that one file instead (one small write-back,
// no inode to update once the journal is in its second lap); the logs that sealed or created a
// segment since their last round flush as above. 32 producers on 16 shards: see
// docs/benchmarks.md.
//
// syncfs reports write-back errors of the file system only since Linux 5.8 (before, it returned
// 0 whatever was lost): on older kernels, and for logs on another file system than the data
// directory, each log of a round flushes itself. A failed syncfs fails the round for every log
// it covered (their puts are not acknowledged), whichever file the error was in.
//
// Thread-safety: every member function is thread-safe. Lifetime: create the pipeline before the
// logs that use it and destroy it after them (its destructor waits for a round in progress).
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace kinesd::storage {

class commit_journal;
class file_io;
class segment_log;

struct commit_pipeline_options {
    // Runs the pipeline's jobs, each one round. Must run every job it is given on a thread of
    // its own (never inside the call) and outlive the pipeline. Required.
    std::function<void(std::function<void()> job)> runner;
    // The data directory: the logs on its file system are flushed with one syncfs when several
    // are dirty. Opened by the first round that needs it. Empty: each log flushes itself.
    std::filesystem::path dir;
    // Whether to use syncfs at all; nullopt: when the kernel reports write-back errors through
    // it (Linux 5.8 and later).
    std::optional<bool> use_syncfs;
    // Capacity of the commit journal (commit_journal.hpp) in the data directory; 0: no journal.
    // Used only where syncfs is (its checkpoints are syncfs calls). commit_journal::replay()
    // must have run on the directory before the pipeline's first round.
    std::uint64_t journal_bytes = 0;
    file_io* io = nullptr;  // nullptr: system_file_io()
};

class commit_pipeline {
  public:
    explicit commit_pipeline(commit_pipeline_options options);
    ~commit_pipeline();
    commit_pipeline(const commit_pipeline&) = delete;
    commit_pipeline& operator=(const commit_pipeline&) = delete;

    // Returns once no round runs or is due and every producer a round covered has been
    // answered (its callback returned). Call it when nothing puts any more (shutdown) before
    // destroying what the callbacks use; with producers still putting it may never return.
    void wait_idle();
    // At shutdown, after wait_idle(), when no round runs or will: makes what the commit journal
    // covers durable in the segment files and invalidates the journal (commit_journal::retire),
    // so that the next start has nothing to replay. Returns false if that failed (the journal
    // stays valid and is replayed at the next start).
    bool retire_journal();

    // --- Called by segment_log ------------------------------------------------------------------
    // A producer started waiting on a log (counted for gathering, see gather()). Any thread, also
    // under the log's sync mutex (the pipeline never takes a log's mutex while holding its own).
    void waiter_added();
    // Producers were answered (by any round of their log: the pipeline's or a blocking sync's).
    // Any thread, also under the log's sync mutex.
    void waiters_answered(std::size_t n);
    // The log has producers waiting and its round lead (segment_log::sync_running_) passes to
    // the pipeline: a round of the pipeline serves it. Not under the log's sync mutex.
    void enqueue(segment_log* log);

  private:
    // A job of the runner: one round over the queued logs; posts the next job if logs are left.
    void serve();
    // Before a round: waits, up to half the last round's time (at most 1 ms), until as many
    // producers wait as the last round left plus those it answered. Producers just answered
    // come back with their next put a little after the next round would have started; without
    // the wait they split into two groups that alternate rounds and each put waits about two
    // rounds (docs/benchmarks.md: 32 producers on one shard, 16,017 -> 22,306 records/s).
    // Under `lock` (on mu_).
    void gather(std::unique_lock<std::mutex>& lock);
    // The descriptor syncfs is called on (the data directory), opened on first use; -1 when
    // syncfs is not to be used. Only the round in progress calls it.
    int file_system_fd();
    // One syncfs on fd (file_system_fd()), counted; io_error if it failed.
    std::error_code sync_file_system(int fd);
    // The commit journal, opened by the first round that can use it; nullptr when there is
    // none. Only the round in progress calls it.
    commit_journal* journal();

    const commit_pipeline_options options_;
    file_io* const io_;
    const bool use_syncfs_;
    int fs_fd_ = -1;
    dev_t fs_dev_ = 0;
    bool fs_opened_ = false;  // file_system_fd() tried once
    std::unique_ptr<commit_journal> journal_;
    bool journal_opened_ = false;  // journal() tried once

    std::mutex mu_;  // guards the members below; never held during I/O or a log's calls
    std::vector<segment_log*> queue_;  // logs whose producers wait for the next round
    bool running_ = false;             // a job is posted or running
    std::condition_variable idle_cv_;  // running_ went false (wait_idle)
    std::size_t waiting_ = 0;          // producers registered and not answered yet
    std::condition_variable gather_cv_;
    bool gathering_ = false;
    std::size_t gather_target_ = 0;
    std::chrono::nanoseconds last_round_time_{0};
};

}  // namespace kinesd::storage
