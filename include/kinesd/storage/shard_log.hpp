#pragma once
// The storage contract of one shard: an append-only log of records ordered by sequence number.
// The shard layer (src/shard) talks only to this interface; segment_log is the implementation
// on disk. Another backend (memory, object store) could replace it without touching shard/.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "kinesd/common/clock.hpp"
#include "kinesd/common/uint128.hpp"
#include "kinesd/storage/fsync_policy.hpp"

namespace kinesd::storage {

// Sequence numbers are opaque 128-bit ordering keys to storage: strictly increasing within a log.
using seqno = uint128;

// Errors storage reports as values (a torn tail or a full disk is not an exception).
enum class storage_errc {
    io_error = 1,       // a read/write/fsync failed (errno is logged where it happened)
    no_space,           // ENOSPC or EDQUOT: the batch was not written
    corrupt_segment,    // a sealed segment failed validation; its rest is quarantined
    closed,             // the log was closed or removed
};
const std::error_category& storage_category();
std::error_code make_error_code(storage_errc e);

// One stored record as a reader sees it. The views point into the log's memory (a mapped
// segment) and stay valid only for the duration of the visitor call that receives them.
struct record_view {
    seqno seq = 0;
    epoch_ms arrival_ms = 0;
    std::string_view partition_key;
    // 16 bytes, big-endian, when the producer gave an ExplicitHashKey; empty otherwise.
    std::span<const std::byte> explicit_hash_key;
    std::span<const std::byte> data;
};

namespace detail {
// A std::allocator whose value-initialization does nothing: append_batch grows its buffer by
// the data capacity the caller is about to overwrite, and zeroing it first would be wasted work.
template <class T>
struct default_init_allocator : std::allocator<T> {
    template <class U>
    struct rebind {
        using other = default_init_allocator<U>;
    };
    using std::allocator<T>::allocator;
    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};
}  // namespace detail

// Frames for one append, built by the caller *outside* any lock: the record data is written
// (e.g. base64-decoded) straight into the frame buffer, so it is copied once. Sequence numbers,
// arrival time and checksums are stamped later by shard_log::append under the shard's lock.
// Not thread-safe; reusable after clear().
class append_batch {
public:
    // Adds a frame whose data will be data_capacity bytes at most, and returns the span the
    // caller fills with the data. Call commit_data() before the next add() with the number of
    // bytes actually written (<= data_capacity). explicit_hash_key: 16 bytes big-endian or empty.
    // Throws std::length_error if the key exceeds 65535 bytes or the frame 1 GiB, and
    // std::invalid_argument if explicit_hash_key is neither empty nor 16 bytes. A frame still
    // open when add() or shard_log::append() is called is committed with its full capacity.
    std::span<std::byte> add(std::string_view partition_key,
                             std::span<const std::byte> explicit_hash_key,
                             std::size_t data_capacity);
    void commit_data(std::size_t data_size);
    // Commits a frame left open by add() with its full data capacity; no-op otherwise.
    // shard_log::append() calls it.
    void finish();

    // Convenience: add() + copy + commit_data().
    void add_copy(std::string_view partition_key, std::span<const std::byte> explicit_hash_key,
                  std::span<const std::byte> data);

    // Preallocates room for `frames` frames of `bytes` bytes in total (frame overhead included:
    // 39 bytes + key + hash key per frame), so that building the batch does not reallocate and
    // move data already written. Optional.
    void reserve(std::size_t frames, std::size_t bytes);

    std::size_t size() const { return frames_.size(); }
    bool empty() const { return frames_.empty(); }
    std::size_t byte_size() const { return buffer_.size(); }
    void clear();

    // For shard_log implementations: the encoded frames, contiguous, in order.
    struct frame_ref {
        std::size_t offset;  // start of the frame in buffer()
        std::size_t length;  // whole frame, header included
    };
    std::span<std::byte> buffer() { return buffer_; }
    std::span<const frame_ref> frames() const { return frames_; }

private:
    void close_open_frame(std::size_t data_size);

    std::vector<std::byte, detail::default_init_allocator<std::byte>> buffer_;
    std::vector<frame_ref> frames_;
    std::size_t open_frame_capacity_ = 0;  // data_capacity of the last add(), 0 when committed
    bool frame_open_ = false;              // add() was called and commit_data() not yet
    std::uint16_t open_key_len_ = 0;       // layout of the open frame, for commit_data()
    std::uint8_t open_ehk_len_ = 0;
};

// What a read() returns besides the visited records.
struct read_result {
    std::size_t records = 0;     // records visited
    std::size_t data_bytes = 0;  // sum of their data sizes
    seqno last_seq = 0;          // sequence number of the last visited record (0 if none)
    // True when the read stopped because it reached the end of what is committed, not a limit.
    bool reached_end = false;
};

struct read_request {
    seqno after = 0;                 // visit records with seq > after (0: from the oldest)
    epoch_ms min_arrival_ms = 0;     // skip records that arrived earlier (AT_TIMESTAMP, retention)
    std::size_t max_records = 10000; // stop after this many
    std::size_t max_bytes = 10 << 20;// stop before the sum of data sizes would exceed this
                                     // (the first record is always visited if it exists)
    // false: frames are not CRC-checked, so the visitor may see corrupt keys and data (never to
    // be served; for sizing an answer before a checked read that serves it). A frame that fails
    // only its CRC is visited, not quarantined; the checked read that follows finds it.
    bool check_crc = true;
};

using record_visitor = std::function<void(const record_view&)>;

// Told whether appends up to a ticket are durable (shard_log::commit_async).
using commit_callback = std::function<void(std::error_code)>;

// Segments that retention took out of a log (shard_log::detach_expired) but whose files are still
// on disk. No reader that starts after the detach sees them; readers that hold them keep their
// mappings. delete_files() unlinks the files: call it after letting go of the shard's write lock,
// so that appends never wait for the file system. Destroying the object deletes them too.
// Move-only; not thread-safe.
class detached_segments {
public:
    detached_segments() = default;
    detached_segments(std::size_t count, std::uint64_t bytes, std::function<void()> deleter)
        : count_(count), bytes_(bytes), deleter_(std::move(deleter)) {}
    detached_segments(detached_segments&& o) noexcept
        : count_(o.count_), bytes_(o.bytes_), deleter_(std::exchange(o.deleter_, nullptr)) {}
    detached_segments& operator=(detached_segments&& o) noexcept {
        if (this != &o) {
            delete_files();
            count_ = o.count_;
            bytes_ = o.bytes_;
            deleter_ = std::exchange(o.deleter_, nullptr);
        }
        return *this;
    }
    detached_segments(const detached_segments&) = delete;
    detached_segments& operator=(const detached_segments&) = delete;
    ~detached_segments() { delete_files(); }

    std::size_t count() const { return count_; }     // segments detached
    std::uint64_t bytes() const { return bytes_; }   // their segment and index file bytes
    // Idempotent.
    void delete_files() {
        if (auto d = std::exchange(deleter_, nullptr)) d();
    }

private:
    std::size_t count_ = 0;
    std::uint64_t bytes_ = 0;
    std::function<void()> deleter_;
};

// Thread-safety: one writer at a time (append, detach_expired, remove: the caller holds
// the shard's write lock); any number of concurrent readers (read, last_seq, ...), which never
// wait for a write's I/O and never see a record before append() has returned for it.
class shard_log {
public:
    virtual ~shard_log() = default;

    // Stamps frame i of the batch with seqs[i] (strictly increasing, above last_seq()) and
    // arrival_ms, and writes the whole batch. All or nothing: on error nothing of the batch
    // becomes visible, and the log stays usable. Durable against a crash of the process once it
    // returns (the bytes are in the file); fsync is the sync policy's business (sync()).
    virtual std::error_code append(append_batch& batch, std::span<const seqno> seqs,
                                   epoch_ms arrival_ms) = 0;

    // Flushes every record appended so far to stable storage (fdatasync of the segments written
    // since the last sync, and of the directory if files were created). Any thread, also while
    // appends run; concurrent sync() and commit() calls share fsyncs (group commit).
    virtual std::error_code sync() = 0;

    // --- Durability (docs/durability.md) ------------------------------------------------------
    // A ticket naming everything appended so far. Writer only: take it under the write lock
    // right after a successful append(), and pass it to commit() after releasing the lock.
    virtual std::uint64_t sync_ticket() const { return 0; }
    // Makes the appends up to `ticket` as durable as the log's fsync policy requires before they
    // are acknowledged. fsync_policy::always: returns once they are fsynced; one fsync covers
    // every caller waiting on this log at the time (group commit), so concurrent producers do not
    // pay one fsync each. Other policies: returns at once. Any thread, without the write lock
    // (others keep appending while the fsync runs). On error the records are written (and
    // readable) but may not survive a power loss: the caller must not acknowledge them.
    virtual std::error_code commit(std::uint64_t ticket) {
        (void)ticket;
        return {};
    }
    // Whether commit() waits (fsync_policy::always). When false, neither commit function has
    // anything to wait for and callers may skip them.
    virtual bool commit_waits() const { return false; }
    // commit() without blocking the caller: `done` runs once with commit()'s result, on a
    // thread of the log's commit pipeline (segment_log_options::pipeline) once the round
    // covering `ticket` ends, or before commit_async returns when nothing needs waiting for.
    // `done` must not block and must not call into this log. Any thread.
    virtual void commit_async(std::uint64_t ticket, commit_callback done) { done(commit(ticket)); }

    // Visits records in sequence order, starting after req.after, using the sparse indexes to
    // seek (by sequence number and by min_arrival_ms) instead of scanning from the start.
    virtual read_result read(const read_request& req, const record_visitor& visit) const = 0;

    // Sequence number / arrival time of the newest record, 0 when the log has never had one.
    virtual seqno last_seq() const = 0;
    virtual epoch_ms last_arrival_ms() const = 0;
    // Sequence number of the oldest record still stored, nullopt when empty.
    virtual std::optional<seqno> first_seq() const = 0;

    virtual std::uint64_t disk_bytes() const = 0;

    // Retention, with the active segment included: takes out every segment whose newest record
    // arrived before cutoff_ms, oldest first (and segments left without records). When that
    // includes the active segment, it is replaced by a new empty one, so that a log whose
    // records all expired keeps nothing of them on disk; last_seq() and last_arrival_ms() keep
    // their values. Writer only (under the shard's write lock); call delete_files() on the
    // result after releasing it. If the new active segment cannot be created, the old one stays.
    virtual detached_segments detach_expired(epoch_ms cutoff_ms) = 0;

    // Deletes every file of the log; the object is unusable afterwards (appends: closed).
    virtual void remove() = 0;
};

class file_io;
class commit_pipeline;

struct segment_log_options {
    std::uint64_t segment_bytes = 64ull << 20;  // roll the active segment past this size
    // One sparse index entry per this many bytes. 16 KiB rather than 4: the index is the only
    // memory that grows with the data (2 MiB per GiB instead of 8; after 1 GiB of 1 KiB records,
    // anonymous memory 11.5 MiB instead of 17.5, restart 36 ms instead of 45) and an index
    // pwrite comes every ~15 records instead of every ~4; a read decodes up to 16 KiB of
    // frames from the entry to its start.
    std::uint64_t index_interval_bytes = 16384;
    // Recovery at open normally reads, per segment, the frames at its first and last index
    // entries and everything after the last one (docs/format.md); a bad frame between two good
    // entries is then found by the first read that reaches it (which stops serving that segment
    // there). true: CRC-check every frame of every segment at open (reads the whole log; a
    // complete recovery_report).
    bool verify_all_frames_on_open = false;
    fsync_policy fsync = fsync_policy::interval;  // what commit() does; see fsync_policy
    // Runs the fsync rounds that commit_async() waiters need, off their threads, together with
    // those of the other logs that use it (fsync_policy::always). Must outlive the log.
    // nullptr: commit_async() waits like commit().
    commit_pipeline* pipeline = nullptr;
    // The file system calls of the log (tests inject faults); nullptr: system_file_io().
    file_io* io = nullptr;
};

// What recovery found and did when a log was opened; logged by the caller.
struct recovery_report {
    std::size_t segments = 0;
    std::size_t records = 0;
    std::uint64_t truncated_bytes = 0;  // torn / corrupt tail dropped from the active segment
    std::size_t quarantined_segments = 0;
    std::size_t rebuilt_indexes = 0;
    std::vector<std::string> messages;  // one line per repair, for the log
};

// Opens (creating if needed) the segment log in dir, recovering it: validates the tail of the
// active segment and truncates a torn or corrupt final frame, rebuilds missing or stale indexes.
std::unique_ptr<shard_log> open_segment_log(const std::filesystem::path& dir,
                                            const segment_log_options& options,
                                            recovery_report& report);

}  // namespace kinesd::storage

template <>
struct std::is_error_code_enum<kinesd::storage::storage_errc> : std::true_type {};
