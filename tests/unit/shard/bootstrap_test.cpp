#include "kinesd/shard/bootstrap.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "kinesd/shard/stream_registry.hpp"

using namespace kinesd;
namespace fs = std::filesystem;

namespace {

struct bootstrap_test : ::testing::Test {
    bootstrap_test()
        : dir(fs::temp_directory_path() / ("kinesd_bootstrap_test_" + std::to_string(std::random_device{}()))) {}
    ~bootstrap_test() override { fs::remove_all(dir); }

    registry_options options() const {
        registry_options o;
        o.data_dir = dir;
        o.create_stream_ms = 60'000;  // bootstrap streams must not wait for it
        o.shard_limit = 10;
        return o;
    }

    fs::path dir;
    manual_clock clock;
};

}  // namespace

TEST_F(bootstrap_test, creates_absent_streams_active_and_is_idempotent_across_restarts) {
    const auto specs = parse_stream_specs("orders:4,clicks:1:ON_DEMAND");
    std::uint64_t orders_uid = 0;
    {
        stream_registry streams(options(), clock);
        auto report = bootstrap_streams(streams, "000000000000", "us-east-1", specs);
        EXPECT_EQ(report.created, (std::vector<std::string>{"orders", "clicks"}));
        EXPECT_TRUE(report.existing.empty());
        auto orders = streams.find({"000000000000", "us-east-1", "orders"});
        ASSERT_TRUE(orders);
        EXPECT_EQ(orders->status(clock.now_ms()), stream_status::active);
        EXPECT_EQ(orders->shards()->open.size(), 4u);
        auto clicks = streams.find({"000000000000", "us-east-1", "clicks"});
        ASSERT_TRUE(clicks);
        EXPECT_EQ(clicks->settings().mode, stream_mode::on_demand);
        EXPECT_EQ(clicks->shards()->open.size(), 1u);
        orders_uid = orders->uid;
    }
    // Restart on the same data dir, with a spec that now differs for orders: nothing recreated.
    clock.advance(1000);
    stream_registry streams(options(), clock);
    auto report = bootstrap_streams(streams, "000000000000", "us-east-1", parse_stream_specs("orders:2,clicks::ON_DEMAND,new"));
    EXPECT_EQ(report.created, (std::vector<std::string>{"new"}));
    EXPECT_EQ(report.existing, (std::vector<std::string>{"orders", "clicks"}));
    auto orders = streams.find({"000000000000", "us-east-1", "orders"});
    EXPECT_EQ(orders->uid, orders_uid);
    EXPECT_EQ(orders->shards()->open.size(), 4u);
    EXPECT_EQ(streams.stream_count(), 3u);
}

TEST_F(bootstrap_test, a_stream_that_cannot_be_created_is_named) {
    stream_registry streams(options(), clock);
    try {
        bootstrap_streams(streams, "000000000000", "us-east-1", parse_stream_specs("a:8,b:8"));
        FAIL() << "the shard limit (10) was not enforced";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("stream b"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("LimitExceededException"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(streams.find({"000000000000", "us-east-1", "a"}));
}
