#pragma once
// segment_log: the on-disk shard_log. A directory of segments (segment.hpp), the last of which
// is active (appended to); the others are sealed. Format and recovery: docs/format.md.
//
// Readers take a snapshot of the segment list (a shared_ptr swapped under a mutex held only for
// the swap or the copy, never during I/O) and keep it for the whole read, so retention and
// remove() can delete files under a reader: the files are unlinked at once and unmapped when the
// last reader lets go.
#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "kinesd/storage/segment.hpp"
#include "kinesd/storage/shard_log.hpp"

namespace kinesd::storage {

class segment_log final : public shard_log {
  public:
    // See open_segment_log(). Throws std::system_error if dir cannot be created or opened, or
    // if no active segment can be created in it.
    static std::unique_ptr<segment_log> open(const std::filesystem::path& dir,
                                             const segment_log_options& options,
                                             recovery_report& report);
    ~segment_log() override;

    // Appends as shard_log::append. Also returns std::errc::invalid_argument (nothing written)
    // when seqs.size() != batch.size() or the seqs are not strictly increasing above
    // last_seq(). An arrival_ms below last_arrival_ms() is raised to it, so that arrival times
    // stay non-decreasing (the time index relies on it).
    std::error_code append(append_batch& batch, std::span<const seqno> seqs,
                           epoch_ms arrival_ms) override;
    std::error_code sync() override;
    std::uint64_t sync_ticket() const override { return ticket_.load(std::memory_order_relaxed); }
    std::error_code commit(std::uint64_t ticket) override;
    bool commit_waits() const override { return options_.fsync == fsync_policy::always; }
    void commit_async(std::uint64_t ticket, commit_callback done) override;
    read_result read(const read_request& req, const record_visitor& visit) const override;
    seqno last_seq() const override;
    epoch_ms last_arrival_ms() const override;
    std::optional<seqno> first_seq() const override;
    // Bytes of segment and index files, quarantined bytes included.
    std::uint64_t disk_bytes() const override;
    detached_segments detach_expired(epoch_ms cutoff_ms) override;
    void remove() override;

    // --- Diagnostics and tests ----------------------------------------------------------------
    struct read_stats {
        std::size_t frames_decoded = 0;  // frames decoded (and CRC-checked), skipped ones too
        std::size_t segments_visited = 0;
    };
    // read() that also counts its work (how far the index let it seek).
    read_result read(const read_request& req, const record_visitor& visit, read_stats& stats) const;

    using segment_list = std::vector<std::shared_ptr<segment>>;
    std::shared_ptr<const segment_list> segments() const;

  private:
    segment_log(std::filesystem::path dir, const segment_log_options& options, int dir_fd);

    void publish(std::shared_ptr<const segment_list> list);
    // Makes a new active segment able to hold `bytes`, sealing (or, if empty, deleting) the
    // current one.
    std::error_code roll(std::uint64_t bytes);
    void set_last(seqno seq, epoch_ms arrival_ms);
    // Takes the expired prefix of the segment list out (the active segment too when it expired,
    // replaced by an empty one) and publishes the rest; returns what was taken out.
    segment_list detach_prefix(epoch_ms cutoff_ms);
    // Group commit: returns once every append with a ticket <= `ticket` is fsynced, running an
    // fsync round itself if none is running, else waiting for the running one.
    std::error_code sync_to(std::uint64_t ticket);

    // --- fsync rounds -----------------------------------------------------------------------
    // A round covers the appends with tickets first..target (first: the last covered ticket + 1):
    // every byte of them is in a segment of `sealed` or in the active segment of `list`.
    struct round {
        std::uint64_t first = 0;
        std::uint64_t target = 0;
        segment_list sealed;  // sealed segments not fsynced yet
        bool dir = false;     // segment files were created: fsync the directory too
        std::shared_ptr<const segment_list> list;
        // The active segment (list's last) and its committed bytes when the round began: the
        // round makes them durable. Empty when the list is.
        std::shared_ptr<segment> active;
        std::uint64_t active_bytes = 0;
        // What the last successful round made durable of the active segment (its ordinal, 0 if
        // none, and bytes): the round's new bytes start there (round_bytes()).
        std::uint64_t durable_ordinal = 0;
        std::uint64_t durable_bytes = 0;
    };
    using waiter = std::pair<std::uint64_t, commit_callback>;  // (ticket, done)
    using answered_list = std::vector<std::pair<waiter, std::error_code>>;
    // Under sync_mu_, by the round's leader (who set sync_running_): what the round covers.
    round begin_round();
    // The log's own fsyncs for the round: its segments, and its directory if needed. No lock.
    std::error_code flush(const round& r);
    // After the round's flush (its own or the pipeline's syncfs), without sync_mu_: closes the
    // sealed segment files the round made durable, or logs the failure.
    void after_flush(const round& r, std::error_code ec);
    // Under sync_mu_: records the round's result and moves the waiters it covered into
    // `answered` (to be called after letting go of the mutex), telling the pipeline how many.
    void settle(const round& r, std::error_code ec, answered_list& answered);
    // One round led by the caller, who holds `lock` (on sync_mu_) and has set sync_running_;
    // returns with the lock held again and sync_running_ still set.
    std::error_code run_round(std::unique_lock<std::mutex>& lock, answered_list& answered);
    // For commit_pipeline: a round of the pipeline, whose lead the log handed over (enqueue).
    // end_pipeline_round returns whether producers are left, in which case the pipeline keeps
    // the lead; otherwise the log is free (and may be destroyed) once it returns.
    friend class commit_pipeline;
    round begin_pipeline_round();
    bool end_pipeline_round(const round& r, std::error_code ec, answered_list& answered);
    dev_t device() const { return dev_; }
    // The bytes the round has to make durable, when they are all in the active segment that
    // the last successful round left durable up to some offset (no segment sealed or created
    // since: those need their own fsyncs): that segment and the range [first, last).
    struct new_bytes {
        const segment* in = nullptr;
        std::uint64_t first = 0;
        std::uint64_t last = 0;
    };
    static std::optional<new_bytes> round_bytes(const round& r);

    bool in_failed_round(std::uint64_t ticket) const;  // under sync_mu_

    const std::filesystem::path dir_;
    const segment_log_options options_;
    int dir_fd_ = -1;  // for fsync of the directory after creating segment files
    dev_t dev_ = 0;    // the file system of the directory (commit_pipeline: who shares a syncfs)

    // The segment list readers snapshot; the writer replaces it (copy on write) under the mutex.
    mutable std::mutex list_mutex_;
    std::shared_ptr<const segment_list> list_;

    // last_seq / last_arrival_ms, readable at any time: a seqlock (the writer bumps version_ to
    // odd, stores, bumps it to even; readers retry while it is odd or changed).
    std::atomic<std::uint64_t> version_{0};
    std::atomic<std::uint64_t> last_seq_lo_{0};
    std::atomic<std::uint64_t> last_seq_hi_{0};
    std::atomic<epoch_ms> last_arrival_ms_{0};

    std::atomic<std::uint64_t> disk_bytes_{0};
    std::atomic<bool> closed_{false};

    // Group commit. The writer bumps ticket_ (release) after each successful append; an fsync
    // round reads it first (acquire), so it covers every append counted in it.
    file_io* io_;
    std::atomic<std::uint64_t> ticket_{0};
    mutable std::mutex sync_mu_;  // guards the members below; never held during I/O
    std::condition_variable sync_cv_;
    bool sync_running_ = false;
    std::uint64_t synced_ = 0;  // the highest ticket a successful round covered
    // Tickets (first, last) of the failed rounds: never acknowledged, even after a later round
    // succeeds (a retried fsync can succeed without the pages the failed one dropped). Grows
    // only when an fsync fails.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> failed_;
    segment_list unsynced_;          // sealed segments whose files were not fsynced yet
    // commit_async() callers whose tickets no round has covered yet. Empty whenever no round
    // runs (sync_running_ false): whoever ends a round with waiters left hands the lead to the
    // commit pipeline.
    std::vector<waiter> waiters_;
    bool dir_dirty_ = false;         // segment files were created since the last round
    // The active segment's bytes the last successful round made durable (round::durable_*).
    std::uint64_t durable_ordinal_ = 0;
    std::uint64_t durable_bytes_ = 0;
};

}  // namespace kinesd::storage
