#include "kinesd/api/resources.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "kinesd/api/request.hpp"
#include "kinesd/common/logging.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::api {
namespace {

using json = nlohmann::json;

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("api");
    return l;
}

const json& consumers_of(const stream_settings& st) {
    static const json empty = json::array();
    auto it = st.extra.find("consumers");
    return it != st.extra.end() && it->is_array() ? *it : empty;
}

std::shared_ptr<stream> find_stream(context& ctx, std::string_view account, std::string_view region,
                                    std::string_view name) {
    auto s = ctx.streams.find(stream_key{account, region, name});
    if (!s) throw api_error::stream_not_found(name, account);
    return s;
}

}  // namespace

consumer_state consumer_status(const json& entry, epoch_ms now) {
    const auto status = entry.value("status", std::string("ACTIVE"));
    const bool due = now >= entry.value("status_until_ms", epoch_ms{0});
    if (status == "CREATING") return due ? consumer_state::active : consumer_state::creating;
    if (status == "DELETING") return due ? consumer_state::gone : consumer_state::deleting;
    return consumer_state::active;
}

std::string_view consumer_status_name(consumer_state s) {
    switch (s) {
        case consumer_state::creating:
            return "CREATING";
        case consumer_state::deleting:
            return "DELETING";
        case consumer_state::active:
        case consumer_state::gone:
            break;
    }
    return "ACTIVE";
}

std::optional<std::size_t> find_consumer(const stream_settings& st, std::string_view name,
                                         epoch_ms now, std::optional<std::int64_t> created_s) {
    const auto& list = consumers_of(st);
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& c = list[i];
        if (c.value("name", std::string()) != name ||
            consumer_status(c, now) == consumer_state::gone)
            continue;
        if (created_s && c.value("created_ms", epoch_ms{0}) / 1000 != *created_s) continue;
        return i;
    }
    return std::nullopt;
}

std::size_t live_consumer_count(const stream_settings& st, epoch_ms now) {
    const auto& list = consumers_of(st);
    return static_cast<std::size_t>(std::count_if(list.begin(), list.end(), [&](const json& c) {
        return consumer_status(c, now) != consumer_state::gone;
    }));
}

void purge_gone_consumers(stream_settings& st, epoch_ms now) {
    auto it = st.extra.find("consumers");
    if (it == st.extra.end() || !it->is_array()) return;
    json kept = json::array();
    for (auto& c : *it)
        if (consumer_status(c, now) != consumer_state::gone) kept.push_back(std::move(c));
    *it = std::move(kept);
}

std::optional<consumer_arn> parse_consumer_arn(std::string_view arn) {
    // arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME/consumer/CONSUMER:SECONDS
    auto parsed = parse_kinesis_arn(arn);
    if (!parsed) return std::nullopt;
    std::string_view rest = parsed->resource;
    constexpr std::string_view stream_prefix = "stream/", consumer_infix = "/consumer/";
    if (rest.substr(0, stream_prefix.size()) != stream_prefix) return std::nullopt;
    rest.remove_prefix(stream_prefix.size());
    auto infix = rest.find(consumer_infix);
    if (infix == std::string_view::npos || infix == 0) return std::nullopt;
    consumer_arn out{parsed->region, parsed->account, rest.substr(0, infix), {}, 0};
    rest.remove_prefix(infix + consumer_infix.size());
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size())
        return std::nullopt;
    out.consumer = rest.substr(0, colon);
    auto digits = rest.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out.created_s);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    if (out.stream.find('/') != std::string_view::npos ||
        out.consumer.find('/') != std::string_view::npos)
        return std::nullopt;
    return out;
}

std::string make_consumer_arn(const stream& s, std::string_view consumer, epoch_ms created_ms) {
    return fmt::format("{}/consumer/{}:{}", s.arn, consumer, created_ms / 1000);
}

json consumer_json(const stream& s, const json& entry, epoch_ms now, bool with_stream) {
    const auto name = entry.value("name", std::string());
    const auto created = entry.value("created_ms", epoch_ms{0});
    json j;
    j["ConsumerName"] = name;
    j["ConsumerARN"] = make_consumer_arn(s, name, created);
    j["ConsumerStatus"] = consumer_status_name(consumer_status(entry, now));
    // AWS reports the creation time in whole seconds, the precision of the ARN.
    j["ConsumerCreationTimestamp"] = epoch_seconds(created / 1000 * 1000);
    if (with_stream) j["StreamARN"] = s.arn;
    return j;
}

api_error consumer_not_found(const stream& s, std::string_view consumer) {
    return {"ResourceNotFoundException",
            fmt::format("Consumer {} under stream {} under account {} not found.", consumer, s.name,
                        s.account)};
}

api_error consumer_not_active(const resource_ref& ref) {
    return {"ResourceInUseException",
            fmt::format(
                "Consumer {} with creation timestamp {} under stream {} and account {} is not in "
                "ACTIVE status.",
                *ref.consumer, ref.consumer_created_s, ref.owner->name, ref.owner->account)};
}

resource_ref resolve_consumer_arn(context& ctx, std::string_view arn) {
    auto parsed = parse_consumer_arn(arn);
    if (!parsed) throw api_error::invalid_argument(fmt::format("Invalid ConsumerARN: {}", arn));
    auto s = find_stream(ctx, parsed->account, parsed->region, parsed->stream);
    const auto st = s->settings();
    if (!find_consumer(st, parsed->consumer, ctx.time.now_ms(), parsed->created_s))
        throw consumer_not_found(*s, parsed->consumer);
    return {s, std::string(parsed->consumer), parsed->created_s, std::string(arn)};
}

resource_ref resolve_resource(context& ctx, std::string_view arn) {
    if (auto consumer = parse_consumer_arn(arn)) return resolve_consumer_arn(ctx, arn);
    auto parsed = parse_stream_arn(arn);
    if (!parsed) throw api_error::invalid_argument(fmt::format("Invalid ResourceARN: {}", arn));
    return {find_stream(ctx, parsed->account, parsed->region, parsed->name), std::nullopt, 0,
            std::string(arn)};
}

json& consumer_entry(stream_settings& st, const resource_ref& ref, epoch_ms now) {
    auto index = find_consumer(st, *ref.consumer, now, ref.consumer_created_s);
    if (!index) throw consumer_not_found(*ref.owner, *ref.consumer);
    return st.extra["consumers"][*index];
}

namespace {

void require_active_status(const stream& s, stream_status status) {
    if (status != stream_status::active)
        throw api_error("ResourceInUseException",
                        fmt::format("Stream {} under account {} not ACTIVE, instead in state {}",
                                    s.name, s.account, to_string(status)));
}

}  // namespace

void require_active(const stream& s, epoch_ms now) { require_active_status(s, s.status(now)); }

void require_active(const stream& s, const stream_settings& st, epoch_ms now) {
    require_active_status(s, status_after(st.status, st.status_until_ms, now));
}

void start_updating(stream_settings& st, epoch_ms now, std::int64_t delay_ms) {
    if (delay_ms <= 0) return;
    st.status = stream_status::updating;
    st.status_until_ms = now + delay_ms;
}

void update_active_settings(stream& s, epoch_ms now,
                            const std::function<void(stream_settings&)>& mutate) {
    update_settings(s, [&](stream_settings& st) {
        require_active(s, st, now);
        mutate(st);
    });
}

void update_settings(stream& s, const std::function<void(stream_settings&)>& mutate) {
    if (auto ec = s.update(mutate)) {
        logger()->error("cannot write metadata of {}: {}", s.name, ec.message());
        throw api_error::internal_failure();
    }
}

}  // namespace kinesd::api
