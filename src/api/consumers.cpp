// RegisterStreamConsumer, DescribeStreamConsumer, ListStreamConsumers, DeregisterStreamConsumer:
// the registry of enhanced fan-out consumers (SubscribeToShard's streaming is separate).
// A consumer is CREATING for --create-stream-ms, then ACTIVE; deregistered, it is DELETING for
// --delete-stream-ms, then gone. Consumers are kept with the stream (see resources.hpp).
#include <fmt/format.h>

#include <algorithm>

#include "kinesd/api/error.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/request.hpp"
#include "kinesd/api/resources.hpp"
#include "kinesd/common/base64.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::api {
namespace {

constexpr std::size_t max_consumers_per_stream = 20;
constexpr std::size_t max_consumers_creating = 5;

// The consumer a request names: by ConsumerARN, or by StreamARN and ConsumerName.
resource_ref requested_consumer(context& ctx, const json& req) {
    if (auto arn = string_member(req, "ConsumerARN")) return resolve_consumer_arn(ctx, *arn);
    auto stream_arn = string_member(req, "StreamARN");
    auto name = string_member(req, "ConsumerName");
    if (!stream_arn || !name)
        throw api_error::invalid_argument(
            "Either ConsumerARN or both ConsumerName and StreamARN must be provided.");
    auto s = resolve_stream(ctx, req);
    const auto st = s->settings();
    auto index = find_consumer(st, *name, ctx.time.now_ms());
    if (!index) throw consumer_not_found(*s, *name);
    const auto created_ms = st.extra["consumers"][*index].value("created_ms", epoch_ms{0});
    return {s, std::string(*name), created_ms / 1000, make_consumer_arn(*s, *name, created_ms)};
}

}  // namespace

namespace consumers {

std::string register_stream_consumer(context& ctx, const json& req) {
    auto s = resolve_stream(ctx, req);
    const auto name = std::string(*string_member(req, "ConsumerName"));
    const epoch_ms now = ctx.time.now_ms();
    if (!s->writable(now))
        require_active(*s, now);  // CREATING or DELETING streams take no consumers
    json tags = json::object();
    if (auto it = req.find("Tags"); it != req.end() && it->is_object()) {
        const auto what = fmt::format("consumer {}", name);
        check_tag_characters(*it, "add tags to", what, s->account);
        merge_tags(tags, *it, "add tags to", what, s->account);
    }
    json entry{{"name", name},
               {"created_ms", now},
               {"status", "CREATING"},
               {"status_until_ms", now + ctx.streams.options().create_stream_ms},
               {"tags", std::move(tags)}};
    update_settings(*s, [&](stream_settings& st) {
        purge_gone_consumers(st, now);
        if (find_consumer(st, name, now))
            throw api_error(
                "ResourceInUseException",
                fmt::format("Consumer {} under stream {} under account {} already exists.", name,
                            s->name, s->account));
        json& list = st.extra["consumers"];
        if (!list.is_array()) list = json::array();
        if (list.size() >= max_consumers_per_stream)
            throw api_error(
                "LimitExceededException",
                fmt::format("Stream {} under account {} already has {} registered consumers, "
                            "the most a stream can have.",
                            s->name, s->account, max_consumers_per_stream));
        const auto creating = std::count_if(list.begin(), list.end(), [&](const json& c) {
            return consumer_status(c, now) == consumer_state::creating;
        });
        if (static_cast<std::size_t>(creating) >= max_consumers_creating)
            throw api_error(
                "LimitExceededException",
                fmt::format("Stream {} under account {} already has {} consumers in CREATING "
                            "status; try again when one is ACTIVE.",
                            s->name, s->account, max_consumers_creating));
        list.push_back(entry);
    });
    // AWS always answers CREATING: registration completes asynchronously.
    json consumer = consumer_json(*s, entry, now, false);
    consumer["ConsumerStatus"] = "CREATING";
    return json{{"Consumer", std::move(consumer)}}.dump();
}

std::string describe_stream_consumer(context& ctx, const json& req) {
    auto ref = requested_consumer(ctx, req);
    const epoch_ms now = ctx.time.now_ms();
    auto st = ref.owner->settings();
    const json& entry = consumer_entry(st, ref, now);
    return json{{"ConsumerDescription", consumer_json(*ref.owner, entry, now, true)}}.dump();
}

std::string list_stream_consumers(context& ctx, const json& req) {
    auto s = resolve_stream(ctx, req);
    const epoch_ms now = ctx.time.now_ms();
    const auto limit = static_cast<std::size_t>(int_member(req, "MaxResults").value_or(100));
    // Pages continue after (creation time, name) of the last consumer returned, so a consumer
    // deregistered between pages shifts nothing.
    std::optional<std::pair<epoch_ms, std::string>> after;
    if (auto token = string_member(req, "NextToken")) {
        auto decoded = base64::decode(*token);
        std::size_t colon = decoded ? decoded->find(':', 4) : std::string::npos;
        if (!decoded || decoded->rfind("lc1:", 0) != 0 || colon == std::string::npos)
            throw api_error::invalid_argument(fmt::format("Invalid NextToken: {}", *token));
        try {
            after.emplace(std::stoll(decoded->substr(4, colon - 4)), decoded->substr(colon + 1));
        } catch (const std::exception&) {
            throw api_error::invalid_argument(fmt::format("Invalid NextToken: {}", *token));
        }
    }
    const auto st = s->settings();
    std::vector<const json*> live;
    if (auto it = st.extra.find("consumers"); it != st.extra.end() && it->is_array())
        for (const auto& c : *it)
            if (consumer_status(c, now) != consumer_state::gone) live.push_back(&c);
    auto key = [](const json* c) {
        return std::pair{c->value("created_ms", epoch_ms{0}), c->value("name", std::string())};
    };
    std::sort(live.begin(), live.end(),
              [&](const json* a, const json* b) { return key(a) < key(b); });
    json list = json::array();
    std::optional<std::pair<epoch_ms, std::string>> last;
    bool more = false;
    for (const json* c : live) {
        if (after && key(c) <= *after) continue;
        if (list.size() == limit) {
            more = true;
            break;
        }
        list.push_back(consumer_json(*s, *c, now, false));
        last = key(c);
    }
    json out{{"Consumers", std::move(list)}};
    if (more)
        out["NextToken"] = base64::encode(fmt::format("lc1:{}:{}", last->first, last->second));
    return out.dump();
}

std::string deregister_stream_consumer(context& ctx, const json& req) {
    auto ref = requested_consumer(ctx, req);
    const epoch_ms now = ctx.time.now_ms();
    const auto delay = ctx.streams.options().delete_stream_ms;
    update_settings(*ref.owner, [&](stream_settings& st) {
        json& entry = consumer_entry(st, ref, now);
        if (consumer_status(entry, now) == consumer_state::deleting) throw consumer_not_active(ref);
        entry["status"] = "DELETING";
        entry["status_until_ms"] = now + delay;
        purge_gone_consumers(st, now);  // with no delay the consumer is gone at once
    });
    return {};
}

}  // namespace consumers
}  // namespace kinesd::api
