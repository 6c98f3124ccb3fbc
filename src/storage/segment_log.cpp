#include "kinesd/storage/segment_log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <set>

#include "kinesd/common/logging.hpp"
#include "kinesd/storage/commit_pipeline.hpp"
#include "kinesd/storage/counters.hpp"
#include "kinesd/storage/record_frame.hpp"

namespace kinesd::storage {

namespace fs = std::filesystem;

namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("storage");
    return l;
}

}  // namespace

segment_log::segment_log(fs::path dir, const segment_log_options& options, int dir_fd)
    : dir_(std::move(dir)),
      options_(options),
      dir_fd_(dir_fd),
      io_(options.io != nullptr ? options.io : &system_file_io()) {
    list_ = std::make_shared<const segment_list>();
}

segment_log::~segment_log() {
    {
        // A round of the commit pipeline may still be in progress on this log, or due (the log
        // handed it its waiters): it touches nothing of the log after sync_running_ goes false.
        std::unique_lock lock(sync_mu_);
        sync_cv_.wait(lock, [this] { return !sync_running_; });
    }
    if (dir_fd_ >= 0) io_->close(dir_fd_);
}

std::unique_ptr<shard_log> open_segment_log(const fs::path& dir, const segment_log_options& options,
                                            recovery_report& report) {
    return segment_log::open(dir, options, report);
}

std::unique_ptr<segment_log> segment_log::open(const fs::path& dir,
                                               const segment_log_options& options,
                                               recovery_report& report) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw std::system_error(ec, fmt::format("cannot create {}", dir.string()));
    file_io& io = options.io != nullptr ? *options.io : system_file_io();
    const int dir_fd = io.open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dir_fd < 0)
        throw std::system_error(errno, std::system_category(),
                                fmt::format("cannot open {}", dir.string()));
    std::unique_ptr<segment_log> log(new segment_log(dir, options, dir_fd));
    struct stat st {};
    if (::fstat(dir_fd, &st) == 0) log->dev_ = st.st_dev;

    // Segment and index files by ordinal; anything else in the directory is left alone.
    std::set<std::uint64_t> segment_ordinals, index_ordinals;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (auto o = parse_file_ordinal(name, ".seg")) {
            segment_ordinals.insert(*o);
        } else if (auto o = parse_file_ordinal(name, ".idx")) {
            index_ordinals.insert(*o);
        }
    }
    if (ec) throw std::system_error(ec, fmt::format("cannot list {}", dir.string()));

    report = recovery_report{};
    for (const std::uint64_t ordinal : index_ordinals) {
        if (segment_ordinals.contains(ordinal)) continue;
        // An index whose segment is gone (retention or a roll stopped halfway).
        fs::remove(dir / index_file_name(ordinal), ec);
        report.messages.push_back(
            fmt::format("{}: removed, its segment is gone", index_file_name(ordinal)));
    }

    segment_list list;
    seqno floor_seq = 0;
    epoch_ms floor_arrival = std::numeric_limits<epoch_ms>::min();
    std::uint64_t max_ordinal = 0;
    bool last_failed = false;
    for (auto it = segment_ordinals.begin(); it != segment_ordinals.end(); ++it) {
        const std::uint64_t ordinal = *it;
        max_ordinal = std::max(max_ordinal, ordinal);
        const bool last = std::next(it) == segment_ordinals.end();
        segment_open_params params;
        params.mode = last ? segment_mode::active : segment_mode::sealed;
        params.capacity = options.segment_bytes;
        params.index_interval_bytes = options.index_interval_bytes;
        params.verify_all_frames = options.verify_all_frames_on_open;
        params.floor_seq = floor_seq;
        params.floor_arrival_ms = floor_arrival;
        params.io = options.io;
        segment_recovery rec;
        const std::string name = segment_file_name(ordinal);
        auto seg = segment::open(dir, ordinal, params, rec, ec);
        if (!seg) {
            ++report.quarantined_segments;
            counters().quarantined_segments.fetch_add(1, std::memory_order_relaxed);
            report.messages.push_back(
                fmt::format("{}: cannot open ({}); ignored", name, ec.message()));
            last_failed = last;
            continue;
        }
        report.records += rec.records;
        if (rec.truncated_bytes > 0) {
            report.truncated_bytes += rec.truncated_bytes;
            report.messages.push_back(fmt::format("{}: {} at offset {}; truncated {} bytes", name,
                                                  to_string(rec.stop), rec.valid_bytes,
                                                  rec.truncated_bytes));
        }
        if (rec.quarantined) {
            ++report.quarantined_segments;
            counters().quarantined_segments.fetch_add(1, std::memory_order_relaxed);
            report.messages.push_back(fmt::format(
                "{}: {} at offset {}; the {} bytes from there on are quarantined", name,
                to_string(rec.stop), rec.valid_bytes, rec.file_bytes - rec.valid_bytes));
        }
        if (rec.index_rebuilt) {
            ++report.rebuilt_indexes;
            report.messages.push_back(fmt::format("{}: index {}; rebuilt ({} entries)",
                                                  index_file_name(ordinal), rec.index_problem,
                                                  seg->index().size()));
        }
        if (seg->records() > 0) {
            floor_seq = seg->last_seq();
            floor_arrival = seg->last_arrival_ms();
        }
        list.push_back(std::move(seg));
    }

    if (list.empty() || last_failed) {
        auto seg = segment::create(dir, max_ordinal + 1, options.segment_bytes,
                                   options.index_interval_bytes, ec, options.io);
        if (!seg)
            throw std::system_error(ec, fmt::format("cannot create a segment in {}", dir.string()));
        list.push_back(std::move(seg));
        log->dir_dirty_ = true;
    }
    report.segments = list.size();

    std::uint64_t bytes = 0;
    for (const auto& s : list) bytes += s->disk_bytes();
    log->disk_bytes_.store(bytes, std::memory_order_relaxed);
    if (floor_seq != 0) log->set_last(floor_seq, floor_arrival);
    log->publish(std::make_shared<const segment_list>(std::move(list)));
    return log;
}

void segment_log::publish(std::shared_ptr<const segment_list> list) {
    std::lock_guard lock(list_mutex_);
    list_ = std::move(list);
}

std::shared_ptr<const segment_log::segment_list> segment_log::segments() const {
    std::lock_guard lock(list_mutex_);
    return list_;
}

void segment_log::set_last(seqno seq, epoch_ms arrival_ms) {
    const std::uint64_t v = version_.load(std::memory_order_relaxed);
    version_.store(v + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    last_seq_lo_.store(static_cast<std::uint64_t>(seq), std::memory_order_relaxed);
    last_seq_hi_.store(static_cast<std::uint64_t>(seq >> 64), std::memory_order_relaxed);
    last_arrival_ms_.store(arrival_ms, std::memory_order_relaxed);
    version_.store(v + 2, std::memory_order_release);
}

seqno segment_log::last_seq() const {
    for (;;) {
        const std::uint64_t v1 = version_.load(std::memory_order_acquire);
        const std::uint64_t lo = last_seq_lo_.load(std::memory_order_relaxed);
        const std::uint64_t hi = last_seq_hi_.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if ((v1 & 1) == 0 && version_.load(std::memory_order_relaxed) == v1)
            return seqno{hi} << 64 | lo;
    }
}

epoch_ms segment_log::last_arrival_ms() const {
    return last_arrival_ms_.load(std::memory_order_acquire);  // one word: no seqlock needed
}

std::optional<seqno> segment_log::first_seq() const {
    const auto list = segments();
    for (const auto& s : *list)
        if (!s->readable().empty()) return s->index()[0].seq;  // entries precede commits
    return std::nullopt;
}

std::uint64_t segment_log::disk_bytes() const {
    return disk_bytes_.load(std::memory_order_relaxed);
}

std::error_code segment_log::roll(std::uint64_t bytes) {
    const auto& old = list_->back();
    std::error_code ec;
    auto fresh = segment::create(dir_, old->ordinal() + 1,
                                 std::max<std::uint64_t>(options_.segment_bytes, bytes),
                                 options_.index_interval_bytes, ec, options_.io);
    if (!fresh) {
        const auto err = storage_error_from_errno(ec.value());
        (err == storage_errc::no_space ? counters().append_no_space : counters().append_io_errors)
            .fetch_add(1, std::memory_order_relaxed);
        return err;
    }
    auto next = std::make_shared<segment_list>(*list_);
    old->seal();
    if (old->size() == 0) {
        // Empty and too small for the batch: replace it rather than keep an empty segment.
        next->pop_back();
        old->unlink_files();
        old->close_file();
    }
    {
        // Before the new list is published: an fsync round that sees the new active segment
        // must also find the old one here (see sync_to()).
        std::lock_guard lock(sync_mu_);
        if (old->size() > 0) unsynced_.push_back(old);
        dir_dirty_ = true;
    }
    next->push_back(std::move(fresh));
    std::uint64_t total = 0;
    for (const auto& s : *next) total += s->disk_bytes();
    disk_bytes_.store(total, std::memory_order_relaxed);
    publish(std::move(next));
    return {};
}

std::error_code segment_log::append(append_batch& batch, std::span<const seqno> seqs,
                                    epoch_ms arrival_ms) {
    if (closed_.load(std::memory_order_relaxed)) return make_error_code(storage_errc::closed);
    batch.finish();
    const std::size_t n = batch.size();
    if (seqs.size() != n) return std::make_error_code(std::errc::invalid_argument);
    if (n == 0) return {};
    const seqno last = last_seq();
    seqno prev = last;
    for (const seqno s : seqs) {
        if (s <= prev) return std::make_error_code(std::errc::invalid_argument);
        prev = s;
    }
    if (last != 0) arrival_ms = std::max(arrival_ms, last_arrival_ms());

    // Stamp in place: the batch buffer is what gets written.
    const std::span<std::byte> buf = batch.buffer();
    const auto frames = batch.frames();
    for (std::size_t i = 0; i < n; ++i)
        stamp_frame(buf.subspan(frames[i].offset, frames[i].length), seqs[i], arrival_ms);

    const std::uint64_t total = buf.size();
    {
        const auto& active = list_->back();
        const bool roll_needed =
            active->read_quarantined() ||
            (active->size() > 0 && active->size() + total > options_.segment_bytes) ||
            active->size() + total > active->capacity();
        if (roll_needed)
            if (auto ec = roll(total)) return ec;
    }
    const auto& active = list_->back();
    const std::uint64_t before = active->disk_bytes();
    if (auto ec = active->append(buf, frames, seqs, arrival_ms)) return ec;
    disk_bytes_.fetch_add(active->disk_bytes() - before, std::memory_order_relaxed);
    set_last(seqs.back(), arrival_ms);
    // Only the writer stores ticket_; release: a round that reads this value finds the bytes
    // in the file and the segment in the list (or in unsynced_).
    ticket_.store(ticket_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    return {};
}

std::error_code segment_log::sync() {
    if (closed_.load(std::memory_order_relaxed)) return make_error_code(storage_errc::closed);
    return sync_to(ticket_.load(std::memory_order_acquire));
}

std::error_code segment_log::commit(std::uint64_t ticket) {
    if (options_.fsync != fsync_policy::always) return {};
    counters().sync_waits.fetch_add(1, std::memory_order_relaxed);
    return sync_to(ticket);
}

void segment_log::commit_async(std::uint64_t ticket, commit_callback done) {
    if (options_.fsync != fsync_policy::always) return done({});
    if (options_.pipeline == nullptr) return done(commit(ticket));
    counters().sync_waits.fetch_add(1, std::memory_order_relaxed);
    std::unique_lock lock(sync_mu_);
    if (in_failed_round(ticket)) {
        lock.unlock();
        return done(make_error_code(storage_errc::io_error));
    }
    if (synced_ >= ticket) {
        lock.unlock();
        return done({});
    }
    waiters_.emplace_back(ticket, std::move(done));
    options_.pipeline->waiter_added();
    if (sync_running_) return;  // the round's leader hands the waiters on after it
    sync_running_ = true;
    lock.unlock();
    options_.pipeline->enqueue(this);
}

bool segment_log::in_failed_round(std::uint64_t ticket) const {
    return std::any_of(failed_.begin(), failed_.end(),
                       [&](const auto& r) { return r.first <= ticket && ticket <= r.second; });
}

std::error_code segment_log::sync_to(std::uint64_t ticket) {
    std::unique_lock lock(sync_mu_);
    answered_list answered;
    for (;;) {
        // A round that covered this ticket failed: its records may not be on disk, and a later
        // round can succeed without them (the kernel may have dropped the dirty pages), so the
        // failure stands even when synced_ has moved past the ticket since.
        if (in_failed_round(ticket)) return make_error_code(storage_errc::io_error);
        if (synced_ >= ticket) return {};
        if (sync_running_) {
            sync_cv_.wait(lock);
            continue;
        }
        sync_running_ = true;
        const std::error_code ec = run_round(lock, answered);
        // Waiters of commit_async() left for the next round: the pipeline leads it
        // (sync_running_ stays set, so that nobody else starts one meanwhile).
        const bool pass_lead = !waiters_.empty();
        if (!pass_lead) sync_running_ = false;
        sync_cv_.notify_all();
        lock.unlock();
        if (pass_lead) options_.pipeline->enqueue(this);  // waiters_ exist only with a pipeline
        for (auto& [w, result] : answered) w.second(result);
        answered.clear();
        if (ec) return ec;
        lock.lock();
    }
}

segment_log::round segment_log::begin_round() {
    // Everything counted in `target` is in a segment of unsynced_ or in the active segment of
    // the list read below: a roll moves the old active segment into unsynced_ (under sync_mu_,
    // which we hold) before it publishes a new list.
    round r;
    r.first = synced_ + 1;
    r.target = ticket_.load(std::memory_order_acquire);
    r.sealed.swap(unsynced_);
    r.dir = std::exchange(dir_dirty_, false);
    r.list = segments();
    if (!r.list->empty()) {
        r.active = r.list->back();
        // After the ticket (acquire): covers every byte of the appends counted in it.
        r.active_bytes = r.active->readable().size();
    }
    r.durable_ordinal = durable_ordinal_;
    r.durable_bytes = durable_bytes_;
    return r;
}

std::optional<segment_log::new_bytes> segment_log::round_bytes(const round& r) {
    if (!r.sealed.empty() || r.dir || !r.active || r.active->read_quarantined() ||
        r.active->ordinal() != r.durable_ordinal || r.active_bytes < r.durable_bytes)
        return std::nullopt;
    return new_bytes{r.active.get(), r.durable_bytes, r.active_bytes};
}

std::error_code segment_log::flush(const round& r) {
    std::error_code ec;
    for (const auto& s : r.sealed)
        if (!ec) ec = s->sync();
    if (!ec && !r.list->empty()) ec = r.list->back()->sync();
    if (!ec && r.dir && io_->fsync(dir_fd_) != 0) {
        counters().sync_errors.fetch_add(1, std::memory_order_relaxed);
        ec = make_error_code(storage_errc::io_error);
    }
    counters().sync_rounds.fetch_add(1, std::memory_order_relaxed);
    return ec;
}

void segment_log::after_flush(const round& r, std::error_code ec) {
    if (!ec)
        for (const auto& s : r.sealed) s->close_file();  // sealed: never written again
    else
        logger()->error("{}: fsync failed; appends up to this point are not acknowledged",
                        dir_.string());
}

void segment_log::settle(const round& r, std::error_code ec, answered_list& answered) {
    if (ec) {
        unsynced_.insert(unsynced_.begin(), r.sealed.begin(), r.sealed.end());
        dir_dirty_ = dir_dirty_ || r.dir;
        failed_.emplace_back(r.first, r.target);
    } else {
        synced_ = std::max(synced_, r.target);
        if (r.active) {
            durable_ordinal_ = r.active->ordinal();
            durable_bytes_ = r.active_bytes;
        }
    }
    // Every waiter's ticket was taken before it registered, above the synced_ of that time; a
    // ticket <= target is in (first, target], which this round covered.
    auto covered = std::partition(waiters_.begin(), waiters_.end(),
                                  [&](const waiter& w) { return w.first > r.target; });
    for (auto it = covered; it != waiters_.end(); ++it) answered.emplace_back(std::move(*it), ec);
    if (covered != waiters_.end())  // waiters_ exist only with a pipeline
        options_.pipeline->waiters_answered(static_cast<std::size_t>(waiters_.end() - covered));
    waiters_.erase(covered, waiters_.end());
}

std::error_code segment_log::run_round(std::unique_lock<std::mutex>& lock,
                                       answered_list& answered) {
    const round r = begin_round();
    lock.unlock();
    const std::error_code ec = flush(r);
    after_flush(r, ec);
    lock.lock();
    settle(r, ec, answered);
    return ec;
}

segment_log::round segment_log::begin_pipeline_round() {
    std::lock_guard lock(sync_mu_);
    return begin_round();
}

bool segment_log::end_pipeline_round(const round& r, std::error_code ec, answered_list& answered) {
    after_flush(r, ec);
    std::lock_guard lock(sync_mu_);
    settle(r, ec, answered);
    const bool more = !waiters_.empty();
    if (!more) sync_running_ = false;  // the destructor may run once the lock is let go
    sync_cv_.notify_all();
    return more;
}

read_result segment_log::read(const read_request& req, const record_visitor& visit) const {
    read_stats stats;
    return read(req, visit, stats);
}

read_result segment_log::read(const read_request& req, const record_visitor& visit,
                              read_stats& stats) const {
    read_result result;
    const auto list = segments();  // held until the end: the mappings stay valid
    const segment_list& segs = *list;

    // The segment holding the first wanted record: the last one whose first record is not past
    // the start by seq, and likewise by arrival time; the later of the two.
    const auto by_seq = std::partition_point(
        segs.begin(), segs.end(), [&](const auto& s) { return s->search_seq() <= req.after; });
    const auto by_time = std::partition_point(segs.begin(), segs.end(), [&](const auto& s) {
        return s->search_arrival_ms() < req.min_arrival_ms;
    });
    const auto from_seq = by_seq == segs.begin() ? 0 : (by_seq - segs.begin()) - 1;
    const auto from_time = by_time == segs.begin() ? 0 : (by_time - segs.begin()) - 1;

    for (auto i = static_cast<std::size_t>(std::max(from_seq, from_time)); i < segs.size(); ++i) {
        const segment& seg = *segs[i];
        const std::span<const std::byte> bytes = seg.readable();
        std::size_t off = static_cast<std::size_t>(seg.index().seek(req.after, req.min_arrival_ms));
        ++stats.segments_visited;
        while (off < bytes.size()) {
            record_view v;
            std::size_t used = 0;
            const frame_status st = decode_frame(bytes.subspan(off), v, used, req.check_crc);
            ++stats.frames_decoded;
            if (st != frame_status::ok) {
                // Committed bytes that do not decode: the file changed under us. Serve nothing
                // from here on in this segment, now or later, and go on with the next one.
                if (seg.quarantine_from(off)) {
                    counters().quarantined_segments.fetch_add(1, std::memory_order_relaxed);
                    logger()->error(
                        "{}: {} at offset {}; the rest of the segment is quarantined (kept on "
                        "disk, no longer served)",
                        seg.path().string(), to_string(st), off);
                }
                break;
            }
            off += used;
            if (v.seq <= req.after || v.arrival_ms < req.min_arrival_ms) continue;
            if (result.records > 0 && (result.records >= req.max_records ||
                                       result.data_bytes + v.data.size() > req.max_bytes))
                return result;  // a limit, with this record still to read
            if (req.max_records == 0) return result;
            visit(v);
            ++result.records;
            result.data_bytes += v.data.size();
            result.last_seq = v.seq;
            if (result.records >= req.max_records) {
                // Stop without decoding further; the end is reached if nothing follows.
                bool more = off < bytes.size();
                for (std::size_t j = i + 1; !more && j < segs.size(); ++j)
                    more = !segs[j]->readable().empty();
                result.reached_end = !more;
                return result;
            }
        }
    }
    result.reached_end = true;
    return result;
}

segment_log::segment_list segment_log::detach_prefix(epoch_ms cutoff_ms) {
    if (closed_.load(std::memory_order_relaxed)) return {};
    const auto list = list_;
    // Arrival times never decrease along the log, so the expired segments are a prefix.
    auto expired = [&](const segment& s) { return s.records() == 0 || s.last_arrival_ms() < cutoff_ms; };
    std::size_t k = 0;
    while (k + 1 < list->size() && expired(*(*list)[k])) ++k;
    // The active segment goes only when it has records and all of them expired; an empty
    // active segment is what it would be replaced with.
    const auto& active = list->back();
    const bool drop_active = k + 1 == list->size() && active->records() > 0 &&
                             active->last_arrival_ms() < cutoff_ms;
    std::shared_ptr<segment> fresh;
    if (drop_active) {
        std::error_code ec;
        fresh = segment::create(dir_, active->ordinal() + 1, options_.segment_bytes,
                                options_.index_interval_bytes, ec, options_.io);
        // Without a new active segment the expired one stays until the next pass; reads skip
        // its records either way.
    }
    if (fresh) ++k;
    if (k == 0) return {};
    segment_list gone(list->begin(), list->begin() + static_cast<std::ptrdiff_t>(k));
    auto next = std::make_shared<segment_list>(list->begin() + static_cast<std::ptrdiff_t>(k), list->end());
    if (fresh) {
        active->seal();
        next->push_back(std::move(fresh));
    }
    {
        // Before publishing, as in roll(). The detached segments need no fsync any more: their
        // records all expired.
        std::lock_guard lock(sync_mu_);
        if (fresh) dir_dirty_ = true;
        for (const auto& s : gone) std::erase(unsynced_, s);
    }
    std::uint64_t total = 0;
    for (const auto& s : *next) total += s->disk_bytes();
    publish(std::move(next));  // from here on no new reader sees the detached segments
    disk_bytes_.store(total, std::memory_order_relaxed);
    return gone;
}

detached_segments segment_log::detach_expired(epoch_ms cutoff_ms) {
    segment_list gone = detach_prefix(cutoff_ms);
    if (gone.empty()) return {};
    std::uint64_t bytes = 0;
    for (const auto& s : gone) bytes += s->disk_bytes();
    const std::size_t count = gone.size();
    // The segments are out of the log: nothing else touches their files any more, so the
    // deleter needs no lock.
    return detached_segments(count, bytes, [gone = std::move(gone)] {
        for (const auto& s : gone) {
            s->unlink_files();
            s->close_file();
        }
    });
}

void segment_log::remove() {
    if (closed_.exchange(true)) return;
    const auto list = list_;
    publish(std::make_shared<const segment_list>());
    for (const auto& s : *list) {
        s->seal();
        s->unlink_files();
        s->close_file();
    }
    {
        std::lock_guard lock(sync_mu_);
        unsynced_.clear();
    }
    disk_bytes_.store(0, std::memory_order_relaxed);
    std::error_code ec;
    fs::remove_all(dir_, ec);  // best effort: the log is unusable either way
}

}  // namespace kinesd::storage
