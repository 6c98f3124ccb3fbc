#pragma once
// Creates the streams of --create-streams at startup. Idempotent: a stream that already exists
// (from an earlier run on the same data dir) is left exactly as it is, records included, even if
// its shard count or mode now differ from the spec (that is logged as a warning): resharding a
// stream with data behind the user's back would be worse than a stale spec.
#include <string>
#include <string_view>
#include <vector>

#include "kinesd/config/stream_spec.hpp"

namespace kinesd {

class stream_registry;

struct bootstrap_report {
    std::vector<std::string> created;  // names, in spec order
    std::vector<std::string> existing;
};

// Creates each absent stream in (account, region), ACTIVE at once (no CREATING delay), so it is
// usable as soon as the server reports ready. Throws std::runtime_error naming the stream when
// one cannot be created (shard limit, disk); streams created before it stay.
bootstrap_report bootstrap_streams(stream_registry& streams, std::string_view account,
                                   std::string_view region, const std::vector<stream_spec>& specs);

}  // namespace kinesd
