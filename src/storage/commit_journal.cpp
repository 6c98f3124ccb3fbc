#include "kinesd/storage/commit_journal.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <map>
#include <optional>
#include <random>
#include <system_error>

#include "kinesd/common/logging.hpp"
#include "kinesd/storage/counters.hpp"
#include "kinesd/storage/crc32c.hpp"
#include "kinesd/storage/endian.hpp"
#include "kinesd/storage/file_io.hpp"
#include "kinesd/storage/shard_log.hpp"

namespace kinesd::storage {

namespace {

namespace fs = std::filesystem;

// Entry header (docs/format.md): magic, crc32c of bytes [8, entry_len), generation, entry_len,
// path_len, reserved (0), offset; then the path, then the segment bytes.
constexpr std::uint32_t entry_magic = 0x314A4E4B;  // "KNJ1" in the file
constexpr std::size_t header_bytes = commit_journal::entry_header_bytes;

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("storage");
    return l;
}

std::uint64_t new_generation() {
    std::random_device rd;
    std::uint64_t g = 0;
    while (g == 0) g = (std::uint64_t{rd()} << 32) ^ rd();
    return g;
}

// A path an entry may name: relative, inside the data directory.
bool safe_relative_path(std::string_view p) {
    if (p.empty() || p.front() == '/') return false;
    for (const auto& part : fs::path(p))
        if (part == "..") return false;
    return true;
}

std::error_code last_error() { return {errno, std::generic_category()}; }

// One valid entry of a mapped journal.
struct entry_view {
    std::uint64_t generation = 0;
    std::uint64_t length = 0;
    std::uint64_t offset = 0;
    std::string_view path;
    std::span<const std::byte> bytes;
};

// The entry at `at`, if it is whole, has a good CRC and (generation != 0) that generation.
std::optional<entry_view> decode_entry(std::span<const std::byte> file, std::uint64_t at,
                                       std::uint64_t generation) {
    if (file.size() < at || file.size() - at < header_bytes) return std::nullopt;
    const std::byte* p = file.data() + at;
    if (le::load<std::uint32_t>(p) != entry_magic) return std::nullopt;
    entry_view e;
    e.generation = le::load<std::uint64_t>(p + 8);
    e.length = le::load<std::uint32_t>(p + 16);
    const std::uint16_t path_len = le::load<std::uint16_t>(p + 20);
    e.offset = le::load<std::uint64_t>(p + 24);
    if (e.generation == 0 || (generation != 0 && e.generation != generation)) return std::nullopt;
    if (e.length < header_bytes + path_len || e.length > file.size() - at) return std::nullopt;
    if (crc32c(file.subspan(at + 8, e.length - 8)) != le::load<std::uint32_t>(p + 4))
        return std::nullopt;
    e.path = {reinterpret_cast<const char*>(p + header_bytes), path_len};
    e.bytes = file.subspan(at + header_bytes + path_len, e.length - header_bytes - path_len);
    return e;
}

void throw_io(const std::string& what, const fs::path& path, std::error_code ec) {
    throw std::system_error(ec, what + " " + path.string());
}

}  // namespace

journal_replay_report commit_journal::replay(const fs::path& data_dir, bool keep, file_io* io_in) {
    file_io& io = io_in != nullptr ? *io_in : system_file_io();
    journal_replay_report report;
    const fs::path path = data_dir / file_name;
    const int fd = io.open(path.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        if (errno == ENOENT) return report;
        throw_io("cannot open the commit journal", path, last_error());
    }
    report.found = true;
    struct stat st {};
    void* map = MAP_FAILED;
    if (::fstat(fd, &st) == 0 && st.st_size > 0)
        map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
    io.close(fd);
    if (st.st_size > 0 && map == MAP_FAILED)
        throw_io("cannot map the commit journal", path, last_error());

    std::map<std::string, int, std::less<>> files;  // segment files written, by relative path
    auto close_all = [&] {
        for (auto& [name, f] : files)
            if (f >= 0) io.close(f);
        if (map != MAP_FAILED) ::munmap(map, static_cast<std::size_t>(st.st_size));
    };
    try {
        const std::span<const std::byte> file(
            static_cast<const std::byte*>(map == MAP_FAILED ? nullptr : map),
            map == MAP_FAILED ? 0 : static_cast<std::size_t>(st.st_size));
        std::uint64_t generation = 0;  // the lap's: the first entry's
        for (std::uint64_t at = 0;;) {
            const auto e = decode_entry(file, at, generation);
            if (!e) break;
            generation = e->generation;
            at += e->length;
            if (!safe_relative_path(e->path)) continue;
            ++report.entries;
            auto it = files.find(e->path);
            if (it == files.end()) {
                const fs::path segment_path = data_dir / fs::path(e->path);
                int f = io.open(segment_path.c_str(), O_RDWR | O_CLOEXEC, 0);
                if (f < 0 && errno != ENOENT)
                    throw_io("cannot open for journal replay", segment_path, last_error());
                it = files.emplace(std::string(e->path), f).first;
            }
            if (it->second < 0) {
                ++report.missing_files;
                continue;
            }
            if (const int err =
                    pwrite_all(io, it->second, e->bytes.data(), e->bytes.size(), e->offset))
                throw_io("cannot replay the commit journal into", data_dir / fs::path(e->path),
                         {err, std::generic_category()});
            report.bytes += e->bytes.size();
        }
        for (auto& [name, f] : files) {
            if (f < 0) continue;
            if (io.fdatasync(f) != 0)
                throw_io("cannot fdatasync after journal replay", data_dir / name, last_error());
            ++report.files;
        }
    } catch (...) {
        close_all();
        throw;
    }
    close_all();
    if (!keep) {
        if (io.unlink(path.c_str()) != 0)
            throw_io("cannot delete the commit journal", path, last_error());
        // The deletion need not be durable: a journal found again is replayed again, harmlessly.
    }
    return report;
}

std::unique_ptr<commit_journal> commit_journal::open(const fs::path& data_dir,
                                                     std::uint64_t capacity_bytes,
                                                     std::error_code& ec, file_io* io_in) {
    file_io& io = io_in != nullptr ? *io_in : system_file_io();
    const fs::path path = data_dir / file_name;
    const int fd = io.open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        ec = last_error();
        return nullptr;
    }
    // Invalidate the entries of the last run (replay() has put them in their segments): an
    // entry of this run is only ever found after this one's first.
    const std::array<std::byte, header_bytes> zeros{};
    const int dir_fd = io.open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    const bool ok = pwrite_all(io, fd, zeros.data(), zeros.size(), 0) == 0 &&
                    io.fdatasync(fd) == 0 && dir_fd >= 0 && io.fsync(dir_fd) == 0;
    if (!ok) ec = errno != 0 ? last_error() : make_error_code(storage_errc::io_error);
    if (dir_fd >= 0) io.close(dir_fd);
    if (!ok) {
        io.close(fd);
        return nullptr;
    }
    return std::unique_ptr<commit_journal>(
        new commit_journal(fd, std::max<std::uint64_t>(capacity_bytes, 2 * header_bytes), &io));
}

commit_journal::commit_journal(int fd, std::uint64_t capacity, file_io* io)
    : fd_(fd), capacity_(capacity), io_(io), generation_(new_generation()) {}

commit_journal::~commit_journal() { io_->close(fd_); }

std::error_code commit_journal::checkpoint() {
    counters().journal_checkpoints.fetch_add(1, std::memory_order_relaxed);
    if (io_->syncfs(fd_) != 0) {
        counters().sync_errors.fetch_add(1, std::memory_order_relaxed);
        logger()->error("commit journal checkpoint: syncfs failed; its round is not acknowledged");
        return make_error_code(storage_errc::io_error);
    }
    offset_ = 0;
    generation_ = new_generation();
    return {};
}

std::error_code commit_journal::retire() {
    if (auto ec = checkpoint()) return ec;
    const std::array<std::byte, header_bytes> zeros{};
    if (pwrite_all(*io_, fd_, zeros.data(), zeros.size(), 0) != 0 || io_->fdatasync(fd_) != 0)
        return make_error_code(storage_errc::io_error);
    return {};
}

std::error_code commit_journal::write(std::span<const journal_range> ranges) {
    std::uint64_t total = 0;
    for (const auto& r : ranges) total += entry_bytes(r);
    if (total == 0) return {};
    if (offset_ + total > capacity_)
        if (auto ec = checkpoint()) return ec;
    buffer_.resize(static_cast<std::size_t>(total));
    std::byte* p = buffer_.data();
    for (const auto& r : ranges) {
        const std::uint64_t length = entry_bytes(r);
        le::store<std::uint32_t>(p, entry_magic);
        le::store<std::uint64_t>(p + 8, generation_);
        le::store<std::uint32_t>(p + 16, static_cast<std::uint32_t>(length));
        le::store<std::uint16_t>(p + 20, static_cast<std::uint16_t>(r.path.size()));
        le::store<std::uint16_t>(p + 22, 0);
        le::store<std::uint64_t>(p + 24, r.offset);
        std::copy(r.path.begin(), r.path.end(), reinterpret_cast<char*>(p + header_bytes));
        std::copy(r.bytes.begin(), r.bytes.end(), p + header_bytes + r.path.size());
        le::store<std::uint32_t>(
            p + 4, crc32c(std::span<const std::byte>(p + 8, static_cast<std::size_t>(length - 8))));
        p += length;
    }
    counters().journal_writes.fetch_add(1, std::memory_order_relaxed);
    if (pwrite_all(*io_, fd_, buffer_.data(), buffer_.size(), offset_) != 0 ||
        io_->fdatasync(fd_) != 0) {
        counters().sync_errors.fetch_add(1, std::memory_order_relaxed);
        logger()->error("commit journal: write or fdatasync failed; its round is not acknowledged");
        return make_error_code(storage_errc::io_error);
    }
    offset_ += total;
    return {};
}

}  // namespace kinesd::storage
