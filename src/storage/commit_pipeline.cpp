#include "kinesd/storage/commit_pipeline.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "kinesd/common/logging.hpp"
#include "kinesd/storage/commit_journal.hpp"
#include "kinesd/storage/counters.hpp"
#include "kinesd/storage/file_io.hpp"
#include "kinesd/storage/segment_log.hpp"

namespace kinesd::storage {

namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("storage");
    return l;
}

// Whether syncfs reports write-back errors on this kernel: Linux 5.8 made it return the file
// system's write-back errors (errseq on the superblock, per open file); before, it returned 0
// whatever was lost.
bool kernel_reports_syncfs_errors() {
    utsname u{};
    if (::uname(&u) != 0) return false;
    int major = 0, minor = 0;
    if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
    return major > 5 || (major == 5 && minor >= 8);
}

}  // namespace

commit_pipeline::commit_pipeline(commit_pipeline_options options)
    : options_(std::move(options)),
      io_(options_.io != nullptr ? options_.io : &system_file_io()),
      use_syncfs_(!options_.dir.empty() &&
                  options_.use_syncfs.value_or(kernel_reports_syncfs_errors())) {}

commit_pipeline::~commit_pipeline() {
    wait_idle();
    if (fs_fd_ >= 0) io_->close(fs_fd_);
}

void commit_pipeline::wait_idle() {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [this] { return !running_; });
}

bool commit_pipeline::retire_journal() {
    if (!journal_ || !journal_->retire()) return true;
    logger()->error("cannot retire the commit journal; the next start replays it");
    return false;
}

void commit_pipeline::waiter_added() {
    std::lock_guard lock(mu_);
    ++waiting_;
    if (gathering_ && waiting_ >= gather_target_) gather_cv_.notify_one();
}

void commit_pipeline::waiters_answered(std::size_t n) {
    std::lock_guard lock(mu_);
    waiting_ -= std::min(n, waiting_);
}

void commit_pipeline::enqueue(segment_log* log) {
    {
        std::lock_guard lock(mu_);
        queue_.push_back(log);
        if (running_) return;  // the round in progress posts the next job
        running_ = true;
    }
    options_.runner([this] { serve(); });
}

void commit_pipeline::gather(std::unique_lock<std::mutex>& lock) {
    if (waiting_ >= gather_target_) return;
    // Bounded in real time: the wait is a throughput trade, at most half a round (and 1 ms) of
    // latency, never a dependency on another producer.
    const auto limit =
        std::min<std::chrono::nanoseconds>(last_round_time_ / 2, std::chrono::milliseconds(1));
    gathering_ = true;
    gather_cv_.wait_for(lock, limit, [this] { return waiting_ >= gather_target_; });
    gathering_ = false;
}

int commit_pipeline::file_system_fd() {
    if (!use_syncfs_) return -1;
    if (!fs_opened_) {
        fs_opened_ = true;
        fs_fd_ = io_->open(options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        struct stat st {};
        if (fs_fd_ >= 0 && ::fstat(fs_fd_, &st) == 0) {
            fs_dev_ = st.st_dev;
        } else {
            logger()->warn("cannot open {} for syncfs; each shard log flushes itself",
                           options_.dir.string());
            if (fs_fd_ >= 0) io_->close(fs_fd_);
            fs_fd_ = -1;
        }
    }
    return fs_fd_;
}

std::error_code commit_pipeline::sync_file_system(int fd) {
    counters().sync_rounds.fetch_add(1, std::memory_order_relaxed);
    counters().file_system_syncs.fetch_add(1, std::memory_order_relaxed);
    if (io_->syncfs(fd) == 0) return {};
    counters().sync_errors.fetch_add(1, std::memory_order_relaxed);
    return make_error_code(storage_errc::io_error);
}

commit_journal* commit_pipeline::journal() {
    if (!journal_opened_) {
        journal_opened_ = true;
        if (options_.journal_bytes > 0 && file_system_fd() >= 0) {
            std::error_code ec;
            journal_ = commit_journal::open(options_.dir, options_.journal_bytes, ec, io_);
            if (!journal_)
                logger()->warn(
                    "cannot open the commit journal in {} ({}); shard logs flush "
                    "their own files",
                    options_.dir.string(), ec.message());
        }
    }
    return journal_.get();
}

void commit_pipeline::serve() {
    std::vector<segment_log*> logs;
    {
        std::unique_lock lock(mu_);
        gather(lock);
        logs.swap(queue_);
    }
    // Every log's round is fixed (its target ticket taken) before anything is flushed.
    const auto started = std::chrono::steady_clock::now();
    std::vector<segment_log::round> rounds;
    rounds.reserve(logs.size());
    for (segment_log* log : logs) rounds.push_back(log->begin_pipeline_round());
    std::vector<std::error_code> results(logs.size());
    std::vector<bool> done(logs.size(), false);  // covered by the journal

    commit_journal* const j = journal();
    const int fd = j != nullptr || logs.size() > 1 ? file_system_fd() : -1;
    auto on_shared_fs = [&](const segment_log* log) { return fd >= 0 && log->device() == fs_dev_; };

    // The journal takes the new bytes of the logs whose new bytes all sit in their active
    // segment, by path relative to the data directory.
    if (j != nullptr) {
        // Segment paths are the data directory's path joined with relative ones.
        std::string_view dir = options_.dir.native();
        while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
        std::vector<journal_range> ranges;
        std::uint64_t bytes = 0;
        for (std::size_t i = 0; i < logs.size(); ++i) {
            if (!on_shared_fs(logs[i])) continue;
            const auto range = segment_log::round_bytes(rounds[i]);
            if (!range) continue;
            const std::string& path = range->in->path().native();
            if (path.size() <= dir.size() + 1 || path.compare(0, dir.size(), dir) != 0 ||
                path[dir.size()] != '/')
                continue;
            const auto all = range->in->readable();
            if (all.size() < range->last) continue;  // quarantined by a reader meanwhile
            done[i] = true;
            if (range->first == range->last) continue;  // already durable
            ranges.push_back(
                journal_range{.path = std::string_view(path).substr(dir.size() + 1),
                              .offset = range->first,
                              .bytes = all.subspan(range->first, range->last - range->first)});
            bytes += commit_journal::entry_bytes(ranges.back());
        }
        if (!j->fits(bytes)) {
            std::fill(done.begin(), done.end(), false);
        } else if (!ranges.empty()) {
            counters().sync_rounds.fetch_add(1, std::memory_order_relaxed);
            const std::error_code ec = j->write(ranges);
            for (std::size_t i = 0; i < logs.size(); ++i)
                if (done[i]) results[i] = ec;
        }
    }

    // The rest: one syncfs for those on the data directory's file system when there are two
    // or more of them; every other log flushes itself.
    std::size_t shared_count = 0;
    for (std::size_t i = 0; i < logs.size(); ++i)
        if (!done[i] && on_shared_fs(logs[i])) ++shared_count;
    const bool shared = shared_count > 1;
    const std::error_code shared_result = shared ? sync_file_system(fd) : std::error_code{};
    for (std::size_t i = 0; i < logs.size(); ++i)
        if (!done[i])
            results[i] =
                shared && on_shared_fs(logs[i]) ? shared_result : logs[i]->flush(rounds[i]);

    segment_log::answered_list answered;
    std::vector<segment_log*> again;
    for (std::size_t i = 0; i < logs.size(); ++i)
        // A log without waiters left is free from here on (it may be destroyed).
        if (logs[i]->end_pipeline_round(rounds[i], results[i], answered)) again.push_back(logs[i]);

    const auto round_time = std::chrono::steady_clock::now() - started;
    // Before the round counts as over: once wait_idle() returns, every answer has been given
    // (the callbacks post to I/O threads, whose contexts may be destroyed after that).
    // Producers answered here that put again join the queue for the next round.
    for (auto& [w, result] : answered) w.second(result);

    bool more = false;
    {
        std::lock_guard lock(mu_);
        gather_target_ = waiting_ + answered.size();
        last_round_time_ = round_time;
        queue_.insert(queue_.end(), again.begin(), again.end());
        more = !queue_.empty();
        if (!more) {
            running_ = false;  // wait_idle() and the destructor return once the lock is let go
            idle_cv_.notify_all();
        }
    }
    // The next round is a new job at the back of the runner's queue.
    if (more) options_.runner([this] { serve(); });
}

}  // namespace kinesd::storage
