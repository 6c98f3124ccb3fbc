// Resharding of a stream: closing shards and adding their children atomically and durably.
#include <fmt/format.h>

#include <algorithm>

#include "kinesd/shard/sequence_number.hpp"
#include "kinesd/shard/stream.hpp"

namespace kinesd {
namespace {

class shard_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "kinesd.shard"; }
    std::string message(int ev) const override {
        switch (static_cast<shard_errc>(ev)) {
            case shard_errc::closed: return "shard closed by resharding";
        }
        return "unknown shard error";
    }
};

// The largest number of shard `index` at millisecond `ms` (counter all ones).
uint128 last_of(std::uint32_t index, epoch_ms ms) {
    return sequence_number::first_of(index, ms + 1).value - 1;
}

}  // namespace

const std::error_category& shard_category() {
    static const shard_category_impl category;
    return category;
}

std::error_code make_error_code(shard_errc e) { return {static_cast<int>(e), shard_category()}; }

uint128 shard::ending_seq_locked(epoch_ms now) const {
    // Numbers given so far are <= last_seq(); the next one would exceed last_of(arrival) only by
    // counter overflow, which max() with last_seq() covers.
    const epoch_ms at = std::max(now, last_arrival_ms_);
    return std::max({last_of(info_.id.index, at), log_->last_seq(), info_.starting_seq});
}

const shard_info* shard_table::info(std::uint32_t index) const {
    auto it = std::lower_bound(infos.begin(), infos.end(), index,
                               [](const shard_info& s, std::uint32_t i) { return s.id.index < i; });
    return it != infos.end() && it->id.index == index ? &*it : nullptr;
}

std::error_code stream::reshard(const std::function<reshard_change(const stream_settings&)>& decide,
                                const log_opener& open_log, epoch_ms now) {
    std::lock_guard lock(meta_mu_);
    reshard_change change = decide(settings_);

    // New shards first: their logs exist before meta.json refers to them. A crash before
    // meta.json is written leaves directories nothing refers to; the next reshard reuses their
    // ids and empties them (below).
    std::vector<std::shared_ptr<shard>> created;
    std::vector<shard_info> created_infos;
    auto drop_created = [&] {
        for (auto& sh : created) sh->remove_files();
    };
    try {
        for (const auto& p : change.created) {
            shard_info info;
            info.id = shard_id{p.index};
            info.range = p.range;
            if (p.parent) info.parent = shard_id{*p.parent};
            if (p.adjacent_parent) info.adjacent_parent = shard_id{*p.adjacent_parent};
            info.starting_seq = sequence_number::first_of(p.index, now).value;
            info.created_ms = now;
            if (p.closed) info.ending_seq = last_of(p.index, now);
            auto sh = std::make_shared<shard>(info, open_log(info.id));
            if (sh->log().last_seq() != 0) {
                // Recovery moves next_shard_index past every shard directory on disk, so a new
                // id never names a log with records; never delete acknowledged records to make
                // room.
                throw std::runtime_error(fmt::format(
                    "reshard of {}: {} already holds records", name, info.id.str()));
            }
            created.push_back(std::move(sh));
            created_infos.push_back(info);
        }
    } catch (...) {
        drop_created();
        throw;
    }

    // Hold the closing shards' writes (in index order: one order for every reshard) until the
    // change is published.
    std::vector<shard*> closing;
    for (auto index : change.closing) {
        auto it = std::find_if(shard_objects_.begin(), shard_objects_.end(),
                               [&](const auto& sh) { return sh->info().id.index == index; });
        if (it == shard_objects_.end()) {
            drop_created();
            throw std::logic_error(fmt::format("reshard: no shard {} in stream {}", index, name));
        }
        closing.push_back(it->get());
    }
    std::sort(closing.begin(), closing.end(),
              [](const shard* a, const shard* b) { return a->info().id.index < b->info().id.index; });
    std::vector<std::unique_lock<std::mutex>> holds;
    holds.reserve(closing.size());
    for (auto* sh : closing) holds.push_back(sh->hold_writes());

    stream_settings next = settings_;
    for (auto* sh : closing)
        for (auto& info : next.shards)
            if (info.id == sh->info().id) info.ending_seq = sh->ending_seq_locked(now);
    for (const auto& info : created_infos) next.shards.push_back(info);
    std::sort(next.shards.begin(), next.shards.end(),
              [](const shard_info& a, const shard_info& b) { return a.id.index < b.id.index; });
    next.next_shard_index = std::max(next.next_shard_index, change.next_shard_index);
    if (change.mutate) change.mutate(next);

    if (auto ec = write_meta(next)) {
        drop_created();
        return ec;
    }
    for (auto* sh : closing) sh->set_closed_locked(true);
    settings_ = std::move(next);
    for (auto& sh : created) shard_objects_.push_back(std::move(sh));
    std::sort(shard_objects_.begin(), shard_objects_.end(),
              [](const auto& a, const auto& b) { return a->info().id.index < b->info().id.index; });
    publish(settings_);
    // Subscribers of a closed shard end with its ChildShards now, not at their next heartbeat.
    for (auto* sh : closing) sh->appended().notify();
    return {};  // the holds are released here: waiting appends see closed and re-route
}

}  // namespace kinesd

#include "kinesd/api/error.hpp"
#include "kinesd/common/logging.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd {

void stream_registry::reshard(
    stream& s,
    const std::function<stream::reshard_change(const stream_settings&, std::uint32_t)>& decide) {
    std::lock_guard lock(control_mu_);
    // Counted here, not with open_shard_count(): that may take control_mu_ itself.
    std::uint32_t account_open = 0;
    {
        auto map = streams_.load();
        for (auto it = map->lower_bound(stream_key{s.account, s.region, ""}); it != map->end(); ++it) {
            if (std::get<0>(it->first) != s.account || std::get<1>(it->first) != s.region) break;
            account_open += static_cast<std::uint32_t>(it->second->shards()->open.size());
        }
    }
    auto open_log = [&](const shard_id& id) { return open_shard_log(s.dir, id, options_.segments); };
    std::error_code ec;
    try {
        ec = s.reshard([&](const stream_settings& st) { return decide(st, account_open); }, open_log,
                       clock_.now_ms());
    } catch (const api_error&) {
        throw;
    } catch (const std::exception& e) {
        module_logger("shard")->error("cannot reshard stream {}: {}", s.name, e.what());
        throw api_error::internal_failure();
    }
    if (ec) {
        module_logger("shard")->error("cannot write metadata of {}: {}", s.name, ec.message());
        throw api_error::internal_failure();
    }
}

}  // namespace kinesd
