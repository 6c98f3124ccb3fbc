// IncreaseStreamRetentionPeriod / DecreaseStreamRetentionPeriod: bounds, directions, AWS's
// messages, and what Describe* report.
#include <gtest/gtest.h>


#include "kinesd/api/dispatch.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/shard/stream_registry.hpp"
#include "support/api_test.hpp"

using namespace kinesd;
using json = nlohmann::json;

namespace {

class retention_api_test : public test_support::api_test {
protected:
    retention_api_test() : api_test("retention_api_test", updating_for_a_second()) {
        call("CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}});
    }

    static registry_options updating_for_a_second() {
        registry_options o;
        o.update_stream_ms = 1000;
        return o;
    }

    // "Type: message" of the error a call throws, "none" when it succeeds.
    std::string error_text(std::string_view op, const json& body) {
        const auto e = error_of(op, body);
        return e.type == "none" ? "none" : e.type + ": " + e.what();
    }

    json change(const char* op, int hours) {
        return call(op, {{"StreamName", "s"}, {"RetentionPeriodHours", hours}});
    }

    int described_hours() {
        const int full = call("DescribeStream", {{"StreamName", "s"}})["StreamDescription"]["RetentionPeriodHours"];
        const int summary = call("DescribeStreamSummary", {{"StreamName", "s"}})["StreamDescriptionSummary"]["RetentionPeriodHours"];
        EXPECT_EQ(full, summary);
        return full;
    }
};

}  // namespace

TEST_F(retention_api_test, increase_and_decrease_change_the_described_period) {
    EXPECT_EQ(described_hours(), 24);
    EXPECT_EQ(change("IncreaseStreamRetentionPeriod", 8760), json::object());
    clock_.advance(1000);  // UPDATING for update_stream_ms
    EXPECT_EQ(described_hours(), 8760);
    EXPECT_EQ(change("DecreaseStreamRetentionPeriod", 48), json::object());
    clock_.advance(1000);
    EXPECT_EQ(described_hours(), 48);
    // The same value is neither shorter nor longer: both accept it.
    change("IncreaseStreamRetentionPeriod", 48);
    clock_.advance(1000);
    change("DecreaseStreamRetentionPeriod", 48);
    clock_.advance(1000);
    EXPECT_EQ(described_hours(), 48);
    // By ARN too.
    call("IncreaseStreamRetentionPeriod",
         {{"StreamARN", "arn:aws:kinesis:us-east-1:000000000000:stream/s"}, {"RetentionPeriodHours", 100}});
    clock_.advance(1000);
    EXPECT_EQ(described_hours(), 100);
}

TEST_F(retention_api_test, the_period_survives_a_restart) {
    change("IncreaseStreamRetentionPeriod", 168);
    registry_options o = updating_for_a_second();
    o.data_dir = dir_.path();
    stream_registry reopened(o, clock_);
    auto s = reopened.find(stream_key{cfg_.account_id, cfg_.region, "s"});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->retention_hours(), 168);
}

TEST_F(retention_api_test, out_of_range_periods_are_invalid_arguments) {
    for (const char* op : {"IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod"}) {
        EXPECT_EQ(error_text(op, {{"StreamName", "s"}, {"RetentionPeriodHours", 23}}),
                  "InvalidArgumentException: Minimum allowed retention period is 24 hours. Requested "
                  "retention period (23 hours) is too short.");
        EXPECT_EQ(error_text(op, {{"StreamName", "s"}, {"RetentionPeriodHours", -5}}),
                  "InvalidArgumentException: Minimum allowed retention period is 24 hours. Requested "
                  "retention period (-5 hours) is too short.");
        EXPECT_EQ(error_text(op, {{"StreamName", "s"}, {"RetentionPeriodHours", 8761}}),
                  "InvalidArgumentException: Maximum allowed retention period is 8760 hours. "
                  "Requested retention period (8761 hours) is too long.");
    }
    EXPECT_EQ(described_hours(), 24);
}

TEST_F(retention_api_test, the_wrong_direction_is_an_invalid_argument) {
    change("IncreaseStreamRetentionPeriod", 48);
    clock_.advance(1000);
    EXPECT_EQ(error_text("IncreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 24}}),
              "InvalidArgumentException: Requested retention period (24 hours) for stream s can not be "
              "shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API.");
    EXPECT_EQ(error_text("DecreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 72}}),
              "InvalidArgumentException: Requested retention period (72 hours) for stream s can not be "
              "longer than existing retention period (48 hours). Use IncreaseRetentionPeriod API.");
    EXPECT_EQ(described_hours(), 48);
}

TEST_F(retention_api_test, missing_streams_and_members_and_busy_streams) {
    EXPECT_EQ(error_text("IncreaseStreamRetentionPeriod", {{"StreamName", "nope"}, {"RetentionPeriodHours", 48}}),
              "ResourceNotFoundException: Stream nope under account 000000000000 not found.");
    EXPECT_EQ(error_text("IncreaseStreamRetentionPeriod", {{"StreamName", "s"}}).rfind("ValidationException", 0), 0u);
    EXPECT_EQ(error_text("IncreaseStreamRetentionPeriod", {{"RetentionPeriodHours", 48}}).rfind("InvalidArgumentException", 0), 0u);
    // A change puts the stream in UPDATING for update_stream_ms; another change waits for ACTIVE.
    change("IncreaseStreamRetentionPeriod", 48);
    EXPECT_EQ(call("DescribeStreamSummary", {{"StreamName", "s"}})["StreamDescriptionSummary"]["StreamStatus"], "UPDATING");
    EXPECT_EQ(error_text("IncreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 72}}),
              "ResourceInUseException: Stream s under account 000000000000 not ACTIVE, instead in state UPDATING");
    clock_.advance(1000);
    EXPECT_EQ(error_text("IncreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 72}}), "none");
}

// A closed shard whose records all expired stays out of the listings after a retention increase
// (records that expired stay expired), before the reaper has dropped it as after.
TEST_F(retention_api_test, an_increase_does_not_bring_back_an_expired_closed_shard) {
    call("SplitShard", {{"StreamName", "s"},
                        {"ShardToSplit", "shardId-000000000000"},
                        {"NewStartingHashKey", "170141183460469231731687303715884105728"}});
    clock_.advance(30 * 3'600'000);  // past 24 hours: the closed parent expired
    auto listed = [&] {
        const auto shards = call("ListShards", {{"StreamName", "s"}})["Shards"].size();
        const auto described =
            call("DescribeStream", {{"StreamName", "s"}})["StreamDescription"]["Shards"].size();
        EXPECT_EQ(shards, described);
        return shards;
    };
    EXPECT_EQ(listed(), 2u);
    change("IncreaseStreamRetentionPeriod", 48);
    EXPECT_EQ(listed(), 2u);
}
