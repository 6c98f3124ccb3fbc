#pragma once
// One segment of a shard's log: an append-only file of record frames (record_frame.hpp), its
// read-only shared mapping, and its sparse index (segment_index.hpp, persisted as an .idx file).
// File naming, formats and recovery rules: docs/format.md.
//
// Thread-safety: one writer (append, seal, close_file, unlink_files and the writer-state
// accessors) at a time, serialized by segment_log; any number of concurrent readers (readable,
// index, search keys, quarantine_from); sync() may run on another thread (the syncer) at the
// same time as the writer. Readers see only bytes below the committed size, which
// the writer publishes with a release store after the bytes are in the file; the writer writes
// with pwrite() into the same page cache the mapping shows, so a reader never sees a partial
// frame. The mapping lives as long as the object; destroying it never deletes files.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "kinesd/storage/file_io.hpp"
#include "kinesd/storage/record_frame.hpp"
#include "kinesd/storage/segment_index.hpp"
#include "kinesd/storage/shard_log.hpp"

namespace kinesd::storage {

// "00000000000000000042.seg" / ".idx": the ordinal as 20 zero-padded digits, so that names
// sort like ordinals.
std::string segment_file_name(std::uint64_t ordinal);
std::string index_file_name(std::uint64_t ordinal);
// The ordinal of a file named like the above with extension ext (".seg" or ".idx").
std::optional<std::uint64_t> parse_file_ordinal(std::string_view file_name, std::string_view ext);

// Maps an errno from a failed write to the storage error a caller sees.
std::error_code storage_error_from_errno(int err);

enum class segment_mode {
    active,  // the last segment: opened read-write, a bad tail is truncated away
    sealed,  // read-only; a bad frame quarantines the rest of the file, which is kept as is
};

struct segment_open_params {
    segment_mode mode = segment_mode::sealed;
    std::uint64_t capacity = 0;  // active: bytes to map (at least the file size)
    std::uint64_t index_interval_bytes = 16384;
    bool verify_all_frames = false;  // CRC-check every frame, not just from the index
    // The segment's records must come after these (the previous segment's last record):
    // a frame out of order is treated as corrupt.
    seqno floor_seq = 0;
    epoch_ms floor_arrival_ms = std::numeric_limits<epoch_ms>::min();
    file_io* io = nullptr;  // nullptr: system_file_io()
};

// What opening one segment found and did.
struct segment_recovery {
    std::uint64_t file_bytes = 0;                   // size of the segment file as found
    std::uint64_t valid_bytes = 0;                  // the prefix of whole, valid, ordered frames
    std::uint64_t records = 0;                      // records in that prefix
    frame_status stop = frame_status::end_of_data;  // why the valid prefix ends
    std::uint64_t truncated_bytes = 0;              // active: dropped from the end of the file
    bool quarantined = false;                       // sealed: bytes after valid_bytes are ignored
    bool index_rebuilt = false;
    std::string index_problem;  // "missing", "short", "stale" when rebuilt
};

class segment {
  public:
    // Creates a new, empty segment file (and its index file) ready for appends, with capacity
    // bytes mapped. Fails (nullptr, ec set) if the file exists or cannot be created or mapped.
    static std::shared_ptr<segment> create(const std::filesystem::path& dir, std::uint64_t ordinal,
                                           std::uint64_t capacity,
                                           std::uint64_t index_interval_bytes, std::error_code& ec,
                                           file_io* io = nullptr);

    // Opens an existing segment and recovers it (docs/format.md, "Recovery"): validates its
    // index, scans the frames after the last good entry, truncates (active) or quarantines
    // (sealed) at the first bad frame and rewrites the index file if it was missing, short or
    // stale. Never fails for corrupt content; fails (nullptr, ec set) only if the file cannot
    // be opened or mapped.
    static std::shared_ptr<segment> open(const std::filesystem::path& dir, std::uint64_t ordinal,
                                         const segment_open_params& params,
                                         segment_recovery& recovery, std::error_code& ec);

    ~segment();
    segment(const segment&) = delete;
    segment& operator=(const segment&) = delete;

    // --- Any thread ---------------------------------------------------------------------------
    std::uint64_t ordinal() const { return ordinal_; }

    // The committed, readable bytes: whole frames only. The span stays valid while the caller
    // holds a reference to the segment.
    std::span<const std::byte> readable() const {
        const std::uint64_t end = std::min(committed_.load(std::memory_order_acquire),
                                           read_limit_.load(std::memory_order_acquire));
        return {base_, static_cast<std::size_t>(end)};
    }

    const segment_index& index() const { return *index_; }

    // Keys to binary-search segments by: the first record's seq and arrival, or for an empty
    // segment keys that keep the segment list sorted (the previous record's for an empty
    // sealed segment, the maximum for an empty active one).
    seqno search_seq() const { return index_->size() > 0 ? (*index_)[0].seq : empty_seq_key_; }
    epoch_ms search_arrival_ms() const {
        return index_->size() > 0 ? (*index_)[0].arrival_ms : empty_arrival_key_;
    }

    // A reader found a bad frame at offset (the file changed under us): no reader will see
    // bytes from there on. Idempotent; the smallest offset wins. Returns true for the call that
    // quarantined the segment first (the one that should log and count it).
    bool quarantine_from(std::uint64_t offset) const;
    bool read_quarantined() const {
        return read_limit_.load(std::memory_order_acquire) !=
               std::numeric_limits<std::uint64_t>::max();
    }

    // --- Writer only --------------------------------------------------------------------------
    // Writes `bytes` (whole, stamped frames; frames[i] at bytes[frames[i].offset], seq seqs[i])
    // at the end of the committed data with one pwrite() where the kernel allows, then indexes
    // and publishes them. All or nothing: on error the file is truncated back and nothing is
    // published. Precondition: size() + bytes.size() <= capacity(), the segment is not sealed.
    std::error_code append(std::span<const std::byte> bytes,
                           std::span<const append_batch::frame_ref> frames,
                           std::span<const seqno> seqs, epoch_ms arrival_ms);

    // fdatasync; a no-op once close_file() was called. Any thread, also during an append
    // (fsync covers what was written before it started).
    std::error_code sync();
    // No more appends: closes the index file and unmaps the room reserved for growth. The
    // segment file stays open until close_file() (the log fsyncs it at the next sync()).
    void seal();
    void close_file();
    // Deletes the segment and index files; the mapping stays valid for readers.
    void unlink_files();

    std::uint64_t size() const { return committed_.load(std::memory_order_relaxed); }
    std::uint64_t capacity() const { return map_len_; }
    std::uint64_t disk_bytes() const { return file_bytes_ + index_file_bytes_; }
    std::uint64_t records() const { return records_; }
    seqno last_seq() const { return last_seq_; }
    epoch_ms last_arrival_ms() const { return last_arrival_ms_; }
    const std::filesystem::path& path() const { return path_; }

  private:
    segment(std::filesystem::path dir, std::uint64_t ordinal, std::uint64_t index_interval_bytes,
            file_io* io);
    std::error_code map(std::uint64_t length);
    void write_index_file(std::span<const index_file::stored_entry> entries);

    // Immutable after construction.
    file_io* io_;
    std::filesystem::path path_;
    std::filesystem::path index_path_;
    std::uint64_t ordinal_;
    std::uint64_t index_interval_;
    std::byte* base_ = nullptr;
    std::unique_ptr<segment_index> index_;
    seqno empty_seq_key_ = uint128_max;
    epoch_ms empty_arrival_key_ = std::numeric_limits<epoch_ms>::max();

    // Published to readers.
    std::atomic<std::uint64_t> committed_{0};
    mutable std::atomic<std::uint64_t> read_limit_{std::numeric_limits<std::uint64_t>::max()};

    // Writer state.
    std::uint64_t map_len_ = 0;  // bytes mapped at base_ (shrunk to the data by seal())
    int fd_ = -1;           // closed only under fd_mu_, which sync() holds while it uses fd_
    mutable std::mutex fd_mu_;
    int index_fd_ = -1;
    bool sealed_ = false;
    std::uint64_t file_bytes_ = 0;
    std::uint64_t index_file_bytes_ = 0;
    std::uint64_t next_index_at_ = 0;  // a frame starting here or later gets an entry
    std::uint64_t records_ = 0;
    seqno last_seq_ = 0;
    epoch_ms last_arrival_ms_ = 0;
    std::vector<std::byte> index_scratch_;  // encoded entries of one append, reused
};

}  // namespace kinesd::storage
