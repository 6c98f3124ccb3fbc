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
    json shards = json::array();
    bool more = false;
    std::uint32_t last_index = 0;
    for (const auto& info : st.shards) {
        if (after && info.id.index <= *after) continue;
        // AT_LATEST lists only open shards; the other filters matter once shards close
        // (resharding), where their full meaning is applied.
        if (filter_type == "AT_LATEST" && info.ending_seq) continue;
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
