#pragma once
// The file-system calls storage makes, behind an interface so that tests can inject the faults
// a real disk produces (ENOSPC, EIO, short writes, a failed fsync) without a real full disk.
// segment and segment_log make every call that writes, syncs, truncates, opens or deletes a
// file through a file_io; mmap/munmap/fstat stay direct calls (they do not fail on a full disk).
//
// Contract: each method behaves like the POSIX call of the same name (same arguments; -1 and
// errno on failure). Implementations must be thread-safe: the writers of different shards and
// the syncer call them concurrently. The object must outlive every log that uses it.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace kinesd::storage {

class file_io {
  public:
    virtual ~file_io() = default;
    virtual int open(const char* path, int flags, mode_t mode) = 0;
    virtual int close(int fd) = 0;
    virtual ssize_t pwrite(int fd, const void* buf, std::size_t n, off_t offset) = 0;
    virtual ssize_t pread(int fd, void* buf, std::size_t n, off_t offset) = 0;
    virtual int ftruncate(int fd, off_t length) = 0;
    virtual int fdatasync(int fd) = 0;
    virtual int fsync(int fd) = 0;
    // Linux: flushes the whole file system that fd is on (commit_pipeline).
    virtual int syncfs(int fd) = 0;
    virtual int unlink(const char* path) = 0;
};

// The real file system (the POSIX calls themselves). Never destroyed.
file_io& system_file_io();

// Writes all of data at offset through io, retrying on EINTR and short writes. Returns 0 or an
// errno (EIO for a write of 0 bytes).
int pwrite_all(file_io& io, int fd, const std::byte* data, std::size_t n, std::uint64_t offset);

}  // namespace kinesd::storage
