#include "kinesd/common/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace kinesd {

std::error_code sync_directory(const std::filesystem::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return {errno, std::system_category()};
    std::error_code ec;
    if (::fsync(fd) != 0) ec = {errno, std::system_category()};
    ::close(fd);
    return ec;
}

std::error_code write_file_atomically(const std::filesystem::path& path, std::string_view contents,
                                      unsigned mode) {
    auto tmp = path;
    tmp += ".tmp";
    // A temporary file left by a crash is replaced, not reused: open's mode applies only to a
    // file it creates, and an old one may have wider permissions.
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return {errno, std::system_category()};
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) return {errno, std::system_category()};
    const char* p = contents.data();
    std::size_t left = contents.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::error_code ec{errno, std::system_category()};
            ::close(fd);
            ::unlink(tmp.c_str());
            return ec;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        std::error_code ec{errno, std::system_category()};
        ::close(fd);
        ::unlink(tmp.c_str());
        return ec;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::error_code ec{errno, std::system_category()};
        ::unlink(tmp.c_str());
        return ec;
    }
    return sync_directory(path.parent_path().empty() ? "." : path.parent_path());
}

std::error_code write_file_keeping_previous(const std::filesystem::path& path,
                                            std::string_view contents) {
    auto prev = path;
    prev += ".prev";
    // Best effort: without a previous version the write is still atomic.
    if (::unlink(prev.c_str()) == 0 || errno == ENOENT) (void)::link(path.c_str(), prev.c_str());
    return write_file_atomically(path, contents);
}

}  // namespace kinesd
