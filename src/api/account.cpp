// DescribeLimits, DescribeAccountSettings, UpdateAccountSettings.
// Account settings are kept per account and region in <data-dir>/account-settings.json,
//   {"<account>/<region>": {"status": "ENABLED"|"DISABLED", "started_ms": ..., "ended_ms": ...,
//                           "earliest_end_ms": ..., "disable_requested": bool}}
// replaced atomically on each change.
#include <fmt/format.h>

#include <fstream>
#include <mutex>

#include "kinesd/api/error.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/request.hpp"
#include "kinesd/common/atomic_file.hpp"
#include "kinesd/common/logging.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::api {
namespace {

constexpr std::int64_t on_demand_stream_limit = 50;  // AWS's default per account and region
// A minimum throughput billing commitment lasts at least 24 hours.
constexpr epoch_ms min_commitment_ms = 24 * 3600 * 1000;

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("api");
    return l;
}

// Serializes read-modify-write of the settings file (control plane only).
std::mutex settings_mu;

std::filesystem::path settings_path(context& ctx) {
    return ctx.streams.options().data_dir / "account-settings.json";
}

// An entry as update_account_settings writes it; anything else (a file edited by hand) would
// make every later read of it throw.
bool well_formed(const json& entry) {
    if (!entry.is_object()) return false;
    for (const auto& [key, value] : entry.items()) {
        const bool ok = key == "status"              ? value.is_string()
                        : key == "disable_requested" ? value.is_boolean()
                                                     : value.is_number_integer();
        if (!ok) return false;
    }
    return true;
}

json load_settings(context& ctx) {
    std::ifstream in(settings_path(ctx));
    if (!in) return json::object();
    auto doc = json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        logger()->error("{} is malformed; using default account settings",
                        settings_path(ctx).string());
        return json::object();
    }
    for (auto it = doc.begin(); it != doc.end();) {
        if (well_formed(*it)) {
            ++it;
            continue;
        }
        logger()->error("{}: the settings of {} are malformed; using the defaults",
                        settings_path(ctx).string(), it.key());
        it = doc.erase(it);
    }
    return doc;
}

// A commitment whose requested end has come is over: DISABLED from then on.
json effective(json entry, epoch_ms now) {
    if (entry.value("status", "DISABLED") == "ENABLED" && entry.value("disable_requested", false) &&
        now >= entry.value("earliest_end_ms", epoch_ms{0})) {
        entry["status"] = "DISABLED";
        entry["ended_ms"] = entry.value("earliest_end_ms", epoch_ms{0});
        entry.erase("disable_requested");
    }
    return entry;
}

json commitment_json(const json& entry) {
    const auto status = entry.value("status", std::string("DISABLED"));
    json out;
    out["Status"] = status == "ENABLED" && entry.value("disable_requested", false)
                        ? "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
                        : status;
    if (entry.contains("started_ms"))
        out["StartedAt"] = epoch_seconds(entry["started_ms"].get<epoch_ms>());
    if (entry.contains("ended_ms"))
        out["EndedAt"] = epoch_seconds(entry["ended_ms"].get<epoch_ms>());
    if (status == "ENABLED" && entry.contains("earliest_end_ms"))
        out["EarliestAllowedEndAt"] = epoch_seconds(entry["earliest_end_ms"].get<epoch_ms>());
    return out;
}

std::string account_key(context& ctx) { return fmt::format("{}/{}", ctx.account, ctx.region); }

}  // namespace

namespace account {

std::string describe_limits(context& ctx, const json&) {
    std::int64_t on_demand = 0;
    for (const auto& s : ctx.streams.list(ctx.account, ctx.region))
        if (s->settings().mode == stream_mode::on_demand) ++on_demand;
    return json{{"ShardLimit", ctx.streams.options().shard_limit},
                {"OpenShardCount", ctx.streams.open_shard_count(ctx.account, ctx.region)},
                {"OnDemandStreamCount", on_demand},
                {"OnDemandStreamCountLimit", on_demand_stream_limit}}
        .dump();
}

std::string describe_account_settings(context& ctx, const json&) {
    std::lock_guard lock(settings_mu);
    const auto doc = load_settings(ctx);
    const auto key = account_key(ctx);
    const json entry = doc.contains(key) ? effective(doc[key], ctx.time.now_ms()) : json::object();
    return json{{"MinimumThroughputBillingCommitment", commitment_json(entry)}}.dump();
}

std::string update_account_settings(context& ctx, const json& req) {
    const auto wanted = req.at("MinimumThroughputBillingCommitment").value("Status", std::string());
    const epoch_ms now = ctx.time.now_ms();
    std::lock_guard lock(settings_mu);
    auto doc = load_settings(ctx);
    const auto key = account_key(ctx);
    json entry = doc.contains(key) ? effective(doc[key], now) : json::object();
    const bool enabled = entry.value("status", "DISABLED") == "ENABLED";
    if (wanted == "ENABLED") {
        if (!enabled) {
            entry = {{"status", "ENABLED"},
                     {"started_ms", now},
                     {"earliest_end_ms", now + min_commitment_ms}};
        } else {
            entry.erase("disable_requested");  // enabling again cancels a pending disable
        }
    } else if (enabled) {
        if (now >= entry.value("earliest_end_ms", epoch_ms{0})) {
            entry["status"] = "DISABLED";
            entry["ended_ms"] = now;
        } else {
            // Too early to end: the commitment ends by itself at the earliest allowed time.
            entry["disable_requested"] = true;
        }
    }
    doc[key] = entry;
    if (auto ec = write_file_atomically(settings_path(ctx), doc.dump(1))) {
        logger()->error("cannot write {}: {}", settings_path(ctx).string(), ec.message());
        throw api_error::internal_failure();
    }
    return json{{"MinimumThroughputBillingCommitment", commitment_json(entry)}}.dump();
}

}  // namespace account
}  // namespace kinesd::api
