#pragma once
// When a shard log fsyncs (--fsync; docs/durability.md says what each policy survives).
#include <optional>
#include <string_view>

namespace kinesd::storage {

enum class fsync_policy {
    never,     // only at a graceful shutdown (and when the OS writes back dirty pages)
    interval,  // a syncer calls sync() every --fsync-interval-ms; appends never wait
    always,    // commit() waits for an fsync covering the append (group commit)
};

// The --fsync spelling: "never", "interval", "always".
constexpr std::string_view to_string(fsync_policy p) {
    switch (p) {
        case fsync_policy::never: return "never";
        case fsync_policy::always: return "always";
        case fsync_policy::interval: break;
    }
    return "interval";
}

// The policy a --fsync value names; nullopt for anything else.
constexpr std::optional<fsync_policy> parse_fsync_policy(std::string_view s) {
    for (auto p : {fsync_policy::never, fsync_policy::interval, fsync_policy::always})
        if (s == to_string(p)) return p;
    return std::nullopt;
}

}  // namespace kinesd::storage
