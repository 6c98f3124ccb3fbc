#include "kinesd/config/stream_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace kinesd {
namespace {

constexpr std::uint32_t max_shards = 100000;  // far above any shard limit; the registry enforces that

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool valid_name(std::string_view name) {
    return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '.' || c == '-';
    });
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

stream_spec parse_one(std::string_view entry) {
    std::string_view fields[3];
    std::size_t n = 0;
    std::string_view rest = entry;
    while (true) {
        auto colon = rest.find(':');
        if (n == 3) throw std::invalid_argument(fmt::format("'{}': expected name[:shards[:mode]]", entry));
        fields[n++] = trim(rest.substr(0, colon));
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    stream_spec spec;
    spec.name = std::string(fields[0]);
    if (!valid_name(spec.name))
        throw std::invalid_argument(fmt::format(
            "'{}': a stream name is 1 to 128 characters of a-z, A-Z, 0-9, '_', '.' and '-'", entry));
    if (n == 3 && !fields[2].empty()) {
        const auto mode = upper(fields[2]);
        if (mode == "ON_DEMAND") spec.on_demand = true;
        else if (mode != "PROVISIONED")
            throw std::invalid_argument(fmt::format("'{}': mode must be PROVISIONED or ON_DEMAND", entry));
    }
    spec.shards = spec.on_demand ? 4 : 1;
    if (n >= 2 && !fields[1].empty()) {
        std::uint32_t v = 0;
        auto [ptr, ec] = std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), v);
        if (ec != std::errc{} || ptr != fields[1].data() + fields[1].size() || v < 1 || v > max_shards)
            throw std::invalid_argument(
                fmt::format("'{}': the shard count must be a number from 1 to {}", entry, max_shards));
        spec.shards = v;
    }
    return spec;
}

}  // namespace

std::vector<stream_spec> parse_stream_specs(std::string_view text) {
    std::vector<stream_spec> out;
    if (trim(text).empty()) return out;
    while (true) {
        auto comma = text.find(',');
        auto entry = trim(text.substr(0, comma));
        if (entry.empty()) throw std::invalid_argument("empty entry (two commas in a row, or a trailing comma)");
        auto spec = parse_one(entry);
        if (std::any_of(out.begin(), out.end(), [&](const stream_spec& s) { return s.name == spec.name; }))
            throw std::invalid_argument(fmt::format("stream '{}' is listed twice", spec.name));
        out.push_back(std::move(spec));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

}  // namespace kinesd
