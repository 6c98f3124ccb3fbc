// ListShards.
#include <fmt/format.h>

#include <charconv>

#include "kinesd/api/error.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/request.hpp"
#include "kinesd/common/base64.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::api::shards {
namespace {

constexpr std::int64_t next_token_lifetime_ms = 300'000;

// The position a ListShards NextToken carries. Opaque to clients (base64 text).
struct list_token {
    std::string account, region, name;
    std::uint64_t stream_uid = 0;
    std::uint32_t after_index = 0;
    epoch_ms issued_ms = 0;
};

std::string encode_token(const list_token& t) {
    return base64::encode(fmt::format("lt1:{}:{}:{}:{:x}:{}:{}", t.account, t.region, t.name,
                                      t.stream_uid, t.after_index, t.issued_ms));
}

std::optional<list_token> decode_token(std::string_view text) {
    auto raw = base64::decode(text);
    if (!raw) return std::nullopt;
    std::vector<std::string_view> parts;
    std::string_view rest = *raw;
    while (true) {
        auto colon = rest.find(':');
        parts.push_back(rest.substr(0, colon));
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    if (parts.size() != 7 || parts[0] != "lt1") return std::nullopt;
    list_token t{std::string(parts[1]), std::string(parts[2]), std::string(parts[3])};
    auto num = [](std::string_view s, auto& out, int base = 10) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
        return ec == std::errc{} && p == s.data() + s.size();
    };
    if (!num(parts[4], t.stream_uid, 16) || !num(parts[5], t.after_index) || !num(parts[6], t.issued_ms))
        return std::nullopt;
    return t;
}

}  // namespace

std::string list_shards(context& ctx, const json& req) {
    const epoch_ms now = ctx.time.now_ms();
    const auto max_results = static_cast<std::size_t>(int_member(req, "MaxResults").value_or(1000));
    std::shared_ptr<stream> s;
    std::optional<std::uint32_t> after;
    if (auto token_text = string_member(req, "NextToken")) {
        if (string_member(req, "StreamName") || string_member(req, "StreamARN"))
            throw api_error::invalid_argument(
                "NextToken and StreamName cannot be provided together.");
        if (string_member(req, "ExclusiveStartShardId"))
            throw api_error::invalid_argument(
                "NextToken and ExclusiveStartShardId cannot be provided together.");
        auto token = decode_token(*token_text);
        if (!token) throw api_error::invalid_argument(fmt::format("Invalid NextToken: {}", *token_text));
        if (now - token->issued_ms > next_token_lifetime_ms)
            throw api_error("ExpiredNextTokenException",
                            fmt::format("The nextToken has expired: {}", *token_text));
        s = ctx.streams.find(stream_key{token->account, token->region, token->name});
        if (!s || s->uid != token->stream_uid) throw api_error::stream_not_found(token->name, token->account);
        after = token->after_index;
    } else {
        if (!string_member(req, "StreamName") && !string_member(req, "StreamARN"))
            throw api_error::invalid_argument("Either NextToken or StreamName should be provided.");
        s = resolve_stream(ctx, req);
        if (auto start = string_member(req, "ExclusiveStartShardId"))
            if (auto id = shard_id::parse(*start)) after = id->index;
    }
    std::optional<epoch_ms> filter_time;
    std::string filter_type;
    if (auto filter = req.find("ShardFilter"); filter != req.end() && filter->is_object()) {
        filter_type = filter->value("Type", "");
        if (filter_type == "AFTER_SHARD_ID") {
            auto id_text = string_member(*filter, "ShardId");
            if (!id_text)
                throw api_error::invalid_argument(
                    "ShardId must be provided when the ShardFilter type is AFTER_SHARD_ID.");
            if (auto id = shard_id::parse(*id_text)) after = id->index;
        } else if (filter_type == "AT_TIMESTAMP" || filter_type == "FROM_TIMESTAMP") {
            filter_time = timestamp_member(*filter, "Timestamp");
            if (!filter_time)
                throw api_error::invalid_argument(fmt::format(
                    "Timestamp must be provided when the ShardFilter type is {}.", filter_type));
        }
    }
    const auto st = s->settings();
    const epoch_ms trim_horizon = s->retention_cutoff_ms(now);  // the reads' cutoff
    // Whether a shard was open at time t. The shards a stream was created with count as open
    // from the beginning of time, so a timestamp before the stream existed finds them.
    auto open_at = [](const shard_info& info, epoch_ms t) {
        const bool started = !info.parent || info.created_ms <= t;
        const auto closed = shard_closed_ms(info);
        return started && (!closed || *closed >= t);
    };
    auto selected = [&](const shard_info& info) {
        if (filter_type == "AT_LATEST") return !info.ending_seq;
        if (filter_type == "AT_TRIM_HORIZON") return open_at(info, trim_horizon);
        if (filter_type == "AT_TIMESTAMP") return open_at(info, *filter_time);
        if (filter_type == "FROM_TIMESTAMP")
            return shard_listed(info, std::max(*filter_time, trim_horizon));
        // FROM_TRIM_HORIZON, the default, and AFTER_SHARD_ID: every shard within retention.
        return shard_listed(info, trim_horizon);
    };
    json shards = json::array();
    bool more = false;
    std::uint32_t last_index = 0;
    for (const auto& info : st.shards) {
        if (after && info.id.index <= *after) continue;
        if (!selected(info)) continue;
        if (shards.size() == max_results) {
            more = true;
            break;
        }
        shards.push_back(shard_json(info));
        last_index = info.id.index;
    }
    json out{{"Shards", std::move(shards)}};
    if (more)
        out["NextToken"] = encode_token({s->account, s->region, s->name, s->uid, last_index, now});
    return out.dump();
}

}  // namespace kinesd::api::shards
