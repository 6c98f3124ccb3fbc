#pragma once
// Shard ids: "shardId-" followed by a 12-digit zero-padded index.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kinesd {

struct shard_id {
    std::uint32_t index = 0;

    std::string str() const;  // "shardId-000000000007"
    void append_to(std::string& out) const;  // appends str(), with no temporary string

    // Accepts the forms AWS accepts: "shardId-000000000001", "shardId-1", "1", and any
    // "<prefix>-<digits>" (the digits after the last '-'). nullopt when no index can be read
    // (no trailing digits, or an index above 2^31-1, the largest AWS accepts).
    static std::optional<shard_id> parse(std::string_view text);

    friend auto operator<=>(const shard_id&, const shard_id&) = default;
};

}  // namespace kinesd
