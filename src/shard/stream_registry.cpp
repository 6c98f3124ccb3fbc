#include "kinesd/shard/stream_registry.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "kinesd/api/error.hpp"
#include "kinesd/common/atomic_file.hpp"
#include "kinesd/common/logging.hpp"
#include "kinesd/common/random.hpp"
#include "kinesd/shard/sequence_number.hpp"

namespace kinesd {
namespace fs = std::filesystem;
namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("shard");
    return l;
}

std::uint64_t random_u64() {
    std::uint64_t v = 0;
    fill_random(&v, sizeof v);
    return v;
}

std::array<std::uint8_t, 32> load_or_create_iterator_key(const fs::path& path) {
    std::array<std::uint8_t, 32> key{};
    {
        std::ifstream in(path, std::ios::binary);
        if (in.read(reinterpret_cast<char*>(key.data()), key.size()) && in.peek() == EOF) return key;
    }
    key = random_iterator_key();
    if (auto ec = write_file_atomically(
            path, std::string_view(reinterpret_cast<const char*>(key.data()), key.size())))
        throw std::runtime_error(fmt::format("cannot write {}: {}", path.string(), ec.message()));
    return key;
}

// Reads a stream's meta.json. If it is damaged (which an atomic replace should prevent, but a
// disk or a hand can still do), the previous version (meta.json.prev) is used and written back
// as meta.json. Throws std::runtime_error when neither can be used.
std::pair<std::shared_ptr<stream>, stream_settings> load_stream_meta(const fs::path& dir) {
    const auto parse = [&](const fs::path& path) {
        std::ifstream in(path);
        if (!in) throw std::runtime_error("cannot open " + path.filename().string());
        try {
            return stream::from_json(nlohmann::json::parse(in), dir);
        } catch (const nlohmann::json::exception& e) {
            throw std::runtime_error(path.filename().string() + " is not valid JSON: " + e.what());
        }
    };
    std::error_code ec;
    fs::remove(dir / "meta.json.tmp", ec);  // a replace that did not complete
    try {
        return parse(dir / "meta.json");
    } catch (const std::exception& e) {
        if (!fs::exists(dir / "meta.json.prev")) throw;
        auto loaded = parse(dir / "meta.json.prev");
        logger()->error("{}: {}; using the previous version (meta.json.prev)", dir.string(),
                        e.what());
        loaded.first->install(loaded.second, {});
        // Not write_file_keeping_previous: that would make the damaged file the previous one.
        if (auto werr = write_file_atomically(dir / "meta.json", loaded.first->to_json().dump(1)))
            logger()->error("{}: cannot rewrite meta.json: {}", dir.string(), werr.message());
        return loaded;
    }
}

// A shard directory with an index meta.json has not handed out yet: left by a reshard that
// crashed before its meta.json write (empty), or by a fallback to meta.json.prev (it may hold
// acknowledged records). New shards must never reuse such an id, so move past it, and keep the
// directory for inspection.
void skip_unlisted_shard_ids(const fs::path& dir, stream_settings& settings) {
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (!entry.is_directory()) continue;
        const auto id = shard_id::parse(entry.path().filename().string());
        if (!id || id->index < settings.next_shard_index) continue;
        logger()->warn("{}: {} is not in meta.json; new shard ids continue after it",
                       dir.string(), id->str());
        settings.next_shard_index = id->index + 1;
    }
}

}  // namespace

std::unique_ptr<storage::shard_log> open_shard_log(const fs::path& stream_dir, const shard_id& id,
                                                   const storage::segment_log_options& options) {
    storage::recovery_report report;
    auto log = storage::open_segment_log(stream_dir / id.str(), options, report);
    for (const auto& line : report.messages)
        logger()->warn("{} {}: {}", stream_dir.filename().string(), id.str(), line);
    if (report.quarantined_segments > 0)
        logger()->error("{} {}: {} corrupt segment(s) quarantined: records after the damage are "
                        "no longer served (the files are kept for inspection)",
                        stream_dir.filename().string(), id.str(), report.quarantined_segments);
    return log;
}

stream_registry::stream_registry(registry_options options, const clock& clk)
    : options_(std::move(options)), clock_(clk) {
    std::error_code ec;
    fs::create_directories(options_.data_dir / "streams", ec);
    if (ec)
        throw std::runtime_error(fmt::format("cannot create data dir {}: {}",
                                             options_.data_dir.string(), ec.message()));
    streams_.store(std::make_shared<const stream_map>());
    recover();
}

stream_registry::~stream_registry() = default;

const iterator_codec& stream_registry::iterators() const {
    if (const iterator_codec* ready = iterators_ready_.load(std::memory_order_acquire))
        return *ready;
    std::lock_guard lock(iterators_mu_);
    if (!iterators_) {
        // Throws without setting anything: the next call tries again.
        iterators_ = std::make_unique<iterator_codec>(
            load_or_create_iterator_key(options_.data_dir / "iterator.key"));
        iterators_ready_.store(iterators_.get(), std::memory_order_release);
    }
    return *iterators_;
}

void stream_registry::recover() {
    // A deletion interrupted by a crash left its directory in trash/: finish it.
    std::error_code ec;
    fs::remove_all(options_.data_dir / "trash", ec);
    auto map = std::make_shared<stream_map>();
    for (const auto& entry : fs::directory_iterator(options_.data_dir / "streams")) {
        if (!entry.is_directory()) continue;
        const fs::path dir = entry.path();
        const fs::path meta_path = dir / "meta.json";
        if (!fs::exists(meta_path)) {
            // CreateStream writes meta.json first: without it the stream was never acknowledged.
            logger()->warn("removing {}: a stream creation that did not complete", dir.string());
            fs::remove_all(dir, ec);
            continue;
        }
        try {
            auto [s, settings] = load_stream_meta(dir);
            skip_unlisted_shard_ids(dir, settings);
            std::vector<std::shared_ptr<shard>> shards;
            for (const auto& info : settings.shards)
                shards.push_back(std::make_shared<shard>(
                    info, open_shard_log(dir, info.id, options_.segments)));
            s->install(std::move(settings), std::move(shards));
            map->emplace(std::tuple{s->account, s->region, s->name}, s);
        } catch (const std::exception& e) {
            logger()->error("cannot load stream in {}: {}; leaving it untouched", dir.string(), e.what());
        }
    }
    streams_.store(std::move(map));
    std::lock_guard lock(control_mu_);
    finish_deletions_due();
}

std::shared_ptr<stream_registry::stream_map> stream_registry::copy_map() const {
    return std::make_shared<stream_map>(*streams_.load());
}

std::shared_ptr<stream> stream_registry::find(const stream_key& key) const {
    auto map = streams_.load();
    auto it = map->find(key);
    if (it == map->end()) return nullptr;
    if (it->second->deletion_due(clock_.now_ms())) {
        std::lock_guard lock(control_mu_);
        const_cast<stream_registry*>(this)->finish_deletions_due();
        return nullptr;
    }
    return it->second;
}

std::vector<std::shared_ptr<stream>> stream_registry::list(std::string_view account,
                                                           std::string_view region) const {
    const epoch_ms now = clock_.now_ms();
    bool due = false;
    std::vector<std::shared_ptr<stream>> out;
    auto map = streams_.load();
    for (auto it = map->lower_bound(stream_key{account, region, ""}); it != map->end(); ++it) {
        if (std::get<0>(it->first) != account || std::get<1>(it->first) != region) break;
        if (it->second->deletion_due(now)) {
            due = true;
            continue;
        }
        out.push_back(it->second);
    }
    if (due) {
        std::lock_guard lock(control_mu_);
        const_cast<stream_registry*>(this)->finish_deletions_due();
    }
    return out;
}

std::vector<std::shared_ptr<stream>> stream_registry::all() const {
    auto map = streams_.load();
    std::vector<std::shared_ptr<stream>> out;
    out.reserve(map->size());
    for (const auto& [key, s] : *map) out.push_back(s);
    return out;
}

std::size_t stream_registry::stream_count() const { return streams_.load()->size(); }

std::size_t stream_registry::sync_all() const {
    std::size_t failed = 0;
    const auto map = streams_.load();  // holds the streams, and so their shards, alive
    for (const auto& [key, s] : *map) {
        const auto table = s->shards();
        for (const auto& sh : table->all) {
            const auto ec = sh->sync();
            if (!ec || ec == storage::storage_errc::closed) continue;
            ++failed;
            logger()->error("fsync of {} {} failed: {}", s->name, sh->info().id.str(), ec.message());
        }
    }
    return failed;
}

std::uint32_t stream_registry::open_shard_count(std::string_view account,
                                                std::string_view region) const {
    std::uint32_t count = 0;
    for (const auto& s : list(account, region)) count += static_cast<std::uint32_t>(s->shards()->open.size());
    return count;
}

std::shared_ptr<stream> stream_registry::create(const create_stream_request& req) {
    std::lock_guard lock(control_mu_);
    finish_deletions_due();
    const stream_key key{req.account, req.region, req.name};
    if (streams_.load()->count(key)) throw api_error::stream_in_use(req.name, req.account);

    std::uint32_t current = 0;
    {
        auto map = streams_.load();
        for (auto it = map->lower_bound(stream_key{req.account, req.region, ""}); it != map->end(); ++it) {
            if (std::get<0>(it->first) != req.account || std::get<1>(it->first) != req.region) break;
            current += static_cast<std::uint32_t>(it->second->shards()->open.size());
        }
    }
    if (static_cast<std::uint64_t>(current) + req.shard_count > options_.shard_limit)
        throw api_error(
            "LimitExceededException",
            fmt::format("This request would exceed the shard limit for the account {} in {}. Current "
                        "shard count for the account: {}. Limit: {}. Number of additional shards "
                        "that would have resulted from this request: {}. Refer to the AWS Service "
                        "Limits page (http://docs.aws.amazon.com/general/latest/gr/"
                        "aws_service_limits.html) for current limits and how to request higher limits.",
                        req.account, req.region, current, options_.shard_limit, req.shard_count));

    const epoch_ms now = clock_.now_ms();
    const std::uint64_t uid = random_u64();
    const fs::path dir = options_.data_dir / "streams" / fmt::format("{:016x}", uid);
    auto s = std::make_shared<stream>(req.account, req.region, req.name, uid, now, dir);

    stream_settings settings;
    settings.mode = req.mode;
    settings.extra = req.extra;
    if (options_.create_stream_ms > 0 && !req.active_at_once) {
        settings.status = stream_status::creating;
        settings.status_until_ms = now + options_.create_stream_ms;
    }
    const auto ranges = split_evenly(req.shard_count);
    for (std::uint32_t i = 0; i < req.shard_count; ++i) {
        shard_info info;
        info.id = shard_id{i};
        info.range = ranges[i];
        info.starting_seq = sequence_number::first_of(i, now).value;
        info.created_ms = now;
        settings.shards.push_back(info);
    }
    settings.next_shard_index = req.shard_count;

    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        logger()->error("cannot create {}: {}", dir.string(), ec.message());
        throw api_error::internal_failure();
    }
    std::vector<std::shared_ptr<shard>> shards;
    try {
        for (const auto& info : settings.shards)
            shards.push_back(std::make_shared<shard>(info, open_shard_log(dir, info.id, options_.segments)));
    } catch (const std::exception& e) {
        logger()->error("cannot create the shards of {}: {}", req.name, e.what());
        fs::remove_all(dir, ec);
        throw api_error::internal_failure();
    }
    s->install(std::move(settings), std::move(shards));
    // meta.json is the commit point: a directory without it is removed at the next start.
    if (auto persist_ec = s->persist()) {
        logger()->error("cannot write metadata of {}: {}", req.name, persist_ec.message());
        fs::remove_all(dir, ec);
        throw api_error::internal_failure();
    }
    auto map = copy_map();
    map->emplace(std::tuple{req.account, req.region, req.name}, s);
    streams_.store(std::move(map));
    logger()->info("created stream {} ({}/{}) with {} shards", req.name, req.account, req.region,
                   req.shard_count);
    return s;
}

void stream_registry::remove(const stream_key& key) {
    std::lock_guard lock(control_mu_);
    finish_deletions_due();
    auto map = streams_.load();
    auto it = map->find(key);
    const epoch_ms now = clock_.now_ms();
    if (it == map->end() || it->second->status(now) == stream_status::deleting)
        throw api_error::stream_not_found(key.name, key.account);
    auto s = it->second;
    if (options_.delete_stream_ms > 0) {
        if (auto ec = s->update([&](stream_settings& st) {
                st.status = stream_status::deleting;
                st.status_until_ms = now + options_.delete_stream_ms;
            })) {
            logger()->error("cannot write metadata of {}: {}", s->name, ec.message());
            throw api_error::internal_failure();
        }
        return;
    }
    auto next = copy_map();
    next->erase(std::tuple{s->account, s->region, s->name});
    streams_.store(std::move(next));
    drop_files(s);
}

void stream_registry::finish_deletions_due() {
    const epoch_ms now = clock_.now_ms();
    auto map = streams_.load();
    std::vector<std::shared_ptr<stream>> due;
    for (const auto& [key, s] : *map)
        if (s->deletion_due(now)) due.push_back(s);
    if (due.empty()) return;
    auto next = copy_map();
    for (const auto& s : due) next->erase(std::tuple{s->account, s->region, s->name});
    streams_.store(std::move(next));
    for (const auto& s : due) drop_files(s);
}

void stream_registry::drop_files(const std::shared_ptr<stream>& s) {
    // Rename first: after a crash the stream is either whole in streams/ or gone to trash/.
    std::error_code ec;
    const fs::path trash = options_.data_dir / "trash";
    fs::create_directories(trash, ec);
    const fs::path target = trash / s->dir.filename();
    fs::rename(s->dir, target, ec);
    if (ec) {
        logger()->error("cannot move {} to trash: {}", s->dir.string(), ec.message());
        return;
    }
    sync_directory(options_.data_dir / "streams");
    fs::remove_all(target, ec);
    if (ec) logger()->warn("cannot remove {}: {}", target.string(), ec.message());
    logger()->info("deleted stream {} ({}/{})", s->name, s->account, s->region);
}

}  // namespace kinesd
