#include "kinesd/shard/stream.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kinesd/common/atomic_file.hpp"
#include "kinesd/shard/pending_commit.hpp"
#include "kinesd/shard/sequence_number.hpp"

namespace kinesd {

shard::shard(shard_info info, std::unique_ptr<storage::shard_log> log)
    : info_(std::move(info)), log_(std::move(log)) {
    last_arrival_ms_ = log_->last_arrival_ms();
    closed_ = info_.ending_seq.has_value();
}

std::error_code shard::append(storage::append_batch& batch, epoch_ms now, uint128 ordering_floor,
                              std::span<uint128> seqs_out, epoch_ms& arrival_out,
                              std::uint64_t* commit_ticket) {
    if (commit_ticket) *commit_ticket = 0;
    std::uint64_t ticket = 0;
    {
        std::lock_guard lock(write_mu_);
        if (closed_) return shard_errc::closed;
        const epoch_ms arrival = std::max(now, last_arrival_ms_);
        uint128 last = std::max(log_->last_seq(), ordering_floor);
        last = std::max(last, info_.starting_seq > 0 ? info_.starting_seq - 1 : uint128{0});
        for (std::size_t i = 0; i < batch.size(); ++i) {
            last = sequence_number::next(info_.id.index, last, arrival).value;
            seqs_out[i] = last;
        }
        arrival_out = arrival;
        if (auto ec = log_->append(batch, seqs_out.first(batch.size()), arrival)) return ec;
        last_arrival_ms_ = arrival;
        ticket = log_->sync_ticket();
    }
    // Readable now (GetRecords sees them too); subscribers need not wait for the fsync.
    appended_.notify();
    if (commit_ticket) {
        if (log_->commit_waits()) *commit_ticket = ticket;
        return {};
    }
    // Outside the lock: with fsync=always this waits for an fsync that other appends to this
    // shard can join meanwhile (group commit).
    return log_->commit(ticket);
}

void commit_async(const pending_commit& c, storage::commit_callback done) {
    c.target->commit_async(c.ticket, std::move(done));
}

std::error_code shard::sync() { return log_->sync(); }

void shard::remove_files() {
    std::lock_guard lock(write_mu_);
    log_->remove();
}

shard* shard_table::route(uint128 hash) const {
    // open is sorted by range start and the ranges cover the space without gaps.
    auto it = std::upper_bound(open.begin(), open.end(), hash,
                               [](uint128 h, const shard* s) { return h < s->info().range.start; });
    if (it == open.begin()) return nullptr;
    shard* s = *(it - 1);
    return s->info().range.contains(hash) ? s : nullptr;
}

shard* shard_table::find(std::uint32_t index) const {
    auto it = std::lower_bound(all.begin(), all.end(), index,
                               [](const std::shared_ptr<shard>& s, std::uint32_t i) {
                                   return s->info().id.index < i;
                               });
    return (it != all.end() && (*it)->info().id.index == index) ? it->get() : nullptr;
}

stream::stream(std::string account_, std::string region_, std::string name_, std::uint64_t uid_,
               epoch_ms created_ms_, std::filesystem::path dir_)
    : account(std::move(account_)),
      region(std::move(region_)),
      name(std::move(name_)),
      uid(uid_),
      created_ms(created_ms_),
      dir(std::move(dir_)),
      arn(fmt::format("arn:aws:kinesis:{}:{}:stream/{}", region, account, name)) {
    shards_.store(std::make_shared<const shard_table>());
}

stream_status stream::status(epoch_ms now) const {
    return status_after(static_cast<stream_status>(status_.load(std::memory_order_acquire)),
                        status_until_ms_.load(std::memory_order_acquire), now);
}

bool stream::deletion_due(epoch_ms now) const {
    return static_cast<stream_status>(status_.load(std::memory_order_acquire)) == stream_status::deleting &&
           now >= status_until_ms_.load(std::memory_order_acquire);
}

stream_settings stream::settings() const {
    std::lock_guard lock(meta_mu_);
    return settings_;
}

void stream::publish(const stream_settings& s) {
    auto table = std::make_shared<shard_table>();
    table->all = shard_objects_;
    table->infos = s.shards;
    std::sort(table->infos.begin(), table->infos.end(),
              [](const shard_info& a, const shard_info& b) { return a.id.index < b.id.index; });
    for (const auto& sh : shard_objects_) {
        auto info_it = std::find_if(s.shards.begin(), s.shards.end(),
                                    [&](const shard_info& i) { return i.id == sh->info().id; });
        if (info_it != s.shards.end() && !info_it->ending_seq) table->open.push_back(sh.get());
    }
    std::sort(table->open.begin(), table->open.end(),
              [](const shard* a, const shard* b) { return a->info().range.start < b->info().range.start; });
    status_until_ms_.store(s.status_until_ms, std::memory_order_release);
    status_.store(static_cast<int>(s.status), std::memory_order_release);
    retention_hours_.store(s.retention_hours, std::memory_order_relaxed);
    retention_floor_ms_.store(s.extra.value("retention_floor_ms", epoch_ms{0}), std::memory_order_relaxed);
    max_record_bytes_.store(
        static_cast<std::size_t>(s.extra.value("max_record_size_kib", 1024)) * 1024,
        std::memory_order_relaxed);
    shards_.store(std::move(table));
}

void stream::install(stream_settings s, std::vector<std::shared_ptr<shard>> shards) {
    std::lock_guard lock(meta_mu_);
    std::sort(shards.begin(), shards.end(),
              [](const auto& a, const auto& b) { return a->info().id.index < b->info().id.index; });
    settings_ = std::move(s);
    shard_objects_ = std::move(shards);
    publish(settings_);
}

std::error_code stream::update(const std::function<void(stream_settings&)>& mutate) {
    // Control plane only: holding the metadata lock across the file write is fine here, the
    // data path never takes it.
    std::lock_guard lock(meta_mu_);
    stream_settings next = settings_;
    mutate(next);
    if (auto ec = write_meta(next)) return ec;
    settings_ = std::move(next);
    publish(settings_);
    return {};
}

std::string_view to_string(stream_status s) {
    switch (s) {
        case stream_status::creating: return "CREATING";
        case stream_status::deleting: return "DELETING";
        case stream_status::active: return "ACTIVE";
        case stream_status::updating: return "UPDATING";
    }
    return "ACTIVE";
}

std::string_view to_string(stream_mode m) {
    return m == stream_mode::on_demand ? "ON_DEMAND" : "PROVISIONED";
}

nlohmann::json stream::to_json() const {
    std::lock_guard lock(meta_mu_);
    return to_json(settings_);
}

nlohmann::json stream::to_json(const stream_settings& settings) const {
    nlohmann::json j;
    j["version"] = 1;
    j["account"] = account;
    j["region"] = region;
    j["name"] = name;
    j["uid"] = fmt::format("{:016x}", uid);
    j["created_ms"] = created_ms;
    j["status"] = to_string(settings.status);
    j["status_until_ms"] = settings.status_until_ms;
    j["mode"] = to_string(settings.mode);
    j["retention_hours"] = settings.retention_hours;
    j["next_shard_index"] = settings.next_shard_index;
    auto& shards = j["shards"] = nlohmann::json::array();
    for (const auto& s : settings.shards) {
        nlohmann::json sj;
        sj["index"] = s.id.index;
        sj["start"] = to_decimal(s.range.start);
        sj["end"] = to_decimal(s.range.end);
        if (s.parent) sj["parent"] = s.parent->index;
        if (s.adjacent_parent) sj["adjacent_parent"] = s.adjacent_parent->index;
        sj["starting_seq"] = to_decimal(s.starting_seq);
        if (s.ending_seq) sj["ending_seq"] = to_decimal(*s.ending_seq);
        sj["created_ms"] = s.created_ms;
        shards.push_back(std::move(sj));
    }
    j["extra"] = settings.extra;
    return j;
}

std::error_code stream::persist() const {
    std::lock_guard lock(meta_mu_);
    return write_meta(settings_);
}

std::error_code stream::write_meta(const stream_settings& next) const {
    return write_file_keeping_previous(dir / "meta.json", to_json(next).dump(1));
}

}  // namespace kinesd

namespace kinesd {

std::pair<std::shared_ptr<stream>, stream_settings> stream::from_json(
    const nlohmann::json& j, const std::filesystem::path& dir) {
    try {
        auto parse_u128 = [](const nlohmann::json& v) {
            auto parsed = parse_decimal_u128(v.get<std::string>());
            if (!parsed) throw std::runtime_error("bad 128-bit number");
            return *parsed;
        };
        auto s = std::make_shared<stream>(
            j.at("account").get<std::string>(), j.at("region").get<std::string>(),
            j.at("name").get<std::string>(),
            std::stoull(j.at("uid").get<std::string>(), nullptr, 16),
            j.at("created_ms").get<epoch_ms>(), dir);
        stream_settings st;
        const auto status = j.at("status").get<std::string>();
        st.status = stream_status::active;
        for (auto named :
             {stream_status::creating, stream_status::deleting, stream_status::updating})
            if (status == to_string(named)) st.status = named;
        st.status_until_ms = j.at("status_until_ms").get<epoch_ms>();
        st.mode = j.at("mode").get<std::string>() == to_string(stream_mode::on_demand)
                      ? stream_mode::on_demand
                      : stream_mode::provisioned;
        st.retention_hours = j.at("retention_hours").get<int>();
        st.next_shard_index = j.at("next_shard_index").get<std::uint32_t>();
        for (const auto& sj : j.at("shards")) {
            shard_info info;
            info.id = shard_id{sj.at("index").get<std::uint32_t>()};
            info.range = {parse_u128(sj.at("start")), parse_u128(sj.at("end"))};
            if (sj.contains("parent")) info.parent = shard_id{sj["parent"].get<std::uint32_t>()};
            if (sj.contains("adjacent_parent"))
                info.adjacent_parent = shard_id{sj["adjacent_parent"].get<std::uint32_t>()};
            info.starting_seq = parse_u128(sj.at("starting_seq"));
            if (sj.contains("ending_seq")) info.ending_seq = parse_u128(sj["ending_seq"]);
            info.created_ms = sj.value("created_ms", epoch_ms{0});
            st.shards.push_back(info);
        }
        if (j.contains("extra")) st.extra = j["extra"];
        return {std::move(s), std::move(st)};
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(std::string("malformed stream metadata: ") + e.what());
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(std::string("malformed stream metadata: ") + e.what());
    }
}

}  // namespace kinesd
