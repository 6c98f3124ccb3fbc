#include "kinesd/api/faults.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "kinesd/api/model.hpp"

namespace kinesd::api {
namespace {

using json = nlohmann::json;

constexpr std::int64_t max_latency_ms = 60'000;

// Error types a fault of `operation` may inject: those the API model lists for it, plus the
// service-wide InternalFailure (500) and ServiceUnavailable (503).
std::set<std::string> injectable_errors(const std::string& operation) {
    std::set<std::string> out{"InternalFailure", "ServiceUnavailable"};
    for (const auto& e : api_model::instance().errors_of(operation)) out.insert(e);
    return out;
}

std::string join(const std::set<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

fault_spec fault_registry::parse(const json& body) {
    if (!body.is_object()) throw api_error::serialization("The body must be a JSON object.");
    fault_spec spec;
    auto op = body.find("operation");
    if (op == body.end() || !op->is_string())
        throw api_error::invalid_argument("operation is required: the name of a Kinesis operation, e.g. PutRecords.");
    spec.operation = op->get<std::string>();
    if (!api_model::instance().has_operation(spec.operation))
        throw api_error::invalid_argument(fmt::format("Unknown operation {}.", spec.operation));
    if (auto s = body.find("streamName"); s != body.end() && !s->is_null()) {
        if (!s->is_string() || s->get<std::string>().empty())
            throw api_error::invalid_argument("streamName must be a non-empty string.");
        spec.stream_name = s->get<std::string>();
    }
    if (auto r = body.find("rate"); r != body.end() && !r->is_null()) {
        if (!r->is_number() || !(r->get<double>() >= 0.0 && r->get<double>() <= 1.0))
            throw api_error::invalid_argument("rate must be a number from 0 to 1.");
        spec.rate = r->get<double>();
    }
    if (auto l = body.find("latencyMs"); l != body.end() && !l->is_null()) {
        if (!l->is_number_integer() || l->get<std::int64_t>() < 0 || l->get<std::int64_t>() > max_latency_ms)
            throw api_error::invalid_argument(
                fmt::format("latencyMs must be an integer from 0 to {}.", max_latency_ms));
        spec.latency_ms = l->get<std::int64_t>();
    }
    if (auto e = body.find("errorType"); e != body.end() && !e->is_null()) {
        if (!e->is_string()) throw api_error::invalid_argument("errorType must be a string.");
        spec.error_type = e->get<std::string>();
        const auto allowed = injectable_errors(spec.operation);
        if (!allowed.count(spec.error_type))
            throw api_error::invalid_argument(fmt::format(
                "errorType {} cannot be injected into {}; it may be one of: {}.", spec.error_type,
                spec.operation, join(allowed)));
    }
    if (spec.error_type.empty() && spec.latency_ms == 0)
        throw api_error::invalid_argument("Give an errorType, a latencyMs, or both.");
    return spec;
}

std::uint64_t fault_registry::add(fault_spec spec) {
    std::lock_guard lock(mu_);
    const std::uint64_t id = next_id_++;
    entries_.push_back({id, std::move(spec)});
    count_.store(entries_.size(), std::memory_order_relaxed);
    return id;
}

bool fault_registry::remove(std::uint64_t id) {
    std::lock_guard lock(mu_);
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const entry& e) { return e.id == id; });
    if (it == entries_.end()) return false;
    entries_.erase(it);
    count_.store(entries_.size(), std::memory_order_relaxed);
    return true;
}

void fault_registry::clear() {
    std::lock_guard lock(mu_);
    entries_.clear();
    count_.store(0, std::memory_order_relaxed);
}

json fault_registry::list() const {
    std::lock_guard lock(mu_);
    json out = json::array();
    for (const auto& e : entries_) {
        json j{{"id", e.id}, {"operation", e.spec.operation}, {"rate", e.spec.rate},
               {"latencyMs", e.spec.latency_ms}, {"draws", e.draws}, {"fired", e.fired}};
        if (!e.spec.stream_name.empty()) j["streamName"] = e.spec.stream_name;
        if (!e.spec.error_type.empty()) j["errorType"] = e.spec.error_type;
        out.push_back(std::move(j));
    }
    return out;
}

fault_outcome fault_registry::draw(std::string_view operation, std::string_view stream) {
    fault_outcome out;
    if (!active()) return out;
    std::lock_guard lock(mu_);
    for (auto& e : entries_) {
        if (e.spec.operation != operation) continue;
        if (!e.spec.stream_name.empty() && e.spec.stream_name != stream) continue;
        // Fires when floor(draws * rate) steps up: exactly floor(n * rate) of the first n draws.
        const std::uint64_t n = ++e.draws;
        const auto due = static_cast<std::uint64_t>(std::floor(static_cast<double>(n) * e.spec.rate + 1e-9));
        if (due <= e.fired) continue;
        ++e.fired;
        if (out.error_type.empty()) out.error_type = e.spec.error_type;
        out.latency_ms = std::max(out.latency_ms, e.spec.latency_ms);
    }
    return out;
}

fault_registry& faults() {
    static fault_registry registry;
    return registry;
}

api_error injected_error(std::string_view type, std::string_view stream, std::string_view account) {
    const std::string rate_exceeded =
        stream.empty() ? fmt::format("Rate exceeded for account {}.", account)
                       : fmt::format("Rate exceeded for stream {} under account {}.", stream, account);
    if (type == "ProvisionedThroughputExceededException" || type == "LimitExceededException")
        return {std::string(type), rate_exceeded};
    if (type == "InternalFailure" || type == "InternalFailureException")
        return {std::string(type), "Internal service failure.", 500};
    if (type == "ServiceUnavailable") return {std::string(type), "Service Unavailable", 503};
    return {std::string(type), "Fault injected by the kinesd admin API."};
}

}  // namespace kinesd::api
