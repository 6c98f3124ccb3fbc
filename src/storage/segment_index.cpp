#include "kinesd/storage/segment_index.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older C library headers lack it
#endif

#include "kinesd/storage/crc32c.hpp"
#include "kinesd/storage/endian.hpp"

namespace kinesd::storage {

namespace {
// Below this, the heap; above, a mapping of its own, so unused capacity costs no memory.
constexpr std::size_t map_threshold_bytes = 64 * 1024;
}  // namespace

segment_index::segment_index(std::size_t capacity, std::size_t prefault) : capacity_(capacity) {
    const std::size_t bytes = capacity * sizeof(index_entry);
    if (bytes < map_threshold_bytes) {
        entries_ = std::allocator<index_entry>{}.allocate(std::max<std::size_t>(capacity, 1));
        return;
    }
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    entries_ = static_cast<index_entry*>(p);
    map_bytes_ = bytes;
    // Recovery fills a sealed segment's whole index at once. One madvise faults its pages in
    // together; page by page, each fault is a trap, which is what dominated startup with 1 GiB
    // on a VM (docs/benchmarks.md). Best effort: before Linux 5.14 this fails with EINVAL and
    // the pages fault in as they are written.
    const std::size_t pre = std::min(prefault, capacity) * sizeof(index_entry);
    if (pre > 0) (void)::madvise(p, pre, MADV_POPULATE_WRITE);
}

segment_index::~segment_index() {
    // index_entry is trivially destructible: nothing to destroy, only storage to give back.
    if (map_bytes_ > 0)
        ::munmap(entries_, map_bytes_);
    else
        std::allocator<index_entry>{}.deallocate(entries_, std::max<std::size_t>(capacity_, 1));
}

bool segment_index::push(const index_entry& e) {
    const std::size_t n = size_.load(std::memory_order_relaxed);  // only the writer changes it
    if (n == capacity_) return false;
    std::construct_at(entries_ + n, e);
    size_.store(n + 1, std::memory_order_release);
    return true;
}

std::uint64_t segment_index::seek(seqno after, epoch_ms min_arrival_ms) const {
    const index_entry* begin = entries_;
    const index_entry* end = begin + size();
    // First entry with seq > after: the record we want is at or after the entry before it.
    const index_entry* by_seq = std::upper_bound(
        begin, end, after, [](seqno a, const index_entry& e) { return a < e.seq; });
    // First entry with arrival >= min: records before the entry before it all arrived earlier.
    const index_entry* by_time =
        std::lower_bound(begin, end, min_arrival_ms,
                         [](const index_entry& e, epoch_ms m) { return e.arrival_ms < m; });
    const std::uint64_t from_seq = by_seq == begin ? 0 : (by_seq - 1)->offset;
    const std::uint64_t from_time = by_time == begin ? 0 : (by_time - 1)->offset;
    return std::max(from_seq, from_time);
}

namespace index_file {
namespace {
constexpr char magic[8] = {'K', 'N', 'S', 'D', 'I', 'D', 'X', '\n'};
constexpr std::size_t checked_bytes = 40;  // an entry's CRC covers its first 40 bytes
}  // namespace

void encode_header(std::byte* out) {
    std::memcpy(out, magic, sizeof magic);
    le::store<std::uint32_t>(out + 8, version);
    le::store<std::uint32_t>(out + 12, static_cast<std::uint32_t>(entry_bytes));
}

void encode_entry(std::byte* out, const index_entry& e, std::uint64_t record) {
    le::store<std::uint64_t>(out, e.offset);
    le::store_u128(out + 8, e.seq);
    le::store<std::int64_t>(out + 24, e.arrival_ms);
    le::store<std::uint64_t>(out + 32, record);
    le::store<std::uint32_t>(out + 40, crc32c(std::span<const std::byte>(out, checked_bytes)));
    le::store<std::uint32_t>(out + 44, 0);  // reserved
}

bool header_ok(std::span<const std::byte> in) {
    return in.size() >= header_bytes && std::memcmp(in.data(), magic, sizeof magic) == 0 &&
           le::load<std::uint32_t>(in.data() + 8) == version &&
           le::load<std::uint32_t>(in.data() + 12) == entry_bytes;
}

stored_entry decode_entry(const std::byte* p) {
    stored_entry out;
    out.entry.offset = le::load<std::uint64_t>(p);
    out.entry.seq = le::load_u128(p + 8);
    out.entry.arrival_ms = le::load<std::int64_t>(p + 24);
    out.record = le::load<std::uint64_t>(p + 32);
    out.checksum_ok =
        le::load<std::uint32_t>(p + 40) == crc32c(std::span<const std::byte>(p, checked_bytes));
    return out;
}

std::optional<std::vector<stored_entry>> parse(std::span<const std::byte> file) {
    if (!header_ok(file)) return std::nullopt;
    const std::size_t n = (file.size() - header_bytes) / entry_bytes;
    std::vector<stored_entry> out;
    out.reserve(n);
    const std::byte* p = file.data() + header_bytes;
    for (std::size_t i = 0; i < n; ++i, p += entry_bytes) out.push_back(decode_entry(p));
    return out;
}

}  // namespace index_file

}  // namespace kinesd::storage
