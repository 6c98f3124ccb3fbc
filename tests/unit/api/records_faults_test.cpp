// The record handlers when storage fails (a full disk, an I/O error): PutRecord answers a 500
// InternalFailure, PutRecords fails the records of the affected shard one by one, reads go on,
// and puts succeed again once the disk recovers.
#include <gtest/gtest.h>


#include "../storage/fault_io.hpp"
#include "kinesd/api/dispatch.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/shard/stream_registry.hpp"
#include "support/api_test.hpp"

using namespace kinesd;
using json = nlohmann::json;
using storage::testing::fault_io;
using storage::testing::io_op;

namespace {

// The injected file I/O, a base so that it outlives the registry that uses it.
struct with_fault_io {
    fault_io io_;
};

class records_faults_test : protected with_fault_io, public test_support::api_test {
  protected:
    records_faults_test() : api_test("records_faults_test", through(io_)) {
        call("CreateStream", {{"StreamName", "s"}, {"ShardCount", 2}});
    }

    static registry_options through(fault_io& io) {
        registry_options o;
        o.segments.io = &io;
        return o;
    }

    json put(const std::string& key, const std::string& data_b64) {
        return call("PutRecord", {{"StreamName", "s"}, {"PartitionKey", key}, {"Data", data_b64}});
    }

    std::size_t read_count(const std::string& shard) {
        auto it = call("GetShardIterator", {{"StreamName", "s"},
                                            {"ShardId", shard},
                                            {"ShardIteratorType", "TRIM_HORIZON"}})["ShardIterator"];
        return call("GetRecords", {{"ShardIterator", it}})["Records"].size();
    }
};

}  // namespace

TEST_F(records_faults_test, put_record_on_a_full_disk_is_an_internal_failure_500) {
    const auto ack = put("a", "aGVsbG8=");
    const std::string shard = ack["ShardId"];
    io_.fail({.op = io_op::pwrite, .error = ENOSPC, .path_part = ".seg", .partial_bytes = 10});
    try {
        put("a", "aGVsbG8=");
        FAIL() << "the put succeeded on a full disk";
    } catch (const api_error& e) {
        EXPECT_EQ(e.type, "InternalFailure");
        EXPECT_EQ(e.status, 500);
        EXPECT_STREQ(e.what(), "Internal service failure.");
    }
    EXPECT_EQ(read_count(shard), 1u);  // reads go on; nothing half-written is served
    io_.clear();
    const auto again = put("a", "aGVsbG8=");
    EXPECT_GT(again["SequenceNumber"].get<std::string>(), ack["SequenceNumber"].get<std::string>());
    EXPECT_EQ(read_count(shard), 2u);
}

TEST_F(records_faults_test, put_records_fails_per_record_where_the_shard_cannot_write) {
    // Find a key for each of the two shards.
    std::string key_of_shard[2];
    for (int i = 0; key_of_shard[0].empty() || key_of_shard[1].empty(); ++i) {
        const std::string key = "k" + std::to_string(i);
        const std::string shard = put(key, "eA==")["ShardId"];
        key_of_shard[shard == "shardId-000000000000" ? 0 : 1] = key;
    }
    const std::size_t before0 = read_count("shardId-000000000000");
    // Only shard 1's segment fails.
    io_.fail({.op = io_op::pwrite, .error = EIO, .path_part = "shardId-000000000001"});
    json records = json::array();
    for (int i = 0; i < 4; ++i)
        records.push_back({{"PartitionKey", key_of_shard[i % 2]}, {"Data", "eQ=="}});
    const auto out = call("PutRecords", {{"StreamName", "s"}, {"Records", records}});
    EXPECT_EQ(out["FailedRecordCount"], 2);
    for (int i = 0; i < 4; ++i) {
        const auto& r = out["Records"][i];
        if (i % 2 == 0) {
            EXPECT_EQ(r["ShardId"], "shardId-000000000000");
            EXPECT_TRUE(r.contains("SequenceNumber"));
        } else {
            EXPECT_EQ(r["ErrorCode"], "InternalFailure");
            EXPECT_EQ(r["ErrorMessage"], "Internal service failure.");
            EXPECT_FALSE(r.contains("SequenceNumber"));
        }
    }
    EXPECT_EQ(read_count("shardId-000000000000"), before0 + 2);
    io_.clear();
    EXPECT_EQ(call("PutRecords", {{"StreamName", "s"}, {"Records", records}})["FailedRecordCount"], 0);
}
