// IncreaseStreamRetentionPeriod, DecreaseStreamRetentionPeriod.
// Bounds and messages as AWS: 24 to 8760 hours, InvalidArgumentException outside them or in the
// wrong direction. A decrease hides older records at once (reads use the stream's cutoff); an
// increase does not bring back records that had already expired (docs/retention.md).
#include <fmt/format.h>

#include <algorithm>

#include "kinesd/api/error.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/request.hpp"
#include "kinesd/api/resources.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::api::retention {
namespace {

constexpr std::int64_t min_retention_hours = 24;
constexpr std::int64_t max_retention_hours = 8760;  // 365 days
constexpr epoch_ms hour_ms = 3'600'000;

enum class direction { increase, decrease };

std::string change_retention(context& ctx, const json& req, direction dir) {
    auto s = resolve_stream(ctx, req);
    const std::int64_t hours = *int_member(req, "RetentionPeriodHours");
    if (hours < min_retention_hours)
        throw api_error::invalid_argument(fmt::format(
            "Minimum allowed retention period is {} hours. Requested retention period ({} hours) "
            "is too short.",
            min_retention_hours, hours));
    if (hours > max_retention_hours)
        throw api_error::invalid_argument(fmt::format(
            "Maximum allowed retention period is {} hours. Requested retention period ({} hours) "
            "is too long.",
            max_retention_hours, hours));
    const epoch_ms now = ctx.time.now_ms();
    const std::int64_t update_ms = ctx.streams.options().update_stream_ms;
    // The check and the change happen under the stream's metadata lock: two concurrent calls
    // cannot both pass the check against the same old value.
    update_active_settings(*s, now, [&](stream_settings& st) {
        const int current = st.retention_hours;
        if (dir == direction::increase && hours < current)
            throw api_error::invalid_argument(fmt::format(
                "Requested retention period ({} hours) for stream {} can not be shorter than "
                "existing retention period ({} hours). Use DecreaseRetentionPeriod API.",
                hours, s->name, current));
        if (dir == direction::decrease && hours > current)
            throw api_error::invalid_argument(fmt::format(
                "Requested retention period ({} hours) for stream {} can not be longer than "
                "existing retention period ({} hours). Use IncreaseRetentionPeriod API.",
                hours, s->name, current));
        if (hours > current) {
            // What expired under the current period stays expired.
            const epoch_ms floor = std::max(st.extra.value("retention_floor_ms", epoch_ms{0}),
                                            now - static_cast<epoch_ms>(current) * hour_ms);
            st.extra["retention_floor_ms"] = floor;
        }
        st.retention_hours = static_cast<int>(hours);
        start_updating(st, now, update_ms);
    });
    return {};  // AWS answers 200 with an empty body
}

}  // namespace

std::string increase_stream_retention_period(context& ctx, const json& req) {
    return change_retention(ctx, req, direction::increase);
}

std::string decrease_stream_retention_period(context& ctx, const json& req) {
    return change_retention(ctx, req, direction::decrease);
}

}  // namespace kinesd::api::retention
