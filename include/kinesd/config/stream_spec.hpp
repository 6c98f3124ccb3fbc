#pragma once
// --create-streams: the streams kinesd creates at startup when they do not exist yet, so that a
// compose file or CI service needs no init container. Text form, comma-separated:
//   name[:shards[:mode]]     e.g. "orders:4,clicks:1:ON_DEMAND,audit"
// shards defaults to 1 (PROVISIONED) or 4 (ON_DEMAND, as CreateStream does); mode is PROVISIONED
// or ON_DEMAND (any case). Names follow CreateStream's rules (1-128 of [a-zA-Z0-9_.-]).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kinesd {

struct stream_spec {
    std::string name;
    std::uint32_t shards = 1;
    bool on_demand = false;
    friend bool operator==(const stream_spec&, const stream_spec&) = default;
};

// Throws std::invalid_argument with a one-line reason (the entry and what is wrong with it).
// An empty or all-blank text is an empty list. A name given twice is an error.
std::vector<stream_spec> parse_stream_specs(std::string_view text);

}  // namespace kinesd
