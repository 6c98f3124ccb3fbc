// The record handlers driven directly with a manual clock: behaviour that depends on time.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "kinesd/api/dispatch.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/common/base64.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/shard/stream_registry.hpp"
#include "support/api_test.hpp"

using namespace kinesd;
using json = nlohmann::json;

namespace {

class records_test : public test_support::api_test {
protected:
    records_test() : api_test("records_test") {
        call("CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}});
    }

    std::string error_type(std::string_view op, const json& body) { return error_of(op, body).type; }

    std::string iterator(const char* type = "TRIM_HORIZON") {
        return call("GetShardIterator", {{"StreamName", "s"},
                                         {"ShardId", "shardId-000000000000"},
                                         {"ShardIteratorType", type}})["ShardIterator"];
    }
};

}  // namespace

TEST_F(records_test, iterators_expire_five_minutes_after_issue) {
    auto it = iterator();
    clock_.advance(300'000);
    EXPECT_NO_THROW(call("GetRecords", {{"ShardIterator", it}}));
    clock_.advance(1);
    try {
        call("GetRecords", {{"ShardIterator", it}});
        FAIL() << "expired iterator accepted";
    } catch (const api_error& e) {
        EXPECT_EQ(e.type, "ExpiredIteratorException");
        EXPECT_NE(std::string(e.what()).find("tolerated delay of 300000 milliseconds"), std::string::npos);
    }
}

TEST_F(records_test, next_iterator_is_issued_fresh) {
    auto it = iterator();
    clock_.advance(299'000);
    auto next = call("GetRecords", {{"ShardIterator", it}})["NextShardIterator"].get<std::string>();
    clock_.advance(299'000);
    EXPECT_NO_THROW(call("GetRecords", {{"ShardIterator", next}}));
}

TEST_F(records_test, tampered_iterators_are_invalid_arguments) {
    auto it = iterator();
    it[it.size() / 2] = it[it.size() / 2] == 'A' ? 'B' : 'A';
    EXPECT_EQ(error_type("GetRecords", {{"ShardIterator", it}}), "InvalidArgumentException");
}

TEST_F(records_test, at_timestamp_reads_from_the_first_record_at_or_after_it) {
    call("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "YQ=="}});  // "a"
    const epoch_ms between = clock_.now_ms() + 500;
    clock_.advance(1000);
    call("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "Yg=="}});  // "b"
    auto it = call("GetShardIterator", {{"StreamName", "s"},
                                        {"ShardId", "shardId-000000000000"},
                                        {"ShardIteratorType", "AT_TIMESTAMP"},
                                        {"Timestamp", between / 1000.0}})["ShardIterator"];
    auto records = call("GetRecords", {{"ShardIterator", it}})["Records"];
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["Data"], "Yg==");
    EXPECT_DOUBLE_EQ(records[0]["ApproximateArrivalTimestamp"].get<double>(), clock_.now_ms() / 1000.0);
}

TEST_F(records_test, records_older_than_retention_are_not_returned) {
    call("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "YQ=="}});
    clock_.advance(24 * 3'600'000 + 1);
    call("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "Yg=="}});
    auto records = call("GetRecords", {{"ShardIterator", iterator()}})["Records"];
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["Data"], "Yg==");
}

TEST_F(records_test, millis_behind_latest_is_zero_at_the_tip_and_counts_time_otherwise) {
    for (int i = 0; i < 3; ++i)
        call("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "YQ=="}});
    clock_.advance(5000);
    auto page = call("GetRecords", {{"ShardIterator", iterator()}, {"Limit", 1}});
    EXPECT_EQ(page["MillisBehindLatest"], 5000);
    page = call("GetRecords", {{"ShardIterator", page["NextShardIterator"]}, {"Limit", 10}});
    EXPECT_EQ(page["Records"].size(), 2u);
    EXPECT_EQ(page["MillisBehindLatest"], 0);
}

TEST_F(records_test, future_timestamps_are_refused) {
    EXPECT_EQ(error_type("GetShardIterator", {{"StreamName", "s"},
                                              {"ShardId", "shardId-000000000000"},
                                              {"ShardIteratorType", "AT_TIMESTAMP"},
                                              {"Timestamp", (clock_.now_ms() + 10'000) / 1000.0}}),
              "InvalidArgumentException");
}

// The hot operations take the fast path (simdjson) for ordinary bodies; an unknown member makes
// it decline, so the same request runs on the generic path (nlohmann + model). Both must answer
// the same.
TEST_F(records_test, fast_and_generic_paths_write_and_read_the_same) {
    auto fast = call("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "YQ=="}});
    auto generic = call("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "Yg=="}, {"XUnknown", 1}});
    EXPECT_EQ(fast["ShardId"], generic["ShardId"]);
    call("PutRecords", {{"StreamName", "s"}, {"Records", {{{"PartitionKey", "k"}, {"Data", "Yw=="}}}}});
    auto it = iterator();
    auto a = call("GetRecords", {{"ShardIterator", it}, {"Limit", 10}});
    auto b = call("GetRecords", {{"ShardIterator", it}, {"Limit", 10}, {"XUnknown", 1}});
    ASSERT_EQ(a["Records"].size(), 3u);
    EXPECT_EQ(a["Records"], b["Records"]);
    EXPECT_EQ(a["Records"][0]["Data"], "YQ==");
    EXPECT_EQ(a["Records"][1]["Data"], "Yg==");
    EXPECT_EQ(a["Records"][2]["Data"], "Yw==");
    EXPECT_EQ(a["Records"][0]["SequenceNumber"], fast["SequenceNumber"]);
}

// GetRecords sizes its answer with a read that skips CRC checks; what it serves must still be
// checked: a record whose bytes changed on disk is not returned, nor anything after it in its
// segment, and the records before it are.
TEST_F(records_test, a_record_damaged_on_disk_is_not_served) {
    const std::string payloads[] = {"first-record-payload", "second-record-payload",
                                    "third-record-payload"};
    for (const auto& p : payloads)
        call("PutRecord",
             {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", base64::encode(p)}});
    std::filesystem::path segment;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path()))
        if (e.path().extension() == ".seg") segment = e.path();
    ASSERT_FALSE(segment.empty());
    {
        std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(f)),
                                std::istreambuf_iterator<char>());
        const auto at = bytes.find(payloads[1]);
        ASSERT_NE(at, std::string::npos);
        f.seekp(static_cast<std::streamoff>(at + payloads[1].size() - 1));
        f.put('X');  // same length, different byte: only the CRC can tell
    }
    const auto records = call("GetRecords", {{"ShardIterator", iterator()}})["Records"];
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["Data"], base64::encode(payloads[0]));
}

// The fast path leaves base64 validity to the decode; whatever the handler finds first, a body
// with bad base64 must get the model's error, exactly as on the generic path, and write nothing.
TEST_F(records_test, bad_base64_gets_the_generic_error_on_the_fast_path) {
    auto error_of = [&](std::string_view op, const json& body) {
        try {
            call(op, body);
        } catch (const api_error& e) {
            return e.type + ": " + e.what();
        }
        return std::string("none");
    };
    for (const char* stream : {"s", "missing"}) {
        SCOPED_TRACE(stream);
        json one = {{"StreamName", stream}, {"PartitionKey", "k"}, {"Data", "Y==="}};
        json many = {{"StreamName", stream},
                     {"Records", {{{"PartitionKey", "k"}, {"Data", "YQ=="}}, {{"PartitionKey", "k"}, {"Data", "Y==="}}}}};
        const auto fast_one = error_of("PutRecord", one);
        const auto fast_many = error_of("PutRecords", many);
        one["XUnknown"] = 1;
        many["XUnknown"] = 1;
        EXPECT_EQ(fast_one, error_of("PutRecord", one));
        EXPECT_EQ(fast_many, error_of("PutRecords", many));
        EXPECT_EQ(fast_one.rfind("ResourceNotFound", 0), std::string::npos) << fast_one;
        EXPECT_NE(fast_one, "none");
    }
    EXPECT_EQ(call("GetRecords", {{"ShardIterator", iterator()}})["Records"].size(), 0u);
}

// A record over the stream's maximum record size is refused by the handler (the model allows
// Data up to 10 MiB for streams whose limit was raised), and the message names the member as
// AWS does: "data" for PutRecord, "records.N.member.data" (1-based) for a PutRecords entry.
TEST_F(records_test, an_oversized_record_is_named_by_its_member_path) {
    const std::string big = base64::encode(std::string((1u << 20) + 1, 'x'));
    const auto one =
        error_of("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", big}});
    EXPECT_EQ(one.type, "ValidationException");
    EXPECT_NE(std::string(one.what()).find("at 'data' failed"), std::string::npos) << one.what();
    const auto many = error_of(
        "PutRecords",
        {{"StreamName", "s"},
         {"Records",
          {{{"PartitionKey", "k"}, {"Data", "YQ=="}}, {{"PartitionKey", "k"}, {"Data", big}}}}});
    EXPECT_EQ(many.type, "ValidationException");
    EXPECT_NE(std::string(many.what()).find("at 'records.2.member.data' failed"), std::string::npos)
        << many.what();
    EXPECT_EQ(call("GetRecords", {{"ShardIterator", iterator()}})["Records"].size(), 0u);
}
