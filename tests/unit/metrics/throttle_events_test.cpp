#include "kinesd/metrics/throttle_events.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <algorithm>

#include "kinesd/common/logging.hpp"

using namespace kinesd;

namespace {

// Captures what the "throttle" logger writes during one test.
class captured_log {
public:
    captured_log()
        : logger_(module_logger("throttle")), sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64)) {
        saved_level_ = logger_->level();
        logger_->set_level(spdlog::level::info);
        logger_->sinks().push_back(sink_);
    }
    ~captured_log() {
        auto& sinks = logger_->sinks();
        sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
        logger_->set_level(saved_level_);
    }
    std::vector<std::string> lines() { return sink_->last_formatted(); }

private:
    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
    spdlog::level::level_enum saved_level_;
};

}  // namespace

TEST(throttle_events, warned_at_most_once_per_second_per_shard) {
    captured_log log;
    metrics::shard_metrics a, b;
    const epoch_ms t0 = 1'700'000'000'000;
    for (int i = 0; i < 100; ++i) metrics::warn_write_throttled(a, "orders", "shardId-000000000000", t0 + i);
    metrics::warn_read_throttled(b, "orders", "shardId-000000000001", t0 + 50);  // another shard
    metrics::warn_read_throttled(a, "orders", "shardId-000000000000", t0 + 999);  // same second
    metrics::warn_read_throttled(a, "orders", "shardId-000000000000", t0 + 1000);
    auto lines = log.lines();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_NE(lines[0].find("write throughput exceeded on stream orders shardId-000000000000"), std::string::npos);
    EXPECT_NE(lines[1].find("read throughput exceeded on stream orders shardId-000000000001"), std::string::npos);
    EXPECT_NE(lines[2].find("read throughput exceeded on stream orders shardId-000000000000"), std::string::npos);
}
