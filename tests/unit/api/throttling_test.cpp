// Throttling as a client sees it, through dispatch with a manual clock: the per-shard buckets
// (--throttle), injected faults and the control-plane limits (--control-plane-limits).
#include "kinesd/api/throttling.hpp"

#include <gtest/gtest.h>


#include "kinesd/api/dispatch.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/api/faults.hpp"
#include "kinesd/common/base64.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/shard/stream_registry.hpp"
#include "support/api_test.hpp"

using namespace kinesd;
using json = nlohmann::json;

namespace {

constexpr const char* throttled = "ProvisionedThroughputExceededException";
constexpr std::size_t mib = 1 << 20;

std::string b64(std::size_t bytes, char fill = 'x') {
    std::string raw(bytes, fill);
    std::string out;
    base64::encode_append(std::as_bytes(std::span(raw.data(), raw.size())), out);
    return out;
}

class throttling_test : public test_support::api_test {
protected:
    throttling_test() : api_test("throttling_test") {
        api::faults().clear();
        call("CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}});
    }
    ~throttling_test() override { api::faults().clear(); }

    // The error of a call that must fail.
    api_error failure(std::string_view op, const json& body) {
        auto e = error_of(op, body);
        if (e.type == "none") ADD_FAILURE() << op << " succeeded";
        return e;
    }

    json put(std::size_t data_bytes = 1) {
        return call("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", b64(data_bytes)}});
    }

    json put_records(std::size_t count, std::size_t data_bytes) {
        json records = json::array();
        for (std::size_t i = 0; i < count; ++i)
            records.push_back({{"PartitionKey", "k"}, {"Data", b64(data_bytes, static_cast<char>('a' + i % 26))}});
        return call("PutRecords", {{"StreamName", "s"}, {"Records", records}});
    }

    std::string iterator() {
        return call("GetShardIterator", {{"StreamName", "s"},
                                         {"ShardId", "shardId-000000000000"},
                                         {"ShardIteratorType", "TRIM_HORIZON"}})["ShardIterator"];
    }

    const throttle::shard_throughput& meter() {
        return streams_.find({cfg_.account_id, cfg_.region, "s"})->shards()->find(0)->throughput();
    }
};

}  // namespace

TEST_F(throttling_test, put_record_over_1000_records_per_second_is_throttled_with_aws_message) {
    for (int i = 0; i < 1000; ++i) ASSERT_NO_THROW(put()) << i;
    auto e = failure("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "YQ=="}});
    EXPECT_EQ(e.type, throttled);
    EXPECT_STREQ(e.what(), "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000.");
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(meter().write_throttled.load(), 1u);
    clock_.advance(1);  // one record's worth refills
    EXPECT_NO_THROW(put());
}

TEST_F(throttling_test, put_record_bytes_count_data_plus_partition_key) {
    // 1 MiB per second: a record of 1 MiB minus its key fills the bucket exactly.
    EXPECT_NO_THROW(put(mib - 1));
    EXPECT_EQ(failure("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", ""}}).type, throttled);
    clock_.advance(500);
    EXPECT_NO_THROW(put(mib / 2 - 1));
    EXPECT_EQ(failure("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "YQ=="}}).type, throttled);
}

TEST_F(throttling_test, put_records_writes_what_fits_and_fails_the_rest_per_entry_in_order) {
    // 500 records of 3000 bytes + 1 key byte: 349 fit in 1 MiB, the other 151 are throttled.
    auto out = put_records(500, 3000);
    EXPECT_EQ(out["FailedRecordCount"], 151);
    const auto& entries = out["Records"];
    ASSERT_EQ(entries.size(), 500u);
    for (std::size_t i = 0; i < 500; ++i) {
        if (i < 349) {
            EXPECT_TRUE(entries[i].contains("SequenceNumber")) << i;
            EXPECT_FALSE(entries[i].contains("ErrorCode")) << i;
        } else {
            EXPECT_EQ(entries[i]["ErrorCode"], throttled) << i;
            EXPECT_EQ(entries[i]["ErrorMessage"],
                      "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000.");
            EXPECT_FALSE(entries[i].contains("SequenceNumber")) << i;
        }
    }
    EXPECT_EQ(meter().write_throttled.load(), 151u);
    // What was written is the first 349 records, in order.
    clock_.advance(1000);
    auto records = call("GetRecords", {{"ShardIterator", iterator()}})["Records"];
    ASSERT_EQ(records.size(), 349u);
    for (std::size_t i = 0; i < 349; ++i) EXPECT_EQ(records[i]["SequenceNumber"], entries[i]["SequenceNumber"]);
}

TEST_F(throttling_test, put_records_over_1000_records_per_second_across_calls) {
    EXPECT_EQ(put_records(500, 1)["FailedRecordCount"], 0);
    EXPECT_EQ(put_records(500, 1)["FailedRecordCount"], 0);
    EXPECT_EQ(put_records(500, 1)["FailedRecordCount"], 500);
    clock_.advance(250);
    EXPECT_EQ(put_records(500, 1)["FailedRecordCount"], 250);
}

TEST_F(throttling_test, the_sixth_get_records_in_a_second_is_throttled) {
    put();
    const auto it = iterator();
    for (int i = 0; i < 5; ++i) {
        EXPECT_NO_THROW(call("GetRecords", {{"ShardIterator", it}})) << i;
        clock_.advance(10);
    }
    auto e = failure("GetRecords", {{"ShardIterator", it}});
    EXPECT_EQ(e.type, throttled);
    EXPECT_STREQ(e.what(), "Rate exceeded for Shard - 000000000000/s/shardId-000000000000");
    EXPECT_EQ(meter().read_throttled.load(), 1u);
    clock_.advance(150);  // 200 ms after the first call: one call's worth has refilled
    EXPECT_NO_THROW(call("GetRecords", {{"ShardIterator", it}}));
}

TEST_F(throttling_test, a_10_mib_get_records_refuses_reads_until_its_debt_is_repaid) {
    // Ten records of 1 MiB, one per second so that writing them is not throttled.
    for (int i = 0; i < 10; ++i) {
        ASSERT_NO_THROW(put(mib - 1)) << i;
        clock_.advance(1000);
    }
    auto page = call("GetRecords", {{"ShardIterator", iterator()}});
    ASSERT_EQ(page["Records"].size(), 10u);
    // 10 MiB against a 2 MiB budget: 8 MiB of debt, repaid at 2 MiB/s in 4 seconds.
    clock_.advance(1000);
    EXPECT_EQ(failure("GetRecords", {{"ShardIterator", page["NextShardIterator"]}}).type, throttled);
    clock_.advance(2900);
    EXPECT_EQ(failure("GetRecords", {{"ShardIterator", page["NextShardIterator"]}}).type, throttled);
    clock_.advance(200);
    EXPECT_NO_THROW(call("GetRecords", {{"ShardIterator", page["NextShardIterator"]}}));
}

TEST_F(throttling_test, throttle_off_never_throttles) {
    cfg_.throttle = false;
    for (int i = 0; i < 3; ++i) EXPECT_EQ(put_records(500, 1)["FailedRecordCount"], 0);
    EXPECT_NO_THROW(put(mib - 1));
    const auto it = iterator();
    for (int i = 0; i < 20; ++i) EXPECT_NO_THROW(call("GetRecords", {{"ShardIterator", it}})) << i;
    EXPECT_EQ(meter().write_throttled.load(), 0u);
    EXPECT_EQ(meter().read_throttled.load(), 0u);
}

TEST_F(throttling_test, configured_rates_replace_aws_defaults) {
    cfg_.shard_write_records_per_sec = 10;
    cfg_.shard_read_calls_per_sec = 2;
    EXPECT_EQ(put_records(15, 1)["FailedRecordCount"], 5);
    const auto it = iterator();
    EXPECT_NO_THROW(call("GetRecords", {{"ShardIterator", it}}));
    EXPECT_NO_THROW(call("GetRecords", {{"ShardIterator", it}}));
    EXPECT_EQ(failure("GetRecords", {{"ShardIterator", it}}).type, throttled);
}

TEST_F(throttling_test, injected_put_records_throttles_fail_exactly_rate_of_the_entries) {
    api::faults().add({"PutRecords", "s", throttled, 0.3, 0});
    auto out = put_records(10, 1);
    EXPECT_EQ(out["FailedRecordCount"], 3);
    for (std::size_t i : {3u, 6u, 9u}) EXPECT_EQ(out["Records"][i]["ErrorCode"], throttled) << i;
    for (std::size_t i : {0u, 1u, 2u, 4u, 5u, 7u, 8u}) EXPECT_TRUE(out["Records"][i].contains("SequenceNumber")) << i;
    EXPECT_EQ(meter().write_throttled.load(), 3u);
    // Another stream is not affected.
    call("CreateStream", {{"StreamName", "other"}, {"ShardCount", 1}});
    json records = json::array();
    for (int i = 0; i < 10; ++i) records.push_back({{"PartitionKey", "k"}, {"Data", "YQ=="}});
    EXPECT_EQ(call("PutRecords", {{"StreamName", "other"}, {"Records", records}})["FailedRecordCount"], 0);
}

TEST_F(throttling_test, injected_internal_failure_fails_put_records_entries) {
    api::faults().add({"PutRecords", "", "InternalFailure", 1.0, 0});
    auto out = put_records(2, 1);
    EXPECT_EQ(out["FailedRecordCount"], 2);
    EXPECT_EQ(out["Records"][0]["ErrorCode"], "InternalFailure");
    EXPECT_EQ(out["Records"][0]["ErrorMessage"], "Internal service failure.");
}

TEST_F(throttling_test, injected_faults_answer_whole_requests_of_other_operations) {
    const auto it = iterator();
    api::faults().add({"GetRecords", "", throttled, 1.0, 0});
    api::faults().add({"DescribeStreamSummary", "s", "LimitExceededException", 1.0, 0});
    api::faults().add({"PutRecord", "", "InternalFailure", 1.0, 0});
    EXPECT_EQ(failure("GetRecords", {{"ShardIterator", it}}).type, throttled);
    EXPECT_EQ(meter().read_throttled.load(), 1u);
    auto e = failure("DescribeStreamSummary", {{"StreamName", "s"}});
    EXPECT_EQ(e.type, "LimitExceededException");
    EXPECT_STREQ(e.what(), "Rate exceeded for stream s under account 000000000000.");
    e = failure("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "YQ=="}});
    EXPECT_EQ(e.type, "InternalFailure");
    EXPECT_EQ(e.status, 500);
    api::faults().clear();
    EXPECT_NO_THROW(put());
}

TEST_F(throttling_test, control_plane_limits_are_off_by_default) {
    for (int i = 0; i < 50; ++i) EXPECT_NO_THROW(call("DescribeStream", {{"StreamName", "s"}})) << i;
}

TEST_F(throttling_test, control_plane_limits_answer_limit_exceeded) {
    cfg_.control_plane_limits = true;
    cfg_.account_id = "123456789012";  // its own buckets: the limiter is process-wide
    call("CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}});
    for (int i = 0; i < 10; ++i) EXPECT_NO_THROW(call("DescribeStream", {{"StreamName", "s"}})) << i;
    auto e = failure("DescribeStream", {{"StreamName", "s"}});
    EXPECT_EQ(e.type, "LimitExceededException");
    EXPECT_STREQ(e.what(), "Rate exceeded for stream s under account 123456789012.");
    clock_.advance(100);
    EXPECT_NO_THROW(call("DescribeStream", {{"StreamName", "s"}}));
    // GetShardIterator: 5 per second per shard, answered as a throughput limit.
    for (int i = 0; i < 5; ++i) EXPECT_NO_THROW(iterator()) << i;
    EXPECT_EQ(failure("GetShardIterator", {{"StreamName", "s"},
                                           {"ShardId", "shardId-000000000000"},
                                           {"ShardIteratorType", "LATEST"}})
                  .type,
              throttled);
}

TEST(control_plane_limiter, limits_each_scope_separately) {
    api::control_plane_limiter limiter;
    const epoch_ms t = 1'700'000'000'000;
    for (int i = 0; i < 5; ++i) EXPECT_NO_THROW(limiter.check("CreateStream", "a", "r", "s1", "", t)) << i;
    // Per account: another stream name does not help, another account or region does.
    EXPECT_THROW(limiter.check("CreateStream", "a", "r", "s2", "", t), api_error);
    EXPECT_NO_THROW(limiter.check("CreateStream", "b", "r", "s1", "", t));
    EXPECT_NO_THROW(limiter.check("CreateStream", "a", "r2", "s1", "", t));
    // Per stream: ListShards, 1000 per second each.
    for (int i = 0; i < 1000; ++i) ASSERT_NO_THROW(limiter.check("ListShards", "a", "r", "s1", "", t)) << i;
    EXPECT_THROW(limiter.check("ListShards", "a", "r", "s1", "", t), api_error);
    EXPECT_NO_THROW(limiter.check("ListShards", "a", "r", "s2", "", t));
    // Undocumented operations are not limited.
    for (int i = 0; i < 100; ++i) EXPECT_NO_THROW(limiter.check("PutRecord", "a", "r", "s1", "", t));
    EXPECT_EQ(api::control_plane_limiter::rate_of("DescribeLimits"), 1);
    EXPECT_EQ(api::control_plane_limiter::rate_of("PutRecords"), 0);
}
