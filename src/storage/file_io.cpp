#include "kinesd/storage/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace kinesd::storage {

namespace {

class posix_file_io final : public file_io {
  public:
    int open(const char* path, int flags, mode_t mode) override { return ::open(path, flags, mode); }
    int close(int fd) override { return ::close(fd); }
    ssize_t pwrite(int fd, const void* buf, std::size_t n, off_t offset) override {
        return ::pwrite(fd, buf, n, offset);
    }
    ssize_t pread(int fd, void* buf, std::size_t n, off_t offset) override {
        return ::pread(fd, buf, n, offset);
    }
    int ftruncate(int fd, off_t length) override { return ::ftruncate(fd, length); }
    int fdatasync(int fd) override { return ::fdatasync(fd); }
    int fsync(int fd) override { return ::fsync(fd); }
    int syncfs(int fd) override { return ::syncfs(fd); }
    int unlink(const char* path) override { return ::unlink(path); }
};

}  // namespace

int pwrite_all(file_io& io, int fd, const std::byte* data, std::size_t n, std::uint64_t offset) {
    std::size_t done = 0;
    while (done < n) {
        const ssize_t w = io.pwrite(fd, data + done, n - done, static_cast<off_t>(offset + done));
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (w == 0) return EIO;
        done += static_cast<std::size_t>(w);
    }
    return 0;
}

file_io& system_file_io() {
    static posix_file_io* io = new posix_file_io;  // never destroyed: logs may outlive statics
    return *io;
}

}  // namespace kinesd::storage
