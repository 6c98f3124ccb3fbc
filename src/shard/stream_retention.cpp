// The stream and shard side of retention: the expiry cutoff the read paths and the reaper share,
// dropping expired segments and expired closed shards, disk usage.
#include <algorithm>

#include "kinesd/shard/stream.hpp"

namespace kinesd {

std::size_t shard::drop_expired(epoch_ms cutoff_ms, std::uint64_t& bytes_freed) {
    storage::detached_segments gone;
    {
        std::lock_guard lock(write_mu_);
        gone = log_->detach_expired(cutoff_ms);
    }
    gone.delete_files();  // outside the lock: appends do not wait for the file system
    bytes_freed += gone.bytes();
    return gone.count();
}

epoch_ms stream::retention_cutoff_ms(epoch_ms now) const {
    const epoch_ms by_period = now - static_cast<epoch_ms>(retention_hours()) * 3'600'000;
    return std::max(by_period, retention_floor_ms_.load(std::memory_order_relaxed));
}

std::uint64_t stream::disk_bytes() const {
    std::uint64_t total = 0;
    for (const auto& s : shards()->all) total += s->log().disk_bytes();
    return total;
}

std::error_code stream::drop_shards(const std::vector<shard_id>& ids) {
    auto listed = [&](const shard_id& id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
    std::vector<std::shared_ptr<shard>> gone;
    {
        std::lock_guard lock(meta_mu_);
        stream_settings next = settings_;
        std::erase_if(next.shards, [&](const shard_info& i) { return listed(i.id); });
        if (next.shards.size() == settings_.shards.size()) return {};
        if (auto ec = write_meta(next)) return ec;
        settings_ = std::move(next);
        for (const auto& s : shard_objects_)
            if (listed(s->info().id)) gone.push_back(s);
        std::erase_if(shard_objects_, [&](const std::shared_ptr<shard>& s) { return listed(s->info().id); });
        publish(settings_);
    }
    // meta.json no longer names them: if the process dies before this, their directories are
    // left over but never read again.
    for (const auto& s : gone) s->remove_files();
    return {};
}

}  // namespace kinesd
