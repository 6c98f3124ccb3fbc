// The control-plane handlers (tags, consumers, stream settings, account, policies) driven
// through dispatch with a manual clock: state transitions, limits, persistence.
#include <gtest/gtest.h>

#include <fstream>

#include "kinesd/api/dispatch.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/shard/stream_registry.hpp"
#include "support/api_test.hpp"

using namespace kinesd;
using json = nlohmann::json;

namespace {

const std::string stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s";

class control_plane_test : public ::testing::Test {
  protected:
    control_plane_test() {
        open();
        call("CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}});
    }

    void open() {
        streams_.reset();
        registry_options o;
        o.data_dir = dir_.path();
        o.create_stream_ms = create_ms_;
        o.delete_stream_ms = delete_ms_;
        o.update_stream_ms = update_ms_;
        streams_ = std::make_unique<stream_registry>(o, clock_);
    }

    json call(std::string_view op, const json& body) {
        return test_support::call_api(cfg_, *streams_, clock_, op, body);
    }
    api_error error(std::string_view op, const json& body) {
        return test_support::error_of_api(cfg_, *streams_, clock_, op, body);
    }

    json summary() {
        return call("DescribeStreamSummary", {{"StreamName", "s"}})["StreamDescriptionSummary"];
    }

    test_support::temp_dir dir_{"kinesd-control-test"};  // outlives streams_, declared later
    manual_clock clock_;
    config cfg_;
    std::int64_t create_ms_ = 0, delete_ms_ = 0, update_ms_ = 0;
    std::unique_ptr<stream_registry> streams_;
};

TEST_F(control_plane_test, consumer_goes_creating_active_deleting_gone_with_the_clock) {
    create_ms_ = 5000;
    delete_ms_ = 3000;
    open();
    auto c = call("RegisterStreamConsumer",
                  {{"StreamARN", stream_arn}, {"ConsumerName", "c"}})["Consumer"];
    EXPECT_EQ(c["ConsumerStatus"], "CREATING");
    const std::string arn = c["ConsumerARN"];
    EXPECT_EQ(arn, fmt::format("{}/consumer/c:{}", stream_arn, clock_.now_ms() / 1000));
    auto describe = [&] {
        return call("DescribeStreamConsumer", {{"ConsumerARN", arn}})["ConsumerDescription"];
    };
    EXPECT_EQ(describe()["ConsumerStatus"], "CREATING");
    clock_.advance(5000);
    EXPECT_EQ(describe()["ConsumerStatus"], "ACTIVE");
    EXPECT_EQ(summary()["ConsumerCount"], 1);

    call("DeregisterStreamConsumer", {{"ConsumerARN", arn}});
    EXPECT_EQ(describe()["ConsumerStatus"], "DELETING");
    EXPECT_EQ(error("DeregisterStreamConsumer", {{"ConsumerARN", arn}}).type,
              "ResourceInUseException");
    clock_.advance(3000);
    EXPECT_EQ(error("DescribeStreamConsumer", {{"ConsumerARN", arn}}).type,
              "ResourceNotFoundException");
    EXPECT_EQ(summary()["ConsumerCount"], 0);
    EXPECT_TRUE(call("ListStreamConsumers", {{"StreamARN", stream_arn}})["Consumers"].empty());
}

TEST_F(control_plane_test, at_most_five_consumers_create_at_once_and_twenty_exist) {
    create_ms_ = 1000;
    open();
    for (int i = 0; i < 5; ++i)
        call("RegisterStreamConsumer",
             {{"StreamARN", stream_arn}, {"ConsumerName", fmt::format("c{}", i)}});
    EXPECT_EQ(
        error("RegisterStreamConsumer", {{"StreamARN", stream_arn}, {"ConsumerName", "c5"}}).type,
        "LimitExceededException");
    for (int i = 5; i < 20; ++i) {
        clock_.advance(1000);
        call("RegisterStreamConsumer",
             {{"StreamARN", stream_arn}, {"ConsumerName", fmt::format("c{}", i)}});
    }
    clock_.advance(1000);
    EXPECT_EQ(
        error("RegisterStreamConsumer", {{"StreamARN", stream_arn}, {"ConsumerName", "c20"}}).type,
        "LimitExceededException");
    EXPECT_EQ(summary()["ConsumerCount"], 20);
}

TEST_F(control_plane_test, encryption_makes_the_stream_updating_until_due) {
    update_ms_ = 2000;
    open();
    call("StartStreamEncryption", {{"StreamName", "s"}, {"EncryptionType", "KMS"}, {"KeyId", "k"}});
    EXPECT_EQ(summary()["StreamStatus"], "UPDATING");
    EXPECT_EQ(summary()["EncryptionType"], "KMS");
    // A stream that is not ACTIVE takes no further change.
    EXPECT_EQ(error("StopStreamEncryption",
                    {{"StreamName", "s"}, {"EncryptionType", "KMS"}, {"KeyId", "k"}})
                  .type,
              "ResourceInUseException");
    clock_.advance(2000);
    EXPECT_EQ(summary()["StreamStatus"], "ACTIVE");
    call("StopStreamEncryption", {{"StreamName", "s"}, {"EncryptionType", "KMS"}, {"KeyId", "k"}});
    clock_.advance(2000);
    EXPECT_EQ(summary()["EncryptionType"], "NONE");
    EXPECT_FALSE(summary().contains("KeyId"));
}

TEST_F(control_plane_test, settings_survive_a_restart) {
    call("AddTagsToStream", {{"StreamName", "s"}, {"Tags", {{"team", "core"}}}});
    auto c = call("RegisterStreamConsumer",
                  {{"StreamARN", stream_arn}, {"ConsumerName", "c"}})["Consumer"];
    call("StartStreamEncryption",
         {{"StreamName", "s"}, {"EncryptionType", "KMS"}, {"KeyId", "alias/k"}});
    call("EnableEnhancedMonitoring",
         {{"StreamName", "s"}, {"ShardLevelMetrics", {"IncomingBytes"}}});
    call("UpdateMaxRecordSize", {{"StreamARN", stream_arn}, {"MaxRecordSizeInKiB", 4096}});
    call("PutResourcePolicy",
         {{"ResourceARN", stream_arn}, {"Policy", R"({"Version":"2012-10-17"})"}});
    call("UpdateAccountSettings",
         {{"MinimumThroughputBillingCommitment", {{"Status", "ENABLED"}}}});

    open();
    EXPECT_EQ(call("ListTagsForStream", {{"StreamName", "s"}})["Tags"],
              json::parse(R"([{"Key":"team","Value":"core"}])"));
    EXPECT_EQ(call("DescribeStreamConsumer",
                   {{"ConsumerARN", c["ConsumerARN"]}})["ConsumerDescription"]["ConsumerName"],
              "c");
    const auto s = summary();
    EXPECT_EQ(s["EncryptionType"], "KMS");
    EXPECT_EQ(s["KeyId"], "alias/k");
    EXPECT_EQ(s["EnhancedMonitoring"][0]["ShardLevelMetrics"], json::array({"IncomingBytes"}));
    EXPECT_EQ(s["MaxRecordSizeInKiB"], 4096);
    EXPECT_EQ(s["ConsumerCount"], 1);
    EXPECT_EQ(streams_->find(stream_key{"000000000000", "us-east-1", "s"})->max_record_bytes(),
              4096u * 1024);
    EXPECT_EQ(call("GetResourcePolicy", {{"ResourceARN", stream_arn}})["Policy"],
              R"({"Version":"2012-10-17"})");
    EXPECT_EQ(call("DescribeAccountSettings",
                   json::object())["MinimumThroughputBillingCommitment"]["Status"],
              "ENABLED");
}

TEST_F(control_plane_test, disabling_a_commitment_early_waits_for_the_earliest_end) {
    call("UpdateAccountSettings",
         {{"MinimumThroughputBillingCommitment", {{"Status", "ENABLED"}}}});
    auto out = call("UpdateAccountSettings",
                    {{"MinimumThroughputBillingCommitment", {{"Status", "DISABLED"}}}});
    EXPECT_EQ(out["MinimumThroughputBillingCommitment"]["Status"],
              "ENABLED_UNTIL_EARLIEST_ALLOWED_END");
    clock_.advance(24 * 3600 * 1000);
    out = call("DescribeAccountSettings", json::object());
    EXPECT_EQ(out["MinimumThroughputBillingCommitment"]["Status"], "DISABLED");
    EXPECT_TRUE(out["MinimumThroughputBillingCommitment"].contains("EndedAt"));
}

// A settings file edited by hand with wrong types reads as the defaults, not as a 500 on every
// call (and a later update replaces the bad entry).
TEST_F(control_plane_test, malformed_account_settings_read_as_defaults) {
    std::ofstream(dir_.path() / "account-settings.json")
        << R"({"000000000000/us-east-1": {"status": 1, "started_ms": "yesterday"}})";
    auto out = call("DescribeAccountSettings", json::object());
    EXPECT_EQ(out["MinimumThroughputBillingCommitment"]["Status"], "DISABLED");
    out = call("UpdateAccountSettings", {{"MinimumThroughputBillingCommitment", {{"Status", "ENABLED"}}}});
    EXPECT_EQ(out["MinimumThroughputBillingCommitment"]["Status"], "ENABLED");
}

TEST_F(control_plane_test, tags_are_limited_to_fifty_and_checked_for_characters) {
    json tags = json::object();
    for (int i = 0; i < 50; ++i) tags[fmt::format("k{:02}", i)] = "v";
    call("AddTagsToStream", {{"StreamName", "s"}, {"Tags", tags}});
    auto e = error("AddTagsToStream", {{"StreamName", "s"}, {"Tags", {{"one-more", "v"}}}});
    EXPECT_EQ(e.type, "InvalidArgumentException");
    EXPECT_NE(std::string(e.what()).find("cannot have more than 50 tags"), std::string::npos)
        << e.what();
    // Overwriting an existing key does not add a tag.
    call("AddTagsToStream", {{"StreamName", "s"}, {"Tags", {{"k00", "new"}}}});
    EXPECT_EQ(error("AddTagsToStream", {{"StreamName", "s"}, {"Tags", {{"k00", "a*b"}}}}).type,
              "InvalidArgumentException");
    // Unicode letters are fine.
    call("RemoveTagsFromStream", {{"StreamName", "s"}, {"TagKeys", {"k01"}}});
    call("AddTagsToStream", {{"StreamName", "s"}, {"Tags", {{"équipe", "données 日本"}}}});
}

}  // namespace
