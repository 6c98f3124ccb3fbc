// The per-stream families, fed through the real handlers so that the data path's hooks are
// covered too.
#include "kinesd/metrics/stream_metrics.hpp"

#include <gtest/gtest.h>


#include "kinesd/api/dispatch.hpp"
#include "kinesd/common/base64.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/retention/reaper.hpp"
#include "kinesd/shard/stream_registry.hpp"
#include "support/api_test.hpp"

using namespace kinesd;
using json = nlohmann::json;

namespace {

class stream_metrics_test : public test_support::api_test {
protected:
    stream_metrics_test() : api_test("stream_metrics_test") {}

    void create(const std::string& name, std::uint32_t shards, json shard_level = nullptr) {
        create_stream_request r;
        r.account = cfg_.account_id;
        r.region = cfg_.region;
        r.name = name;
        r.shard_count = shards;
        if (!shard_level.is_null()) r.extra["shard_level_metrics"] = shard_level;
        streams_.create(r);
    }

    std::string render() {
        std::string out;
        metrics::render_stream_metrics(streams_, out);
        return out;
    }

    bool has(const std::string& line) { return render().find(line + "\n") != std::string::npos; }
};

}  // namespace

TEST_F(stream_metrics_test, puts_and_gets_move_the_stream_counters) {
    create("orders", 2);
    call("PutRecord", {{"StreamName", "orders"}, {"PartitionKey", "a"}, {"Data", base64::encode("hello")}});
    call("PutRecords", {{"StreamName", "orders"},
                        {"Records", json::array({{{"PartitionKey", "a"}, {"Data", base64::encode("12")}},
                                                 {{"PartitionKey", "b"}, {"Data", base64::encode("345")}},
                                                 {{"PartitionKey", "c"}, {"Data", base64::encode("")}}})}});
    EXPECT_TRUE(has(R"(kinesd_incoming_records_total{region="us-east-1",stream="orders"} 4)"));
    EXPECT_TRUE(has(R"(kinesd_incoming_bytes_total{region="us-east-1",stream="orders"} 10)"));
    EXPECT_TRUE(has(R"(kinesd_outgoing_records_total{region="us-east-1",stream="orders"} 0)"));
    EXPECT_TRUE(has(R"(kinesd_stream_open_shards{region="us-east-1",stream="orders"} 2)"));
    EXPECT_TRUE(has(R"(kinesd_write_provisioned_throughput_exceeded_total{region="us-east-1",stream="orders"} 0)"));

    // Read shard 0 and shard 1 from the start, 5 s after the writes.
    clock_.advance(5000);
    std::uint64_t got = 0;
    for (const char* shard : {"shardId-000000000000", "shardId-000000000001"}) {
        auto it = call("GetShardIterator", {{"StreamName", "orders"}, {"ShardId", shard},
                                            {"ShardIteratorType", "TRIM_HORIZON"}})["ShardIterator"];
        got += call("GetRecords", {{"ShardIterator", it}})["Records"].size();
    }
    EXPECT_EQ(got, 4u);
    EXPECT_TRUE(has(R"(kinesd_outgoing_records_total{region="us-east-1",stream="orders"} 4)"));
    EXPECT_TRUE(has(R"(kinesd_outgoing_bytes_total{region="us-east-1",stream="orders"} 10)"));
    EXPECT_TRUE(has(R"(kinesd_iterator_age_milliseconds{region="us-east-1",stream="orders"} 5000)"));
    const auto out = render();
    EXPECT_EQ(out.find("shard=\""), std::string::npos) << "no enhanced monitoring, no shard label";
    EXPECT_EQ(out.find("kinesd_stream_disk_bytes{region=\"us-east-1\",stream=\"orders\"} 0\n"), std::string::npos)
        << "records were written, so the segments take space";
}

TEST_F(stream_metrics_test, enhanced_monitoring_splits_that_metric_by_shard) {
    create("clicks", 2, json::array({"IncomingRecords"}));
    create("all", 1, json::array({"ALL"}));
    for (int i = 0; i < 10; ++i)
        call("PutRecord", {{"StreamName", "clicks"},
                           {"PartitionKey", "k"},
                           {"ExplicitHashKey", "0"},  // shard 0
                           {"Data", base64::encode("x")}});
    EXPECT_TRUE(has(R"(kinesd_incoming_records_total{region="us-east-1",stream="clicks",shard="shardId-000000000000"} 10)"));
    EXPECT_TRUE(has(R"(kinesd_incoming_records_total{region="us-east-1",stream="clicks",shard="shardId-000000000001"} 0)"));
    // Other metrics of that stream stay per stream.
    EXPECT_TRUE(has(R"(kinesd_incoming_bytes_total{region="us-east-1",stream="clicks"} 10)"));
    EXPECT_TRUE(has(R"(kinesd_iterator_age_milliseconds{region="us-east-1",stream="all",shard="shardId-000000000000"} 0)"));
    EXPECT_TRUE(has(R"(kinesd_outgoing_bytes_total{region="us-east-1",stream="all",shard="shardId-000000000000"} 0)"));
}

// The read that reaches the end of a closed shard answers ChildShards instead of a next
// iterator; the records it returns are counted like any others.
TEST_F(stream_metrics_test, the_last_read_of_a_closed_shard_is_counted) {
    cfg_.throttle = false;
    create("split", 1);
    call("PutRecord", {{"StreamName", "split"}, {"PartitionKey", "a"}, {"Data", base64::encode("abc")}});
    call("SplitShard", {{"StreamName", "split"},
                        {"ShardToSplit", "shardId-000000000000"},
                        {"NewStartingHashKey", "170141183460469231731687303715884105728"}});
    auto it = call("GetShardIterator", {{"StreamName", "split"}, {"ShardId", "shardId-000000000000"},
                                        {"ShardIteratorType", "TRIM_HORIZON"}})["ShardIterator"];
    const auto page = call("GetRecords", {{"ShardIterator", it}});
    ASSERT_EQ(page["Records"].size(), 1u);
    ASSERT_TRUE(page.contains("ChildShards"));
    EXPECT_TRUE(has(R"(kinesd_outgoing_records_total{region="us-east-1",stream="split"} 1)"));
    EXPECT_TRUE(has(R"(kinesd_outgoing_bytes_total{region="us-east-1",stream="split"} 3)"));
}

TEST_F(stream_metrics_test, counters_do_not_go_down_when_retention_drops_a_closed_shard) {
    create("r", 1);
    for (int i = 0; i < 2; ++i)
        call("PutRecord", {{"StreamName", "r"}, {"PartitionKey", "k"}, {"Data", base64::encode("abc")}});
    EXPECT_TRUE(has(R"(kinesd_incoming_records_total{region="us-east-1",stream="r"} 2)"));  // remembered
    call("SplitShard", {{"StreamName", "r"},
                        {"ShardToSplit", "shardId-000000000000"},
                        {"NewStartingHashKey", "170141183460469231731687303715884105728"}});
    call("PutRecord", {{"StreamName", "r"}, {"PartitionKey", "k"}, {"Data", base64::encode("abcd")}});
    EXPECT_TRUE(has(R"(kinesd_incoming_records_total{region="us-east-1",stream="r"} 3)"));
    clock_.advance(25 * 3'600'000LL);  // the parent's records expire: the reaper forgets it
    const auto report = retention::reap_expired(streams_, clock_.now_ms());
    ASSERT_EQ(report.shards_dropped, 1u);
    EXPECT_EQ(streams_.find({cfg_.account_id, cfg_.region, "r"})->shards()->all.size(), 2u);
    EXPECT_TRUE(has(R"(kinesd_incoming_records_total{region="us-east-1",stream="r"} 3)"));
    EXPECT_TRUE(has(R"(kinesd_incoming_bytes_total{region="us-east-1",stream="r"} 10)"));
}

TEST_F(stream_metrics_test, every_family_is_declared_once_even_without_streams) {
    const auto out = render();
    for (const char* family :
         {"kinesd_incoming_records_total", "kinesd_incoming_bytes_total", "kinesd_outgoing_records_total",
          "kinesd_outgoing_bytes_total", "kinesd_write_provisioned_throughput_exceeded_total",
          "kinesd_read_provisioned_throughput_exceeded_total", "kinesd_iterator_age_milliseconds",
          "kinesd_stream_disk_bytes"}) {
        const std::string type_line = std::string("# TYPE ") + family + " ";
        const auto first = out.find(type_line);
        EXPECT_NE(first, std::string::npos) << family;
        EXPECT_EQ(out.find(type_line, first + 1), std::string::npos) << family;
    }
}
