#pragma once
// A stream and its shards. The data path (routing, appends, reads) only reads lock-free
// snapshots (shard_table) and atomics, and takes the one shard's write lock for an append; the
// control plane changes a stream under its metadata lock and persists it atomically.
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "kinesd/common/clock.hpp"
#include "kinesd/metrics/shard_metrics.hpp"
#include "kinesd/shard/append_signal.hpp"
#include "kinesd/shard/hash_key.hpp"
#include "kinesd/shard/shard_id.hpp"
#include "kinesd/shard/resharding.hpp"
#include "kinesd/storage/shard_log.hpp"
#include "kinesd/throttle/shard_throughput.hpp"

namespace kinesd {

enum class stream_status { creating, deleting, active, updating };
enum class stream_mode { provisioned, on_demand };

// The API's names ("CREATING", ..., "ON_DEMAND", "PROVISIONED"), also those of the stream's
// metadata file.
std::string_view to_string(stream_status s);
std::string_view to_string(stream_mode m);

// Errors of the shard layer reported as values.
enum class shard_errc {
    closed = 1,  // the shard was closed by resharding: route the records again (stream::shards())
};
const std::error_category& shard_category();
std::error_code make_error_code(shard_errc e);

// The status after the transition due at `now`: CREATING and UPDATING end (ACTIVE) at `until`.
inline stream_status status_after(stream_status s, epoch_ms until, epoch_ms now) {
    return (s == stream_status::creating || s == stream_status::updating) && now >= until
               ? stream_status::active
               : s;
}

// Lineage and range of a shard. Immutable once the shard exists, except ending_seq, which is
// set once when the shard is closed (resharding).
struct shard_info {
    shard_id id;
    hash_range range;
    std::optional<shard_id> parent;
    std::optional<shard_id> adjacent_parent;
    uint128 starting_seq = 0;
    std::optional<uint128> ending_seq;
    epoch_ms created_ms = 0;
};

// One shard with its log. Thread-safety: append() serializes on the shard's own write lock;
// readers use log() concurrently and never wait for a write.
class shard {
public:
    shard(shard_info info, std::unique_ptr<storage::shard_log> log);

    const shard_info& info() const { return info_; }
    const storage::shard_log& log() const { return *log_; }

    // Stamps and writes `batch` (the records of one request routed to this shard) as one unit.
    // Arrival time = max(now, previous arrival) so arrival times never decrease within a shard;
    // sequence numbers strictly increase and exceed `ordering_floor` (0: none), which must be a
    // number of this shard. Fills seqs_out (batch.size() entries). On error nothing is visible,
    // except when the write succeeded but the fsync that fsync=always waits for failed (the
    // records are then readable but must not be acknowledged). Returns only once the records
    // are as durable as the log's fsync policy asks, unless commit_ticket is given: then a
    // wait for an fsync (fsync=always) is left to the caller, who must not acknowledge the
    // records before commit_async(*commit_ticket) says they are durable; *commit_ticket is 0
    // when there is nothing to wait for.
    std::error_code append(storage::append_batch& batch, epoch_ms now, uint128 ordering_floor,
                           std::span<uint128> seqs_out, epoch_ms& arrival_out,
                           std::uint64_t* commit_ticket = nullptr);
    // The wait append() left to its caller; see storage::shard_log::commit_async.
    void commit_async(std::uint64_t ticket, storage::commit_callback done) {
        log_->commit_async(ticket, std::move(done));
    }

    // Deletes the shard's files (stream deletion). No append may run concurrently.
    void remove_files();

    // The shard's throughput buckets and throttle counters. Metering state, not part of the
    // shard's value (hence usable through a const shard); lock-free, see shard_throughput.
    throttle::shard_throughput& throughput() const { return throughput_; }

    // Retention: takes out the segments whose records all arrived before cutoff_ms (the active
    // one too when all of its records expired: shard_log::detach_expired) and deletes their
    // files. Holds the write lock only to detach them, not while the files are deleted; readers
    // never wait. Thread-safe. Returns the number of segments deleted; adds their bytes to
    // bytes_freed.
    std::size_t drop_expired(epoch_ms cutoff_ms, std::uint64_t& bytes_freed);

    // Resharding (control plane). hold_writes() takes the write lock: appends to this shard wait
    // until the returned lock is released. With it held, ending_seq_locked() is the shard's
    // EndingSequenceNumber if it closed at `now` (>= every number it has given), and
    // set_closed_locked() makes every later append fail with shard_errc::closed, so no record
    // is acknowledged on the shard after its EndingSequenceNumber is fixed.
    std::unique_lock<std::mutex> hold_writes() { return std::unique_lock(write_mu_); }
    uint128 ending_seq_locked(epoch_ms now) const;
    void set_closed_locked(bool closed) { closed_ = closed; }

    // The shard's counters for /metrics; the data path adds to them without locking.
    metrics::shard_metrics& metrics() const { return metrics_; }

    // Flushes everything appended so far to stable storage (group commit with concurrent
    // appends; see storage::shard_log::sync). Any thread.
    std::error_code sync();

    // Signalled after every successful append (once its records are readable) and when the
    // shard is closed by resharding; SubscribeToShard waits on it. Thread-safe.
    append_signal& appended() const { return appended_; }

private:
    shard_info info_;
    std::mutex write_mu_;
    std::unique_ptr<storage::shard_log> log_;
    epoch_ms last_arrival_ms_ = 0;  // guarded by write_mu_
    std::vector<storage::seqno> seq_scratch_;  // guarded by write_mu_
    mutable throttle::shard_throughput throughput_;
    bool closed_ = false;                      // guarded by write_mu_
    mutable metrics::shard_metrics metrics_;  // atomics: no lock needed
    mutable append_signal appended_;
};

// An immutable snapshot of a stream's shards, swapped whole when resharding changes them.
struct shard_table {
    std::vector<std::shared_ptr<shard>> all;  // every shard, ordered by index
    std::vector<shard*> open;                 // open shards, ordered by hash range start

    // The open shard whose range holds `hash`. Never null when the open shards cover the space.
    shard* route(uint128 hash) const;
    shard* find(std::uint32_t index) const;

    // Lineage of every shard as last published (ending_seq set on closed shards), by index.
    std::vector<shard_info> infos;
    const shard_info* info(std::uint32_t index) const;
};

// What the control plane persists for a stream (meta.json), apart from its identity.
struct stream_settings {
    stream_status status = stream_status::active;
    epoch_ms status_until_ms = 0;  // when a CREATING/UPDATING/DELETING state ends
    stream_mode mode = stream_mode::provisioned;
    int retention_hours = 24;
    std::uint32_t next_shard_index = 0;
    std::vector<shard_info> shards;
    nlohmann::json extra = nlohmann::json::object();  // tags, encryption, ...: later issues
};

class stream {
public:
    stream(std::string account, std::string region, std::string name, std::uint64_t uid,
           epoch_ms created_ms, std::filesystem::path dir);

    const std::string account;
    const std::string region;
    const std::string name;
    const std::uint64_t uid;  // incarnation: a recreated stream of the same name has a new one
    const epoch_ms created_ms;
    const std::filesystem::path dir;
    const std::string arn;

    // Lock-free; the status after applying any transition that is due at `now`. A stream past
    // its DELETING time reports deleting; the registry drops it.
    stream_status status(epoch_ms now) const;
    bool writable(epoch_ms now) const {
        auto s = status(now);
        return s == stream_status::active || s == stream_status::updating;
    }
    bool deletion_due(epoch_ms now) const;
    int retention_hours() const { return retention_hours_.load(std::memory_order_relaxed); }
    // Largest record (data plus partition key) the stream accepts, in bytes.
    std::size_t max_record_bytes() const { return max_record_bytes_.load(std::memory_order_relaxed); }
    std::shared_ptr<const shard_table> shards() const { return shards_.load(); }
    // Lock-free. Records that arrived before the returned time have expired at `now`: now minus
    // the retention period, but never before the floor that a retention increase leaves
    // (records expired under the shorter period stay expired, as on AWS).
    epoch_ms retention_cutoff_ms(epoch_ms now) const;
    // Bytes of the stream's segment and index files, all shards. Lock-free.
    std::uint64_t disk_bytes() const;

    // A consistent copy of the persisted settings, for Describe*.
    stream_settings settings() const;

    // Control plane: applies `mutate` to the settings under the metadata lock, persists them
    // atomically, then publishes them (status, retention, shard table). If persisting fails the
    // change is not applied and the error is returned.
    std::error_code update(const std::function<void(stream_settings&)>& mutate);

    // Installs settings and shards loaded from disk or made by CreateStream, without persisting.
    void install(stream_settings settings, std::vector<std::shared_ptr<shard>> shards);

    // Retention: forgets the shards `ids` (closed shards whose records all expired). Persists
    // the settings without them, publishes a shard table without them and deletes their files;
    // readers holding the old table stay safe and find nothing. If persisting fails nothing
    // changes and the error is returned. Unknown ids are ignored.
    std::error_code drop_shards(const std::vector<shard_id>& ids);
    std::error_code persist() const;

    nlohmann::json to_json() const;  // meta.json contents (identity + settings)

    // What a resharding operation changes (see reshard()).
    struct reshard_change {
        std::vector<std::uint32_t> closing;   // open shards to close
        std::vector<planned_shard> created;   // new shards, by index; `closed` ones close at once
        std::uint32_t next_shard_index = 0;
        std::function<void(stream_settings&)> mutate;  // other changes (status, ...); may be empty
    };
    using log_opener = std::function<std::unique_ptr<storage::shard_log>(const shard_id&)>;

    // Resharding, atomically and durably. Under the metadata lock: `decide` sees the current
    // settings, validates (it may throw, nothing changes) and returns the change; the new shards'
    // logs are opened with `open_log`; the closing shards' writes are held while their
    // EndingSequenceNumbers are fixed, meta.json is written and the new shard table is published,
    // so appends blocked on a closing shard fail with shard_errc::closed and re-route to the
    // children. On a disk error nothing changes and the error is returned. Exceptions from
    // `decide` and `open_log` propagate.
    std::error_code reshard(const std::function<reshard_change(const stream_settings&)>& decide,
                            const log_opener& open_log, epoch_ms now);

    // Reads meta.json contents back; throws std::runtime_error when malformed.
    static std::pair<std::shared_ptr<stream>, stream_settings> from_json(
        const nlohmann::json& doc, const std::filesystem::path& dir);

private:
    nlohmann::json to_json(const stream_settings& settings) const;
    // The one way meta.json is written (every change: settings, resharding, retention), keeping
    // the version it replaces as meta.json.prev, so the fallback is always one change old.
    // Caller holds meta_mu_ (or owns the stream alone).
    std::error_code write_meta(const stream_settings& next) const;
    void publish(const stream_settings& s);

    mutable std::mutex meta_mu_;
    stream_settings settings_;  // guarded by meta_mu_
    std::vector<std::shared_ptr<shard>> shard_objects_;  // guarded by meta_mu_, by index

    std::atomic<int> status_{static_cast<int>(stream_status::active)};
    std::atomic<epoch_ms> status_until_ms_{0};
    std::atomic<int> retention_hours_{24};
    std::atomic<std::size_t> max_record_bytes_{1 << 20};
    std::atomic<std::shared_ptr<const shard_table>> shards_;
    std::atomic<epoch_ms> retention_floor_ms_{0};  // extra["retention_floor_ms"]
};

}  // namespace kinesd

template <>
struct std::is_error_code_enum<kinesd::shard_errc> : std::true_type {};
