#include "kinesd/storage/segment.hpp"

#include "kinesd/storage/counters.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

namespace kinesd::storage {

namespace fs = std::filesystem;

namespace {

std::error_code last_system_error() { return {errno, std::system_category()}; }

void close_fd(file_io& io, int& fd) {
    if (fd >= 0) io.close(fd);
    fd = -1;
}

// Reads up to max_bytes of the file at path. Returns false if it cannot be opened or read.
bool read_file_prefix(file_io& io, const fs::path& path, std::size_t max_bytes,
                      std::vector<std::byte>& out) {
    const int fd = io.open(path.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return false;
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0;
    if (ok) {
        out.resize(std::min<std::size_t>(static_cast<std::size_t>(st.st_size), max_bytes));
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t r =
                io.pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            done += static_cast<std::size_t>(r);
        }
        out.resize(done);
    }
    io.close(fd);
    return ok;
}

// Smallest distance between two index entries: entries are at least one interval and one
// frame apart. Bounds the number of entries a segment of a given size can have.
std::uint64_t index_step(std::uint64_t interval) {
    return std::max<std::uint64_t>(interval, frame_layout::overhead);
}

bool same_entries(std::span<const index_file::stored_entry> a,
                  std::span<const index_file::stored_entry> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
        // An entry whose CRC fails is not the same even with the right values: left in the
        // file, it would stop the stored index there at every open.
        return x.entry == y.entry && x.record == y.record && x.checksum_ok == y.checksum_ok;
    });
}

}  // namespace

std::string segment_file_name(std::uint64_t ordinal) { return fmt::format("{:020}.seg", ordinal); }
std::string index_file_name(std::uint64_t ordinal) { return fmt::format("{:020}.idx", ordinal); }

std::optional<std::uint64_t> parse_file_ordinal(std::string_view name, std::string_view ext) {
    constexpr std::size_t digits = 20;
    if (name.size() != digits + ext.size() || name.substr(digits) != ext) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : name.substr(0, digits)) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    return v;
}

std::error_code storage_error_from_errno(int err) {
    if (err == ENOSPC || err == EDQUOT) return make_error_code(storage_errc::no_space);
    return make_error_code(storage_errc::io_error);
}

segment::segment(fs::path dir, std::uint64_t ordinal, std::uint64_t index_interval_bytes,
                 file_io* io)
    : io_(io != nullptr ? io : &system_file_io()),
      path_(dir / segment_file_name(ordinal)),
      index_path_(dir / index_file_name(ordinal)),
      ordinal_(ordinal),
      index_interval_(std::max<std::uint64_t>(index_interval_bytes, 1)) {}

segment::~segment() {
    if (base_ != nullptr) ::munmap(base_, static_cast<std::size_t>(map_len_));
    close_fd(*io_, fd_);
    close_fd(*io_, index_fd_);
}

std::error_code segment::map(std::uint64_t length) {
    map_len_ = length;
    if (length == 0) return {};
    void* p = ::mmap(nullptr, static_cast<std::size_t>(length), PROT_READ, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) {
        map_len_ = 0;
        return last_system_error();
    }
    base_ = static_cast<std::byte*>(p);
    return {};
}

std::shared_ptr<segment> segment::create(const fs::path& dir, std::uint64_t ordinal,
                                         std::uint64_t capacity, std::uint64_t index_interval_bytes,
                                         std::error_code& ec, file_io* io) {
    std::shared_ptr<segment> s(new segment(dir, ordinal, index_interval_bytes, io));
    s->fd_ = s->io_->open(s->path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (s->fd_ < 0) {
        ec = last_system_error();
        return nullptr;
    }
    if ((ec = s->map(capacity))) {
        s->io_->unlink(s->path_.c_str());
        return nullptr;
    }
    s->index_ = std::make_unique<segment_index>(capacity / index_step(s->index_interval_) + 2);
    s->write_index_file({});
    ec.clear();
    return s;
}

void segment::write_index_file(std::span<const index_file::stored_entry> entries) {
    // The index need not be durable (it is validated and rebuilt at open), so no fsync.
    close_fd(*io_, index_fd_);
    index_file_bytes_ = 0;
    index_fd_ = io_->open(index_path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (index_fd_ < 0) return;
    std::vector<std::byte> buf(index_file::header_bytes + entries.size() * index_file::entry_bytes);
    index_file::encode_header(buf.data());
    std::byte* p = buf.data() + index_file::header_bytes;
    for (const auto& e : entries) {
        index_file::encode_entry(p, e.entry, e.record);
        p += index_file::entry_bytes;
    }
    if (pwrite_all(*io_, index_fd_, buf.data(), buf.size(), 0) != 0) {
        close_fd(*io_, index_fd_);  // left short or missing: the next open rebuilds it
        return;
    }
    index_file_bytes_ = buf.size();
}

std::shared_ptr<segment> segment::open(const fs::path& dir, std::uint64_t ordinal,
                                       const segment_open_params& params, segment_recovery& rec,
                                       std::error_code& ec) {
    const bool active = params.mode == segment_mode::active;
    std::shared_ptr<segment> s(new segment(dir, ordinal, params.index_interval_bytes, params.io));
    s->fd_ = s->io_->open(s->path_.c_str(), (active ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
    if (s->fd_ < 0) {
        ec = last_system_error();
        return nullptr;
    }
    struct stat st {};
    if (::fstat(s->fd_, &st) != 0) {
        ec = last_system_error();
        return nullptr;
    }
    const auto file_size = static_cast<std::uint64_t>(st.st_size);
    rec = segment_recovery{};
    rec.file_bytes = file_size;
    if ((ec = s->map(active ? std::max(params.capacity, file_size) : file_size))) return nullptr;
    const std::span<const std::byte> bytes(s->base_, static_cast<std::size_t>(file_size));

    const std::uint64_t interval = s->index_interval_;
    // Whether the entry e describes the valid frame at its offset; len is that frame's length.
    const auto matches = [&](const index_entry& e, std::size_t& len) {
        record_view v;
        return decode_frame(bytes.subspan(static_cast<std::size_t>(e.offset)), v, len) ==
                   frame_status::ok &&
               v.seq == e.seq && v.arrival_ms == e.arrival_ms;
    };

    // Scan state: the next frame to decode and what the frames before it were.
    std::uint64_t off = 0, record = 0, next_index_at = 0;
    seqno last_seq = params.floor_seq;
    epoch_ms last_arrival = params.floor_arrival_ms;
    frame_status stop = frame_status::end_of_data;
    // Decodes frames from off on, up to the first that is not ok or out of order (stop says
    // which). on_entry(e) is called for each frame that gets an index entry; if it returns false
    // the scan stops before that frame and returns false.
    const auto scan = [&](auto&& on_entry) {
        for (;;) {
            record_view v;
            std::size_t used = 0;
            stop = decode_frame(bytes.subspan(static_cast<std::size_t>(off)), v, used);
            if (stop != frame_status::ok) return true;
            if (v.seq <= last_seq || v.arrival_ms < last_arrival) {
                stop = frame_status::malformed;  // out of order: not a frame this log wrote here
                return true;
            }
            if (off >= next_index_at) {
                if (!on_entry(index_file::stored_entry{{off, v.seq, v.arrival_ms}, record}))
                    return false;
                next_index_at = off + interval;
            }
            ++record;
            last_seq = v.seq;
            last_arrival = v.arrival_ms;
            off += used;
        }
    };
    const std::size_t max_index_entries =
        static_cast<std::size_t>(file_size / frame_layout::overhead + 2);

    // 0. The common case, in one pass over the index file: every stored entry is valid and in
    //    order, the first and the last describe the frames at their offsets, and no frame after
    //    the last entry needs a new one (so the file is exactly what recovery would derive).
    //    Each entry is read, checked and pushed into the in-memory index once, through a small
    //    buffer. Anything else falls back to the general path below, which redoes the work and
    //    repairs the index.
    const auto open_with_stored_index = [&]() -> bool {
        const int fd = s->io_->open(s->index_path_.c_str(), O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0) return false;
        struct fd_closer {
            file_io& io;
            int fd;
            ~fd_closer() { io.close(fd); }
        } closer{*s->io_, fd};
        struct stat ist {};
        if (::fstat(fd, &ist) != 0 || ist.st_size < static_cast<off_t>(index_file::header_bytes))
            return false;
        const auto n = static_cast<std::size_t>(
            (static_cast<std::uint64_t>(ist.st_size) - index_file::header_bytes) /
            index_file::entry_bytes);
        if (n == 0 || n > max_index_entries) return false;
        const auto pread_all = [&](std::byte* buf, std::size_t len, std::uint64_t at) {
            std::size_t done = 0;
            while (done < len) {
                const ssize_t r =
                    s->io_->pread(fd, buf + done, len - done, static_cast<off_t>(at + done));
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) return false;
                done += static_cast<std::size_t>(r);
            }
            return true;
        };
        // The header and the last entry first: the last entry's offset bounds how many entries
        // the scan after it can add, which sizes the in-memory index exactly once.
        std::byte head[index_file::header_bytes], tail[index_file::entry_bytes];
        if (!pread_all(head, sizeof head, 0) || !index_file::header_ok(head) ||
            !pread_all(tail, sizeof tail,
                       index_file::header_bytes + (n - 1) * index_file::entry_bytes))
            return false;
        const auto last = index_file::decode_entry(tail);
        if (!last.checksum_ok || last.entry.offset >= file_size) return false;
        const std::uint64_t room = (active ? s->map_len_ : file_size) - last.entry.offset;
        s->index_ = std::make_unique<segment_index>(
            n + static_cast<std::size_t>(room / index_step(interval)) + 2, n);

        constexpr std::size_t chunk_entries = 1024;  // 48 KiB, reused for the whole file
        const auto buf =
            std::make_unique_for_overwrite<std::byte[]>(chunk_entries * index_file::entry_bytes);
        index_file::stored_entry prev;
        std::size_t len = 0;
        for (std::size_t i = 0; i < n;) {
            const std::size_t k = std::min(chunk_entries, n - i);
            if (!pread_all(buf.get(), k * index_file::entry_bytes,
                           index_file::header_bytes + i * index_file::entry_bytes))
                return false;
            for (std::size_t j = 0; j < k; ++j, ++i) {
                const auto e = index_file::decode_entry(buf.get() + j * index_file::entry_bytes);
                if (!e.checksum_ok || e.entry.offset >= file_size) return false;
                if (i == 0) {
                    if (e.entry.offset != 0 || e.record != 0 || e.entry.seq <= params.floor_seq ||
                        e.entry.arrival_ms < params.floor_arrival_ms || !matches(e.entry, len))
                        return false;
                } else if (e.entry.offset <= prev.entry.offset || e.entry.seq <= prev.entry.seq ||
                           e.entry.arrival_ms < prev.entry.arrival_ms || e.record <= prev.record) {
                    return false;
                }
                s->index_->push(e.entry);
                prev = e;
            }
        }
        if (!(prev.entry == last.entry && prev.record == last.record) || !matches(prev.entry, len))
            return false;
        off = prev.entry.offset + len;
        record = prev.record + 1;
        last_seq = prev.entry.seq;
        last_arrival = prev.entry.arrival_ms;
        next_index_at = prev.entry.offset + interval;
        // Frames after the last entry that would need one: the index is short, let the
        // general path rebuild it.
        if (!scan([](const index_file::stored_entry&) { return false; })) return false;
        s->index_file_bytes_ = index_file::header_bytes + n * index_file::entry_bytes;
        return true;
    };
    const bool fast = !params.verify_all_frames && open_with_stored_index();
    if (!fast) {
        s->index_.reset();
        off = record = next_index_at = 0;
        last_seq = params.floor_seq;
        last_arrival = params.floor_arrival_ms;
        stop = frame_status::end_of_data;
    }

    // 1. General path: load the stored index and keep its longest prefix that fits the segment.
    std::vector<index_file::stored_entry> entries;
    std::optional<std::vector<index_file::stored_entry>> stored;
    bool index_found = true;
    if (!fast) {
        std::vector<std::byte> raw;
        const std::size_t max_index_bytes =
            index_file::header_bytes + max_index_entries * index_file::entry_bytes;
        index_found = read_file_prefix(*s->io_, s->index_path_, max_index_bytes, raw);
        if (index_found) stored = index_file::parse(raw);
    }
    std::size_t last_kept_len = 0;
    if (stored && !params.verify_all_frames) {
        entries.reserve(stored->size());
        for (const auto& e : *stored) {
            if (!e.checksum_ok || e.entry.offset >= file_size) break;
            if (entries.empty()) {
                if (e.entry.offset != 0 || e.record != 0 || e.entry.seq <= params.floor_seq ||
                    e.entry.arrival_ms < params.floor_arrival_ms)
                    break;
            } else {
                const auto& prev = entries.back();
                if (e.entry.offset <= prev.entry.offset || e.entry.seq <= prev.entry.seq ||
                    e.entry.arrival_ms < prev.entry.arrival_ms || e.record <= prev.record)
                    break;
            }
            entries.push_back(e);
        }
        // Entries in order with good checksums are the ones this log wrote; they still belong
        // to this segment's current content only if the first and the last describe the frames
        // at their offsets. (Checking those two, not all, keeps open from reading every page.)
        if (!entries.empty() && !matches(entries.front().entry, last_kept_len)) entries.clear();
        while (!entries.empty() && !matches(entries.back().entry, last_kept_len))
            entries.pop_back();
    }

    // 2. Scan the frames after the last good entry (all of them when verifying everything or
    //    when no entry is good), extending the index, up to the first frame that is not ok.
    if (!fast) {
        if (!entries.empty()) {
            const auto& back = entries.back();
            off = back.entry.offset + last_kept_len;
            record = back.record + 1;
            last_seq = back.entry.seq;
            last_arrival = back.entry.arrival_ms;
            next_index_at = back.entry.offset + interval;
        }
        scan([&](const index_file::stored_entry& e) {
            entries.push_back(e);
            return true;
        });
    }
    const std::uint64_t valid = off;
    rec.valid_bytes = valid;
    rec.records = record;
    rec.stop = stop;

    // 3. Cut off what follows the valid prefix: truncate the active segment, quarantine the
    //    rest of a sealed one (kept on disk, never read).
    s->file_bytes_ = file_size;
    if (valid < file_size) {
        if (active) {
            rec.truncated_bytes = file_size - valid;
            if (s->io_->ftruncate(s->fd_, static_cast<off_t>(valid)) == 0) s->file_bytes_ = valid;
        } else {
            rec.quarantined = true;
        }
    }
    s->committed_.store(valid, std::memory_order_relaxed);

    // 4. The in-memory index, and the index file if it does not say exactly the same (the
    //    fast path built the index and checked the file already).
    if (fast) {
        if (active) s->index_fd_ = s->io_->open(s->index_path_.c_str(), O_RDWR | O_CLOEXEC, 0);
    } else {
        const std::size_t index_capacity =
            entries.size() +
            (active ? static_cast<std::size_t>((s->map_len_ - valid) / index_step(interval)) + 2
                    : 0);
        s->index_ = std::make_unique<segment_index>(index_capacity, entries.size());
        for (const auto& e : entries) s->index_->push(e.entry);

        if (!index_found) {
            rec.index_problem = "missing";
        } else if (!stored) {
            rec.index_problem = "unreadable";
        } else if (!same_entries(*stored, entries)) {
            const bool prefix = stored->size() < entries.size() &&
                                same_entries(*stored, std::span(entries).first(stored->size()));
            rec.index_problem = prefix ? "short" : "stale";
        }
        rec.index_rebuilt = !rec.index_problem.empty();
        if (rec.index_rebuilt) {
            s->write_index_file(entries);
        } else if (active) {
            s->index_fd_ = s->io_->open(s->index_path_.c_str(), O_RDWR | O_CLOEXEC, 0);
            s->index_file_bytes_ =
                index_file::header_bytes + entries.size() * index_file::entry_bytes;
        } else {
            s->index_file_bytes_ =
                index_file::header_bytes + entries.size() * index_file::entry_bytes;
        }
    }

    // 5. Writer state.
    s->records_ = record;
    s->last_seq_ = record > 0 ? last_seq : 0;
    s->last_arrival_ms_ = record > 0 ? last_arrival : 0;
    s->next_index_at_ = next_index_at;
    if (!active) {
        s->empty_seq_key_ = params.floor_seq;
        s->empty_arrival_key_ = params.floor_arrival_ms;
        s->sealed_ = true;
        close_fd(*s->io_, s->index_fd_);
        close_fd(*s->io_, s->fd_);  // sealed segments found at open are only read, through the mapping
    }
    ec.clear();
    return s;
}

std::error_code segment::append(std::span<const std::byte> bytes,
                                std::span<const append_batch::frame_ref> frames,
                                std::span<const seqno> seqs, epoch_ms arrival_ms) {
    assert(!sealed_ && fd_ >= 0);
    assert(frames.size() == seqs.size());
    const std::uint64_t at = committed_.load(std::memory_order_relaxed);
    assert(at + bytes.size() <= map_len_);

    if (const int err = pwrite_all(*io_, fd_, bytes.data(), bytes.size(), at)) {
        // All or nothing: cut the file back. Should that fail too, zero the first frame's
        // length so recovery reads the leftovers as a zero-filled tail, not as records.
        if (io_->ftruncate(fd_, static_cast<off_t>(at)) != 0) {
            const std::byte zeros[4] = {};
            (void)pwrite_all(*io_, fd_, zeros, sizeof zeros, at);
        }
        const auto ec = storage_error_from_errno(err);
        (ec == storage_errc::no_space ? counters().append_no_space : counters().append_io_errors)
            .fetch_add(1, std::memory_order_relaxed);
        return ec;
    }

    // Index the new frames, then publish: an entry may briefly point past what a reader
    // believes is committed, which readers tolerate (they clamp to the committed size).
    index_scratch_.clear();
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const std::uint64_t off = at + frames[i].offset;
        if (off < next_index_at_) continue;
        const index_entry e{off, seqs[i], arrival_ms};
        if (!index_->push(e)) break;  // full (cannot happen with the computed capacity)
        const std::size_t pos = index_scratch_.size();
        index_scratch_.resize(pos + index_file::entry_bytes);
        index_file::encode_entry(index_scratch_.data() + pos, e, records_ + i);
        next_index_at_ = off + index_interval_;
    }
    committed_.store(at + bytes.size(), std::memory_order_release);
    file_bytes_ = at + bytes.size();
    records_ += frames.size();
    last_seq_ = seqs.back();
    last_arrival_ms_ = arrival_ms;

    if (index_fd_ >= 0 && !index_scratch_.empty()) {
        if (pwrite_all(*io_, index_fd_, index_scratch_.data(), index_scratch_.size(),
                       index_file_bytes_) == 0)
            index_file_bytes_ += index_scratch_.size();
        else
            close_fd(*io_, index_fd_);  // stop here: the file stays a valid prefix, rebuilt at open
    }
    return {};
}

std::error_code segment::sync() {
    std::lock_guard lock(fd_mu_);  // close_file() must not close (and recycle) fd_ under us
    if (fd_ < 0) return {};
    if (io_->fdatasync(fd_) != 0) {
        counters().sync_errors.fetch_add(1, std::memory_order_relaxed);
        return make_error_code(storage_errc::io_error);
    }
    return {};
}

void segment::seal() {
    sealed_ = true;
    close_fd(*io_, index_fd_);
    // Give back the address space reserved for growth. Readers never touch bytes past the
    // committed size, and base_ does not move; keep at least a page so it stays mapped.
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t keep = std::max(page, (size() + page - 1) / page * page);
    if (base_ != nullptr && keep < map_len_) {
        ::munmap(base_ + keep, static_cast<std::size_t>(map_len_ - keep));
        map_len_ = keep;
    }
}

void segment::close_file() {
    std::lock_guard lock(fd_mu_);
    close_fd(*io_, fd_);
}

void segment::unlink_files() {
    io_->unlink(path_.c_str());
    io_->unlink(index_path_.c_str());
}

bool segment::quarantine_from(std::uint64_t offset) const {
    std::uint64_t cur = read_limit_.load(std::memory_order_relaxed);
    while (offset < cur) {
        if (read_limit_.compare_exchange_weak(cur, offset, std::memory_order_release,
                                              std::memory_order_relaxed))
            return cur == std::numeric_limits<std::uint64_t>::max();
    }
    return false;
}

}  // namespace kinesd::storage
