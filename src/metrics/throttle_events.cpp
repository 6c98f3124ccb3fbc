#include "kinesd/metrics/throttle_events.hpp"

#include "kinesd/common/logging.hpp"

namespace kinesd::metrics {
namespace {

// By reference: called on every request (or throttle), no shared_ptr count traffic.
const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = module_logger("throttle");
    return l;
}

}  // namespace

void warn_write_throttled(shard_metrics& m, std::string_view stream, std::string_view shard, epoch_ms now) {
    if (logger()->should_log(spdlog::level::warn) && m.claim_warning(now))
        logger()->warn("write throughput exceeded on stream {} {}: records refused with "
                       "ProvisionedThroughputExceededException (at most one warning per second per shard)",
                       stream, shard);
}

void warn_read_throttled(shard_metrics& m, std::string_view stream, std::string_view shard, epoch_ms now) {
    if (logger()->should_log(spdlog::level::warn) && m.claim_warning(now))
        logger()->warn("read throughput exceeded on stream {} {}: GetRecords refused with "
                       "ProvisionedThroughputExceededException (at most one warning per second per shard)",
                       stream, shard);
}

}  // namespace kinesd::metrics
