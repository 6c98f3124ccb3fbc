#include "kinesd/api/request.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "kinesd/api/error.hpp"
#include "kinesd/api/fast_path.hpp"
#include "kinesd/common/base64.hpp"
#include "kinesd/shard/sequence_number.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::api {

std::optional<std::string_view> string_member(const json& req, const char* name) {
    auto it = req.find(name);
    if (it == req.end() || !it->is_string()) return std::nullopt;
    const auto& s = it->get_ref<const std::string&>();
    return std::string_view(s);
}

std::optional<std::int64_t> int_member(const json& req, const char* name) {
    auto it = req.find(name);
    if (it == req.end() || !it->is_number()) return std::nullopt;
    // Coral floors fractions and clamps to the Java int range; validation accepted those.
    constexpr double lo = -2147483648.0, hi = 2147483647.0;
    if (it->is_number_float()) return static_cast<std::int64_t>(std::clamp(std::floor(it->get<double>()), lo, hi));
    if (it->is_number_unsigned())
        return static_cast<std::int64_t>(std::min<std::uint64_t>(it->get<std::uint64_t>(), 2147483647u));
    return std::clamp<std::int64_t>(it->get<std::int64_t>(), -2147483648LL, 2147483647LL);
}

std::optional<bool> bool_member(const json& req, const char* name) {
    auto it = req.find(name);
    if (it == req.end() || !it->is_boolean()) return std::nullopt;
    return it->get<bool>();
}

std::optional<epoch_ms> timestamp_member(const json& req, const char* name) {
    auto it = req.find(name);
    if (it == req.end() || it->is_null()) return std::nullopt;
    // Validation admits numbers only (epoch seconds, fractional allowed), as AWS does.
    if (it->is_number()) return static_cast<epoch_ms>(std::llround(it->get<double>() * 1000.0));
    return std::nullopt;
}

std::optional<kinesis_arn> parse_kinesis_arn(std::string_view arn) {
    std::string_view parts[5];  // arn, PARTITION, kinesis, REGION, ACCOUNT; the rest is RESOURCE
    std::string_view rest = arn;
    for (auto& part : parts) {
        auto colon = rest.find(':');
        if (colon == std::string_view::npos) return std::nullopt;
        part = rest.substr(0, colon);
        rest.remove_prefix(colon + 1);
    }
    if (parts[0] != "arn" || parts[1].substr(0, 3) != "aws" || parts[2] != "kinesis")
        return std::nullopt;
    return kinesis_arn{parts[3], parts[4], rest};
}

std::optional<stream_arn> parse_stream_arn(std::string_view arn) {
    // arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME
    auto parsed = parse_kinesis_arn(arn);
    if (!parsed) return std::nullopt;
    constexpr std::string_view prefix = "stream/";
    if (parsed->resource.substr(0, prefix.size()) != prefix) return std::nullopt;
    auto name = parsed->resource.substr(prefix.size());
    if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
    return stream_arn{parsed->region, parsed->account, name};
}

std::string requested_stream_name(const json& req) {
    if (auto name = string_member(req, "StreamName")) return std::string(*name);
    if (auto arn = string_member(req, "StreamARN"))
        if (auto parsed = parse_stream_arn(*arn)) return std::string(parsed->name);
    return {};
}

std::shared_ptr<stream> resolve_stream(context& ctx, const json& req) {
    return resolve_stream(ctx, stream_ref{string_member(req, "StreamName"), string_member(req, "StreamARN")});
}

std::shared_ptr<stream> resolve_stream(context& ctx, const stream_ref& ref) {
    auto name = ref.name;
    auto arn_text = ref.arn;
    std::string_view account = ctx.account, region = ctx.region;
    if (arn_text) {
        auto arn = parse_stream_arn(*arn_text);
        if (!arn)
            throw api_error::invalid_argument(fmt::format("Invalid StreamARN: {}", *arn_text));
        if (name && *name != arn->name)
            throw api_error::invalid_argument(fmt::format(
                "StreamName {} and StreamARN {} do not refer to the same stream.", *name, *arn_text));
        name = arn->name;
        account = arn->account;
        region = arn->region;
    }
    if (!name)
        throw api_error::invalid_argument("Either StreamName or StreamARN must be provided.");
    if (ctx.log_stream) ctx.log_stream->assign(*name);
    auto s = ctx.streams.find(stream_key{account, region, *name});
    if (!s) throw api_error::stream_not_found(*name, account);
    return s;
}

void append_epoch_seconds(std::string& out, epoch_ms ms) {
    if (ms < 0) {
        out += fmt::format("{}", static_cast<double>(ms) / 1000.0);
        return;
    }
    // By hand rather than fmt: GetRecords writes one per record, and fmt's format-string
    // parsing was a sixth of a 1 KiB record's cost.
    char buf[24];  // 19 digits of seconds, '.', 3 digits
    char* p = std::to_chars(buf, buf + 19, ms / 1000).ptr;
    const auto frac = static_cast<int>(ms % 1000);
    p[0] = '.';
    p[1] = static_cast<char>('0' + frac / 100);
    p[2] = static_cast<char>('0' + frac / 10 % 10);
    p[3] = static_cast<char>('0' + frac % 10);
    out.append(buf, p + 4);
}

json epoch_seconds(epoch_ms ms) {
    std::string text;
    append_epoch_seconds(text, ms);
    return json::parse(text);
}

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t run_start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + run_start, i - run_start);
        run_start = i + 1;
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                out += "\\u00";
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 15]);
        }
    }
    out.append(s.data() + run_start, s.size() - run_start);
    out.push_back('"');
}

void append_record_json(std::string& out, const storage::record_view& r) {
    out += R"({"SequenceNumber":")";
    out += to_decimal(r.seq);
    out += R"(","ApproximateArrivalTimestamp":)";
    append_epoch_seconds(out, r.arrival_ms);
    out += R"(,"Data":")";
    base64::encode_append(r.data, out);
    out += R"(","PartitionKey":)";
    append_json_string(out, r.partition_key);
    out += '}';
}

json shard_json(const shard_info& info) {
    json j;
    j["ShardId"] = info.id.str();
    if (info.parent) j["ParentShardId"] = info.parent->str();
    if (info.adjacent_parent) j["AdjacentParentShardId"] = info.adjacent_parent->str();
    j["HashKeyRange"] = {{"StartingHashKey", to_decimal(info.range.start)},
                         {"EndingHashKey", to_decimal(info.range.end)}};
    json range{{"StartingSequenceNumber", to_decimal(info.starting_seq)}};
    if (info.ending_seq) range["EndingSequenceNumber"] = to_decimal(*info.ending_seq);
    j["SequenceNumberRange"] = std::move(range);
    return j;
}

std::optional<epoch_ms> shard_closed_ms(const shard_info& info) {
    if (!info.ending_seq) return std::nullopt;
    return sequence_number{*info.ending_seq}.time_ms();
}

bool shard_listed(const shard_info& info, epoch_ms trim_horizon_ms) {
    auto closed = shard_closed_ms(info);
    return !closed || *closed >= trim_horizon_ms;
}

void append_child_shards(std::string& out, const shard_table& table, std::uint32_t parent) {
    out += R"(,"ChildShards":[)";
    bool first = true;
    for (const auto& c : table.infos) {
        const bool child = (c.parent && c.parent->index == parent) ||
                           (c.adjacent_parent && c.adjacent_parent->index == parent);
        if (!child) continue;
        if (!first) out.push_back(',');
        first = false;
        out += R"({"ShardId":")";
        out += c.id.str();
        out += R"(","ParentShards":[")";
        out += c.parent->str();
        if (c.adjacent_parent) {
            out += R"(",")";
            out += c.adjacent_parent->str();
        }
        out += R"("],"HashKeyRange":{"StartingHashKey":")";
        out += to_decimal(c.range.start);
        out += R"(","EndingHashKey":")";
        out += to_decimal(c.range.end);
        out += R"("}})";
    }
    out += ']';
}

}  // namespace kinesd::api
