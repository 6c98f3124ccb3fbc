#pragma once
// The sparse index of one segment: (frame offset, seq, arrival) of a frame every
// index_interval_bytes, so a read can seek instead of scanning the segment from its start.
// The persisted form (an .idx file next to the segment) is described in docs/format.md.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "kinesd/storage/shard_log.hpp"

namespace kinesd::storage {

// Packed to 32 bytes (the u128 would otherwise align the entry to 16 and pad it to 48): a log
// holds one entry per index_interval_bytes (16 KiB by default), about 2 MiB of them per GiB of
// data, all built at open. Members are read and compared by value only (never bound to a
// reference).
struct __attribute__((packed, aligned(8))) index_entry {
    std::uint64_t offset = 0;  // where the frame starts in its segment file
    seqno seq = 0;
    epoch_ms arrival_ms = 0;
    friend bool operator==(const index_entry&, const index_entry&) = default;
};
static_assert(sizeof(index_entry) == 32 && alignof(index_entry) == 8);

// In memory: a fixed-capacity array filled by one writer while any number of readers search it.
// Thread-safety: push() from one thread at a time; size(), operator[] and seek() from any thread.
// An entry is written before the size that publishes it (release/acquire) and never changes.
// Entries must be pushed in increasing offset, increasing seq, non-decreasing arrival order.
// Storage: large arrays are their own anonymous mapping, of which only the pages holding
// entries are ever touched (no RSS for the unused capacity of an active segment).
class segment_index {
  public:
    // prefault: how many entries the caller is about to push at once (recovery); their pages are
    // faulted in with one call instead of one page fault each. Only a hint.
    explicit segment_index(std::size_t capacity, std::size_t prefault = 0);
    ~segment_index();
    segment_index(const segment_index&) = delete;
    segment_index& operator=(const segment_index&) = delete;

    std::size_t capacity() const { return capacity_; }
    std::size_t size() const { return size_.load(std::memory_order_acquire); }
    // Precondition: i < size().
    const index_entry& operator[](std::size_t i) const { return entries_[i]; }

    // Appends e and publishes it. Returns false (and drops e) when the index is full, which only
    // makes reads scan further.
    bool push(const index_entry& e);

    // The offset of the last entry at or before the first record with seq > after and
    // arrival_ms >= min_arrival_ms (0 when no entry qualifies): where a read starts scanning.
    // Binary searches both keys; O(log n).
    std::uint64_t seek(seqno after, epoch_ms min_arrival_ms) const;

  private:
    index_entry* entries_ = nullptr;  // capacity_ entries; each constructed when pushed
    std::size_t capacity_;
    std::size_t map_bytes_ = 0;  // non-zero when entries_ is an anonymous mapping of that size
    std::atomic<std::size_t> size_{0};
};

// The .idx file: a 16-byte header, then 48-byte entries, each with its own CRC32C, so that an
// entry can be trusted without reading the segment at its offset (see docs/format.md).
namespace index_file {

inline constexpr std::size_t header_bytes = 16;
inline constexpr std::size_t entry_bytes = 48;
inline constexpr std::uint32_t version = 1;

struct stored_entry {
    index_entry entry;
    std::uint64_t record = 0;  // number of records in the segment before this frame
    bool checksum_ok = true;   // the entry's CRC matched (parse() output only)
};

void encode_header(std::byte* out);                                             // header_bytes
void encode_entry(std::byte* out, const index_entry& e, std::uint64_t record);  // entry_bytes

// True when the first header_bytes of in are a valid header (magic, version, entry size).
// Precondition: in.size() >= header_bytes.
bool header_ok(std::span<const std::byte> in);
// Decodes the entry_bytes at in, checksum_ok telling whether its CRC matched.
stored_entry decode_entry(const std::byte* in);

// Parses a whole file. nullopt when the header is missing or wrong; a partial trailing entry
// is ignored. Entries are returned as stored, with checksum_ok telling whether their CRC
// matched: validating them against the segment is the caller's job.
std::optional<std::vector<stored_entry>> parse(std::span<const std::byte> file);

}  // namespace index_file

}  // namespace kinesd::storage
