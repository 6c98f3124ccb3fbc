#pragma once
// commit_journal: one file in the data directory into which the commit pipeline copies what a
// round makes durable for every shard log, so that the round is one fdatasync of one file
// (`--fsync always`). Format, replay and checkpoints: docs/format.md, "The commit journal".
//
// Why: a round that flushed the logs of 16 shards themselves (one syncfs) wrote back 16 files
// and their inodes, 1.4 ms on the reference disk against 0.3-0.4 ms for one file; the journal
// turns the round into one write of the new bytes of every log and one fdatasync. The journal is
// overwritten in place, lap after lap, so that after its first lap an fdatasync changes no
// metadata (no file-system journal commit). Before a lap starts again at offset 0, a checkpoint
// (syncfs of the file system) makes every segment byte the last lap covered durable in its own
// file.
//
// An entry says "these bytes are at this offset of this segment file" (a path relative to the
// data directory). Replaying an entry rewrites bytes the segment file held, or should have held:
// committed segment bytes never change and segment paths are never reused (a stream directory
// is its incarnation, ordinals grow), so replaying an entry twice, or an entry of an old lap, is
// harmless; an entry whose file is gone (retention, DeleteStream) is skipped.
//
// Thread-safety: write() and retire() are for one thread at a time (the pipeline's round);
// replay() runs before any log is opened.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace kinesd::storage {

class file_io;

// One range of one segment file, for write(). Borrowed: valid during the call.
struct journal_range {
    std::string_view path;     // relative to the data directory, '/'-separated, no ".."
    std::uint64_t offset = 0;  // in the segment file
    std::span<const std::byte> bytes;
};

// What replay() found and did.
struct journal_replay_report {
    std::size_t entries = 0;        // valid entries of the journal's current lap
    std::uint64_t bytes = 0;        // segment bytes rewritten
    std::size_t files = 0;          // segment files rewritten (and fdatasynced)
    std::size_t missing_files = 0;  // entries whose segment file no longer exists
    bool found = false;             // a journal file existed
};

class commit_journal {
  public:
    static constexpr std::string_view file_name = "commit.journal";
    static constexpr std::size_t entry_header_bytes = 32;
    // 64 MiB: a checkpoint (syncfs) every 64 MiB of puts; the file's blocks are reused.
    static constexpr std::uint64_t default_capacity_bytes = 64ull << 20;

    // Replays the journal of data_dir, if there is one, into the segment files it names and
    // fdatasyncs them; then deletes the journal (keep == false) or leaves it for open() to
    // reuse (keep == true: its blocks are overwritten in place; open() invalidates the entries).
    // Call before opening any shard log of data_dir (recovery must see the replayed bytes) and
    // before open().
    // Throws std::system_error if a segment file or the journal cannot be written or synced:
    // starting without the replayed bytes could lose acknowledged records.
    static journal_replay_report replay(const std::filesystem::path& data_dir, bool keep,
                                        file_io* io = nullptr);

    // Opens (creating it if needed) the journal of data_dir, with its entries invalidated:
    // replay() must have run first. nullptr and ec set on failure.
    static std::unique_ptr<commit_journal> open(const std::filesystem::path& data_dir,
                                                std::uint64_t capacity_bytes, std::error_code& ec,
                                                file_io* io = nullptr);
    ~commit_journal();
    commit_journal(const commit_journal&) = delete;
    commit_journal& operator=(const commit_journal&) = delete;

    // Whether entries of `total` bytes (the sum of entry_bytes()) fit one write: a round larger
    // than half the capacity is not journaled (its logs flush themselves).
    bool fits(std::uint64_t total) const { return total <= capacity_ / 2; }
    static std::uint64_t entry_bytes(const journal_range& r) {
        return entry_header_bytes + r.path.size() + r.bytes.size();
    }

    // Appends one entry per range and fdatasyncs the journal: once it returns success, every
    // range is durable. When the entries do not fit in the rest of the lap, checkpoints first
    // (syncfs, then a new lap from offset 0). On failure nothing counts as written: the next
    // write goes to the same offset. Precondition: fits(sum of entry_bytes).
    std::error_code write(std::span<const journal_range> ranges);

    // At a clean shutdown, when nothing writes any more: makes every segment byte durable in
    // its own file (syncfs; a log's sync() does not flush what the journal already covers),
    // then invalidates the entries, so that the next start replays nothing. Like write(), one
    // thread at a time. On failure the entries stay valid.
    std::error_code retire();

    std::uint64_t capacity() const { return capacity_; }
    std::uint64_t lap_offset() const { return offset_; }  // where the next entry goes

  private:
    commit_journal(int fd, std::uint64_t capacity, file_io* io);
    std::error_code checkpoint();

    const int fd_;
    const std::uint64_t capacity_;
    file_io* const io_;
    std::uint64_t offset_ = 0;       // end of the lap's valid entries
    std::uint64_t generation_ = 0;   // the lap's entries carry it; new for every lap
    std::vector<std::byte> buffer_;  // one round's entries, reused
};

}  // namespace kinesd::storage
