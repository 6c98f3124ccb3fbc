// With --fsync always a put's answer leaves handle_request() still waiting for its fsync
// (response::commits), and send_when_ready() sends it once the shard's round has covered it,
// or as 500 InternalFailure if that fsync failed. No thread waits meanwhile.
#include "kinesd/http/answer_hold.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "../storage/fault_io.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/http/server.hpp"
#include "kinesd/shard/stream_registry.hpp"
#include "kinesd/storage/commit_pipeline.hpp"
#include "support/api_test.hpp"

namespace kinesd::http {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using storage::testing::fault_io;
using storage::testing::io_op;

class answer_hold_test : public ::testing::Test {
  protected:
    answer_hold_test() {
        options_.data_dir = dir_.path();
        options_.segments.fsync = storage::fsync_policy::always;
        options_.segments.io = &io_;
        options_.segments.pipeline = &pipeline_;
        streams_.emplace(options_, clock_);
        state_.emplace(cfg_, *streams_, clock_);
        EXPECT_EQ(post("CreateStream", R"({"StreamName":"s","ShardCount":2})").status, 200);
    }

    response post(std::string_view op, std::string_view body) {
        const std::string target = "Kinesis_20131202." + std::string(op);
        return handle_request(*state_, {"POST", "/", target, "application/x-amz-json-1.1", {}},
                              body);
    }

    // What a transport does with a held answer: send_when_ready() on its executor; returns what
    // was sent (nullopt if nothing within 30 s).
    std::optional<response> send(response answer) {
        asio::io_context connection;
        auto keep = asio::make_work_guard(connection);
        std::optional<response> sent;
        send_when_ready(std::move(answer), connection.get_executor(), [&](response r) {
            sent = std::move(r);
            keep.reset();
        });
        connection.run_for(std::chrono::seconds(30));
        // The fsync thread may still be inside its post to `connection` (ThreadSanitizer saw
        // the context destroyed under its pthread_cond_signal).
        pipeline_.wait_idle();
        return sent;
    }

    test_support::temp_dir dir_;
    fault_io io_;
    asio::thread_pool fsync_threads_{1};  // outlive streams_ (declared before it)
    storage::commit_pipeline pipeline_{
        {.runner =
             [this](std::function<void()> job) { asio::post(fsync_threads_, std::move(job)); },
         .dir = dir_.path(),
         // each shard's own fdatasync, counted per shard
         .use_syncfs = false,
         .io = &io_}};
    adjustable_clock clock_;
    config cfg_;
    registry_options options_;
    std::optional<stream_registry> streams_;
    std::optional<server_state> state_;
};

TEST_F(answer_hold_test, a_put_is_answered_once_its_fsync_has_run) {
    const int syncs_before = io_.calls(io_op::fdatasync);
    auto answer = post("PutRecord", R"({"StreamName":"s","PartitionKey":"k","Data":"AAEC"})");
    EXPECT_EQ(answer.status, 200);
    ASSERT_EQ(answer.commits.size(), 1u);  // the handler did not wait for it
    EXPECT_TRUE(answer.held());
    EXPECT_EQ(io_.calls(io_op::fdatasync), syncs_before);
    const std::string request_id = answer.request_id;
    auto sent = send(std::move(answer));
    ASSERT_TRUE(sent);
    EXPECT_EQ(sent->status, 200);
    EXPECT_EQ(sent->request_id, request_id);
    EXPECT_TRUE(json::parse(sent->body).contains("SequenceNumber"));
    EXPECT_GT(io_.calls(io_op::fdatasync), syncs_before);
    EXPECT_FALSE(sent->unfinished);  // counted in the request metrics by now
}

TEST_F(answer_hold_test, put_records_waits_for_every_shard_it_wrote_to) {
    // Keys chosen to land on both shards (the hash space is split in two).
    json records = json::array();
    for (int i = 0; i < 20; ++i)
        records.push_back({{"PartitionKey", "key-" + std::to_string(i)}, {"Data", "AAEC"}});
    auto answer = post("PutRecords", json{{"StreamName", "s"}, {"Records", records}}.dump());
    EXPECT_EQ(answer.status, 200);
    EXPECT_EQ(answer.commits.size(), 2u);
    auto sent = send(std::move(answer));
    ASSERT_TRUE(sent);
    EXPECT_EQ(json::parse(sent->body)["FailedRecordCount"], 0);
    EXPECT_GE(io_.calls(io_op::fdatasync, "shardId-000000000000"), 1);
    EXPECT_GE(io_.calls(io_op::fdatasync, "shardId-000000000001"), 1);
}

TEST_F(answer_hold_test, a_failed_fsync_turns_the_answer_into_an_internal_failure) {
    io_.fail({.op = io_op::fdatasync, .error = EIO, .times = 1, .path_part = {}});
    auto answer = post("PutRecord", R"({"StreamName":"s","PartitionKey":"k","Data":"AAEC"})");
    const std::string request_id = answer.request_id;
    auto sent = send(std::move(answer));
    ASSERT_TRUE(sent);
    EXPECT_EQ(sent->status, 500);
    EXPECT_EQ(sent->error_type, "InternalFailure");
    EXPECT_EQ(sent->request_id, request_id);
    EXPECT_EQ(json::parse(sent->body)["__type"], "InternalFailure");
    // The disk works again: the next put is acknowledged.
    sent = send(post("PutRecord", R"({"StreamName":"s","PartitionKey":"k","Data":"AAEC"})"));
    ASSERT_TRUE(sent);
    EXPECT_EQ(sent->status, 200);
}

}  // namespace
}  // namespace kinesd::http
