#pragma once
// fault_io: a storage::file_io for tests. It forwards every call to the real file system, except
// the calls a rule matches, which fail with the rule's errno (a pwrite may first write part of
// its bytes, as a disk filling up mid-write does). Thread-safe.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kinesd/storage/file_io.hpp"

namespace kinesd::storage::testing {

enum class io_op { open, close, pwrite, pread, ftruncate, fdatasync, fsync, syncfs, unlink };

class fault_io final : public file_io {
  public:
    struct rule {
        io_op op;
        int error = EIO;
        int times = -1;               // calls to fail; -1: every call until clear()
        std::string path_part;        // only files whose path contains this ("": any file)
        std::size_t partial_bytes = 0;  // pwrite: write this many bytes first, then fail
    };

    void fail(rule r) {
        std::lock_guard lock(mu_);
        rules_.push_back(std::move(r));
    }
    void clear() {
        std::lock_guard lock(mu_);
        rules_.clear();
    }
    // Called (outside the lock) before every call, with the path the call concerns: lets a
    // test block a call (e.g. hold an fdatasync to see what waits behind it).
    void on_call(std::function<void(io_op, const std::string&)> hook) {
        std::lock_guard lock(mu_);
        hook_ = std::move(hook);
    }
    // Calls made so far of `op` on files whose path contains path_part (failed ones included).
    int calls(io_op op, const std::string& path_part = "") const {
        std::lock_guard lock(mu_);
        int n = 0;
        for (const auto& [o, path] : log_)
            if (o == op && path.find(path_part) != std::string::npos) ++n;
        return n;
    }

    int open(const char* path, int flags, mode_t mode) override {
        if (auto r = begin(io_op::open, path)) return fail_with(r->error);
        const int fd = ::open(path, flags, mode);
        if (fd >= 0) {
            std::lock_guard lock(mu_);
            paths_[fd] = path;
        }
        return fd;
    }
    int close(int fd) override {
        begin(io_op::close, path_of(fd));
        {
            std::lock_guard lock(mu_);
            paths_.erase(fd);
        }
        return ::close(fd);
    }
    ssize_t pwrite(int fd, const void* buf, std::size_t n, off_t offset) override {
        {
            // The call after a short write fails, as on a disk that just filled up.
            std::lock_guard lock(mu_);
            if (auto it = pending_error_.find(fd); it != pending_error_.end()) {
                const int err = it->second;
                pending_error_.erase(it);
                log_.emplace_back(io_op::pwrite, paths_[fd]);
                errno = err;
                return -1;
            }
        }
        if (auto r = begin(io_op::pwrite, path_of(fd))) {
            // Like a disk that fills up: a short write first, then the error.
            if (r->partial_bytes > 0 && r->partial_bytes < n) {
                const std::size_t part = r->partial_bytes;
                std::lock_guard lock(mu_);
                pending_error_[fd] = r->error;
                return ::pwrite(fd, buf, part, offset);
            }
            return fail_with(r->error);
        }
        return ::pwrite(fd, buf, n, offset);
    }
    ssize_t pread(int fd, void* buf, std::size_t n, off_t offset) override {
        if (auto r = begin(io_op::pread, path_of(fd))) return fail_with(r->error);
        return ::pread(fd, buf, n, offset);
    }
    int ftruncate(int fd, off_t length) override {
        if (auto r = begin(io_op::ftruncate, path_of(fd))) return fail_with(r->error);
        return ::ftruncate(fd, length);
    }
    int fdatasync(int fd) override {
        if (auto r = begin(io_op::fdatasync, path_of(fd))) return fail_with(r->error);
        return ::fdatasync(fd);
    }
    int fsync(int fd) override {
        // Directories are fsynced through file_io too, but opened directly: path unknown.
        if (auto r = begin(io_op::fsync, path_of(fd))) return fail_with(r->error);
        return ::fsync(fd);
    }
    int syncfs(int fd) override {
        if (auto r = begin(io_op::syncfs, path_of(fd))) return fail_with(r->error);
        return ::syncfs(fd);
    }
    int unlink(const char* path) override {
        if (auto r = begin(io_op::unlink, path)) return fail_with(r->error);
        return ::unlink(path);
    }

  private:
    static int fail_with(int err) {
        errno = err;
        return -1;
    }
    std::string path_of(int fd) const {
        std::lock_guard lock(mu_);
        auto it = paths_.find(fd);
        return it == paths_.end() ? std::string() : it->second;
    }
    // Logs the call, runs the hook, and returns (a copy of) the rule that makes it fail.
    std::optional<rule> begin(io_op op, const std::string& path) {
        std::function<void(io_op, const std::string&)> hook;
        {
            std::lock_guard lock(mu_);
            log_.emplace_back(op, path);
            hook = hook_;
        }
        if (hook) hook(op, path);
        std::lock_guard lock(mu_);
        for (auto& r : rules_) {
            if (r.op != op || r.times == 0) continue;
            if (!r.path_part.empty() && path.find(r.path_part) == std::string::npos) continue;
            if (r.times > 0) --r.times;
            return r;
        }
        return std::nullopt;
    }

    mutable std::mutex mu_;
    std::vector<rule> rules_;
    std::vector<std::pair<io_op, std::string>> log_;
    std::map<int, std::string> paths_;
    std::map<int, int> pending_error_;  // fd -> errno for the pwrite after a short one
    std::function<void(io_op, const std::string&)> hook_;
};

}  // namespace kinesd::storage::testing
