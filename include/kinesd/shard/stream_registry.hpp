#pragma once
// All streams of the server, by (account, region, name), and their life cycle: create, recover
// from disk, delete. Lookups on the data path are lock-free (a copy-on-write map); changes are
// serialized by one control-plane mutex and are durable when they return.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "kinesd/common/clock.hpp"
#include "kinesd/shard/shard_iterator.hpp"
#include "kinesd/shard/stream.hpp"

namespace kinesd {

struct registry_options {
    std::filesystem::path data_dir = "./data";
    std::uint32_t shard_limit = 500;          // open shards per account and region
    std::int64_t create_stream_ms = 0;
    std::int64_t delete_stream_ms = 0;
    std::int64_t update_stream_ms = 0;
    storage::segment_log_options segments;
};

struct stream_key {
    std::string_view account, region, name;
    friend auto operator<=>(const stream_key&, const stream_key&) = default;
};

struct create_stream_request {
    std::string account, region, name;
    std::uint32_t shard_count = 1;
    stream_mode mode = stream_mode::provisioned;
    nlohmann::json extra = nlohmann::json::object();
    bool active_at_once = false;  // skip create_stream_ms (streams bootstrapped at startup)
};

class stream_registry {
public:
    // Opens data_dir (creating it) and recovers every stream. Throws std::runtime_error if the
    // data dir cannot be used.
    stream_registry(registry_options options, const clock& clk);
    ~stream_registry();

    // nullptr when there is no such stream (or its deletion is done). Lock-free.
    std::shared_ptr<stream> find(const stream_key& key) const;

    // Streams of one account and region, ordered by name.
    std::vector<std::shared_ptr<stream>> list(std::string_view account, std::string_view region) const;

    // Every stream of every account and region, deleting ones included (background work such as
    // the retention reaper). Lock-free snapshot.
    std::vector<std::shared_ptr<stream>> all() const;

    // Throws api_error: ResourceInUseException (exists), LimitExceededException (shard limit),
    // InternalFailure (disk).
    std::shared_ptr<stream> create(const create_stream_request& request);

    // Starts deleting the stream (DELETING for delete_stream_ms, then gone). Throws
    // ResourceNotFoundException when absent.
    void remove(const stream_key& key);

    // Open shards of an account and region, counted against shard_limit.
    std::uint32_t open_shard_count(std::string_view account, std::string_view region) const;

    // Resharding of `s`: under the control lock (so shard-limit checks across the account's
    // streams hold) calls `decide(settings, account_open_shards)`, which validates (throwing
    // api_error) and returns the change, then applies it with stream::reshard.
    // Throws api_error; InternalFailure on a disk error.
    void reshard(stream& s,
                 const std::function<stream::reshard_change(const stream_settings&,
                                                            std::uint32_t account_open_shards)>& decide);

    // The codec of shard iterators. Its key is loaded from data_dir/iterator.key, or made and
    // written there (fsynced), on the first call rather than at startup: on a fresh data dir
    // that fsync waits for whatever else the file system has to write (ext4 commits its journal
    // with every file written before it: 140 ms right after a build had written kinesd's
    // binary), and an empty start needs no iterator. Thread-safe; after the first call, one
    // atomic load. Throws std::runtime_error if the key cannot be read or written; the next
    // call tries again.
    const iterator_codec& iterators() const;
    const registry_options& options() const { return options_; }
    const clock& time() const { return clock_; }
    std::size_t stream_count() const;

    // Flushes every shard log of every stream to stable storage (the interval syncer, and the
    // last step of a graceful shutdown). Any thread; appends go on meanwhile. Logs each
    // failure and returns how many shard logs failed.
    std::size_t sync_all() const;

private:
    struct key_less {
        using is_transparent = void;
        static stream_key view(const std::tuple<std::string, std::string, std::string>& k) {
            return {std::get<0>(k), std::get<1>(k), std::get<2>(k)};
        }
        bool operator()(const auto& a, const auto& b) const { return as_view(a) < as_view(b); }
        static stream_key as_view(const stream_key& k) { return k; }
        static stream_key as_view(const std::tuple<std::string, std::string, std::string>& k) {
            return view(k);
        }
    };
    using stream_map =
        std::map<std::tuple<std::string, std::string, std::string>, std::shared_ptr<stream>, key_less>;

    void recover();
    void finish_deletions_due();  // drops streams whose DELETING time has passed
    void drop_files(const std::shared_ptr<stream>& s);
    std::shared_ptr<stream_map> copy_map() const;

    registry_options options_;
    const clock& clock_;
    // Set once, by iterators(), under iterators_mu_; then published in iterators_ready_ for the
    // lock-free path. Not std::call_once: TSan's pthread_once never lets a call whose callable
    // threw be retried (the next call hangs).
    mutable std::mutex iterators_mu_;
    mutable std::unique_ptr<iterator_codec> iterators_;
    mutable std::atomic<const iterator_codec*> iterators_ready_{nullptr};
    mutable std::mutex control_mu_;  // serializes changes to the map
    std::atomic<std::shared_ptr<const stream_map>> streams_;
};

// Opens the log of one shard of a stream directory (recovering it) and logs what recovery did.
std::unique_ptr<storage::shard_log> open_shard_log(const std::filesystem::path& stream_dir,
                                                   const shard_id& id,
                                                   const storage::segment_log_options& options);

}  // namespace kinesd
