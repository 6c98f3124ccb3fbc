// ON_DEMAND capacity growth judged with a manual clock. Demand is fed through the counters the
// data path keeps (shard_metrics and the throughput meter's refusal count), which is all the
// scaler reads; the e2e test drives it through real PutRecords.
#include "kinesd/shard/on_demand_scaling.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "kinesd/shard/stream_registry.hpp"
#include "support/api_test.hpp"

using namespace kinesd;
namespace fs = std::filesystem;

namespace {

constexpr epoch_ms minute = 60'000;

class on_demand_scaling_test : public ::testing::Test {
protected:
    on_demand_scaling_test() : streams_(options(dir_.path()), clock_) {}

    static registry_options options(const fs::path& dir) {
        registry_options o;
        o.data_dir = dir;
        o.shard_limit = 20;
        return o;
    }

    std::shared_ptr<stream> create(const std::string& name, std::uint32_t shards,
                                   stream_mode mode = stream_mode::on_demand) {
        auto r = test_support::make_request(name, shards);
        r.mode = mode;
        return streams_.create(r);
    }

    // Spreads `records` accepted records of `bytes` in all over the open shards' counters.
    static void accepted(const stream& s, std::uint64_t records, std::uint64_t bytes) {
        const auto table = s.shards();
        const auto n = table->open.size();
        for (auto* sh : table->open) sh->metrics().add_incoming(records / n, bytes / n);
    }
    static void throttled(const stream& s, std::uint64_t records) {
        const auto table = s.shards();
        table->open.front()->throughput().write_throttled.fetch_add(records);
    }
    static std::size_t open_shards(const stream& s) { return s.shards()->open.size(); }

    std::vector<scaling_event> evaluate() { return scaler_.evaluate(streams_, clock_.now_ms()); }

    test_support::temp_dir dir_{"kinesd-scaling-test"};
    manual_clock clock_;
    stream_registry streams_;
    on_demand_scaler scaler_{on_demand_scaling_policy{}};  // 1 MiB/s, 1000 records/s per shard
};

TEST_F(on_demand_scaling_test, a_busy_window_doubles_the_open_shards_and_the_stream_stays_active) {
    auto s = create("busy", 4);
    EXPECT_TRUE(evaluate().empty());  // first sight: the window starts now
    // 4 shards x 1 MiB/s x 60 s = 240 MiB of capacity; 200 MiB written is 83%.
    accepted(*s, 200 * 1024, 200ull << 20);
    clock_.advance(minute);
    const auto events = evaluate();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].stream_arn, s->arn);
    EXPECT_EQ(events[0].from_shards, 4u);
    EXPECT_EQ(events[0].to_shards, 8u);
    EXPECT_EQ(open_shards(*s), 8u);
    EXPECT_EQ(s->status(clock_.now_ms()), stream_status::active);
    // The parents are closed with an ending sequence number and their children name them, as
    // after UpdateShardCount: consumers follow the lineage.
    const auto st = s->settings();
    EXPECT_EQ(st.shards.size(), 12u);
    for (std::uint32_t i = 0; i < 4; ++i) EXPECT_TRUE(st.shards[i].ending_seq.has_value());
    for (std::uint32_t i = 4; i < 12; ++i) {
        EXPECT_FALSE(st.shards[i].ending_seq.has_value());
        EXPECT_TRUE(st.shards[i].parent.has_value());
    }
    // The lineage is durable: a restart sees the 8 open shards.
    stream_registry reopened(options(dir_.path()), clock_);
    EXPECT_EQ(reopened.all().front()->shards()->open.size(), 8u);
}

TEST_F(on_demand_scaling_test, demand_below_the_threshold_changes_nothing) {
    auto s = create("calm", 4);
    evaluate();
    accepted(*s, 4 * 1000 * 60 * 7 / 10, 100ull << 20);  // 70% of records, 42% of bytes
    clock_.advance(minute);
    EXPECT_TRUE(evaluate().empty());
    EXPECT_EQ(open_shards(*s), 4u);
}

TEST_F(on_demand_scaling_test, records_refused_for_throughput_count_as_demand) {
    auto s = create("throttled", 4);
    evaluate();
    accepted(*s, 4000, 4000);      // what the buckets let through
    throttled(*s, 4 * 1000 * 60);  // what producers wanted on top
    clock_.advance(minute);
    ASSERT_EQ(evaluate().size(), 1u);
    EXPECT_EQ(open_shards(*s), 8u);
}

TEST_F(on_demand_scaling_test, a_window_is_judged_only_once_it_has_lasted_its_length) {
    auto s = create("early", 4);
    evaluate();
    accepted(*s, 4 * 1000 * 60, 0);  // a full window's worth of records, in 30 s
    clock_.advance(minute / 2);
    EXPECT_TRUE(evaluate().empty());
    EXPECT_EQ(open_shards(*s), 4u);
    clock_.advance(minute / 2);
    EXPECT_EQ(evaluate().size(), 1u);  // judged over the whole minute: 100%
    EXPECT_EQ(open_shards(*s), 8u);
}

TEST_F(on_demand_scaling_test, after_scaling_a_new_window_is_measured_on_the_new_shards) {
    auto s = create("again", 4);
    evaluate();
    accepted(*s, 4 * 1000 * 60, 0);
    clock_.advance(minute);
    ASSERT_EQ(evaluate().size(), 1u);
    // The same demand on 8 shards is 50%: no second doubling.
    accepted(*s, 4 * 1000 * 60, 0);
    clock_.advance(minute);
    EXPECT_TRUE(evaluate().empty());
    EXPECT_EQ(open_shards(*s), 8u);
    accepted(*s, 8 * 1000 * 60, 0);
    clock_.advance(minute);
    ASSERT_EQ(evaluate().size(), 1u);
    EXPECT_EQ(open_shards(*s), 16u);
}

TEST_F(on_demand_scaling_test, provisioned_streams_are_never_scaled) {
    auto s = create("fixed", 2, stream_mode::provisioned);
    evaluate();
    accepted(*s, 2 * 1000 * 60, 0);
    throttled(*s, 1'000'000);
    clock_.advance(minute);
    EXPECT_TRUE(evaluate().empty());
    EXPECT_EQ(open_shards(*s), 2u);
}

TEST_F(on_demand_scaling_test, growth_stops_at_the_accounts_shard_limit) {
    create("neighbour", 10, stream_mode::provisioned);
    auto s = create("capped", 4);  // 14 of 20 shards used: room for 6 more of this stream's 4
    evaluate();
    accepted(*s, 4 * 1000 * 60, 0);
    clock_.advance(minute);
    const auto events = evaluate();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].to_shards, 8u);  // 8 open: 18 of 20
    accepted(*s, 8 * 1000 * 60, 0);
    clock_.advance(minute);
    ASSERT_EQ(evaluate().size(), 1u);
    EXPECT_EQ(open_shards(*s), 10u);  // 10 open: 20 of 20, not 16
    accepted(*s, 10 * 1000 * 60, 0);
    clock_.advance(minute);
    EXPECT_TRUE(evaluate().empty());
    EXPECT_EQ(open_shards(*s), 10u);
}

TEST_F(on_demand_scaling_test, a_clock_moved_back_restarts_the_window) {
    auto s = create("rewound", 4);
    evaluate();
    accepted(*s, 4 * 1000 * 60, 0);
    clock_.advance(-minute);
    EXPECT_TRUE(evaluate().empty());  // new window from here, counting from the current totals
    clock_.advance(minute);
    EXPECT_TRUE(evaluate().empty());
    EXPECT_EQ(open_shards(*s), 4u);
}

}  // namespace
