// fsync-probe: group commit on this disk with no server in the way, to compare `--fsync always`
// figures with. `files` files, `producers` threads per file; a producer appends a 1,100-byte
// record (pwrite at the file's end, under the file's mutex) and waits until an fdatasync that
// started after its write has ended; one thread per file runs fdatasync rounds back to back
// while anyone waits (kinesd's rounds per shard log, without its gathering wait, HTTP, parsing
// or framing). Prints `label.rate N records/s` and `label.rounds N rounds/s`.
// MODE `shared`: one thread runs the rounds of every file, one at a time, with one syncfs when
// several files are dirty and the file's fdatasync when one is (kinesd's commit pipeline,
// without its gathering wait). MODE `per-file` (the default): a round thread per file.
//
//   fsync-probe DIR FILES PRODUCERS_PER_FILE SECONDS [LABEL [MODE]]
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct log_file {
    int fd = -1;
    std::mutex mu;
    std::condition_variable synced_cv;  // a round ended
    std::condition_variable work_cv;    // a producer waits
    std::int64_t end = 0;               // append offset, bytes
    std::uint64_t written = 0;          // records written
    std::uint64_t synced = 0;           // records covered by the last round
    int waiting = 0;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr,
                     "usage: fsync-probe DIR FILES PRODUCERS_PER_FILE SECONDS [LABEL [MODE]]\n");
        return 2;
    }
    const std::string dir = argv[1];
    const int files = std::atoi(argv[2]);
    const int producers = std::atoi(argv[3]);
    const double seconds = std::atof(argv[4]);
    const std::string label = argc > 5 ? argv[5] : "fsync_probe";
    const std::string mode = argc > 6 ? argv[6] : "per-file";
    if (files < 1 || producers < 1 || seconds <= 0 || seconds > 600) return 2;
    if (mode != "per-file" && mode != "shared") return 2;
    const bool shared = mode == "shared";

    std::vector<std::unique_ptr<log_file>> logs;
    for (int i = 0; i < files; ++i) {
        auto f = std::make_unique<log_file>();
        const std::string path = dir + "/fsync-probe-" + std::to_string(i);
        f->fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (f->fd < 0) {
            std::perror(path.c_str());
            return 1;
        }
        ::unlink(path.c_str());  // the descriptor keeps the file until the end
        logs.push_back(std::move(f));
    }
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> acknowledged{0}, rounds{0};
    // Shared mode: records written to any file, and those the last round saw, for the one
    // round thread (lock order: a file's mu, then all_mu).
    std::mutex all_mu;
    std::condition_variable all_work_cv;
    std::uint64_t all_written = 0, all_seen = 0;
    std::vector<std::thread> threads;
    if (shared)
        threads.emplace_back([&] {
            std::vector<std::uint64_t> targets(logs.size());
            std::vector<log_file*> dirty;
            for (;;) {
                {
                    std::unique_lock lock(all_mu);
                    all_work_cv.wait(lock, [&] { return all_written > all_seen || stop.load(); });
                    if (all_written == all_seen) return;  // stopping, nobody waits
                    all_seen = all_written;  // each of them is in its file's `written` by now
                }
                dirty.clear();
                for (std::size_t i = 0; i < logs.size(); ++i) {
                    std::lock_guard lock(logs[i]->mu);
                    targets[i] = logs[i]->written;
                    if (targets[i] > logs[i]->synced) dirty.push_back(logs[i].get());
                }
                if (dirty.size() > 1)
                    ::syncfs(dirty[0]->fd);
                else if (dirty.size() == 1)
                    ::fdatasync(dirty[0]->fd);
                rounds.fetch_add(1, std::memory_order_relaxed);
                for (std::size_t i = 0; i < logs.size(); ++i) {
                    std::lock_guard lock(logs[i]->mu);
                    logs[i]->synced = targets[i];
                    logs[i]->synced_cv.notify_all();
                }
            }
        });
    for (auto& lp : logs) {
        log_file& f = *lp;
        if (!shared)
            threads.emplace_back([&f, &stop, &rounds] {
                std::unique_lock lock(f.mu);
                for (;;) {
                    f.work_cv.wait(lock, [&] { return f.waiting > 0 || stop.load(); });
                    if (f.waiting == 0) return;  // stopping, nobody waits
                    const std::uint64_t target = f.written;
                    lock.unlock();
                    ::fdatasync(f.fd);
                    rounds.fetch_add(1, std::memory_order_relaxed);
                    lock.lock();
                    f.synced = target;
                    f.synced_cv.notify_all();
                }
            });
        for (int p = 0; p < producers; ++p)
            threads.emplace_back(
                [&f, &stop, &acknowledged, &all_mu, &all_work_cv, &all_written, shared] {
                    std::array<char, 1100> record{};
                    for (;;) {
                        std::unique_lock lock(f.mu);
                        // `stop` is read under the mutex the round thread decides to end under
                        // (f.mu; all_mu in shared mode), in the same critical section that asks
                        // for a round: a record asking after the round thread ended would wait
                        // forever (it happened once in a full run: the probe hung until run.py's
                        // timeout).
                        if (!shared && stop.load()) return;
                        if (::pwrite(f.fd, record.data(), record.size(), f.end) < 0) return;
                        f.end += static_cast<std::int64_t>(record.size());
                        const std::uint64_t mine = ++f.written;
                        if (shared) {
                            std::lock_guard all(all_mu);
                            if (stop.load()) return;
                            ++all_written;
                            all_work_cv.notify_one();
                        } else {
                            f.work_cv.notify_one();
                        }
                        ++f.waiting;
                        f.synced_cv.wait(lock, [&] { return f.synced >= mine; });
                        --f.waiting;
                        acknowledged.fetch_add(1, std::memory_order_relaxed);
                    }
                });
    }
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::uint64_t acked = acknowledged.load();
    const std::uint64_t round_count = rounds.load();
    for (auto& f : logs) {
        std::lock_guard lock(f->mu);
        f->work_cv.notify_all();
    }
    {
        std::lock_guard lock(all_mu);
        all_work_cv.notify_all();
    }
    for (auto& t : threads) t.join();
    for (auto& f : logs) ::close(f->fd);
    std::printf("%s.rate %.1f records/s\n", label.c_str(), static_cast<double>(acked) / elapsed);
    std::printf("%s.rounds %.1f rounds/s\n", label.c_str(),
                static_cast<double>(round_count) / elapsed);
    return 0;
}
