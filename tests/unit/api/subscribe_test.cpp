// SubscribeToShard's subscription driven with a manual clock: positions, batching, the 5 s
// heartbeat, the 5-minute end, the ChildShards end and the errors before the stream starts.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "kinesd/api/dispatch.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/api/subscription.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/shard/stream_registry.hpp"

using namespace kinesd;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::uint32_t be32(const std::string& s, std::size_t at) {
    auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + i])); };
    return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

struct message {
    std::string event_type;  // :event-type or :exception-type
    std::string payload;
};

// Splits framed event-stream messages (string headers only, as kinesd writes them).
std::vector<message> decode(const std::string& in) {
    std::vector<message> out;
    std::size_t at = 0;
    while (at < in.size()) {
        const auto total = be32(in, at), headers_len = be32(in, at + 4);
        message m;
        std::size_t h = at + 12;
        while (h < at + 12 + headers_len) {
            const std::size_t name_len = static_cast<unsigned char>(in[h]);
            std::string name = in.substr(h + 1, name_len);
            h += 1 + name_len + 1;  // name, type (7)
            const std::size_t value_len = static_cast<unsigned char>(in[h]) << 8 | static_cast<unsigned char>(in[h + 1]);
            std::string value = in.substr(h + 2, value_len);
            h += 2 + value_len;
            if (name == ":event-type" || name == ":exception-type") m.event_type = value;
        }
        m.payload = in.substr(at + 12 + headers_len, total - 16 - headers_len);
        out.push_back(std::move(m));
        at += total;
    }
    return out;
}

class subscribe_test : public ::testing::Test {
protected:
    subscribe_test()
        : dir_(fs::temp_directory_path() / ("kinesd_subscribe_test_" + std::to_string(std::random_device{}()))),
          streams_(make_options(dir_), clock_) {
        call("CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}});
        stream_arn_ = call("DescribeStreamSummary", {{"StreamName", "s"}})["StreamDescriptionSummary"]["StreamARN"];
        consumer_arn_ = call("RegisterStreamConsumer", {{"StreamARN", stream_arn_}, {"ConsumerName", "c"}})["Consumer"]["ConsumerARN"];
    }
    ~subscribe_test() override { fs::remove_all(dir_); }

    static registry_options make_options(const fs::path& dir) {
        registry_options o;
        o.data_dir = dir;
        return o;
    }

    json call(std::string_view op, const json& body) {
        api::context ctx{cfg_, streams_, clock_, cfg_.account_id, cfg_.region, "test"};
        auto out = api::dispatch(ctx, op, body.dump());
        return out.empty() ? json::object() : json::parse(out);
    }

    std::shared_ptr<api::subscription> subscribe(json position, std::string shard = "shardId-000000000000") {
        api::context ctx{cfg_, streams_, clock_, cfg_.account_id, cfg_.region, "test"};
        api::dispatch(ctx, "SubscribeToShard",
                      json{{"ConsumerARN", consumer_arn_}, {"ShardId", shard}, {"StartingPosition", position}}.dump());
        EXPECT_TRUE(ctx.streaming);
        return std::move(ctx.streaming);
    }

    std::string error_of(json position, std::string shard = "shardId-000000000000") {
        try {
            subscribe(std::move(position), std::move(shard));
        } catch (const api_error& e) {
            return e.type + ": " + e.what();
        }
        return "none";
    }

    std::string put(const std::string& data_b64) {
        return call("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", data_b64}})["SequenceNumber"];
    }

    // poll() once; the SubscribeToShardEvents it framed (the initial response checked apart).
    std::vector<json> events(api::subscription& sub, bool* more = nullptr) {
        std::string out;
        bool m = sub.poll(clock_.now_ms(), out);
        if (more) *more = m;
        std::vector<json> result;
        for (auto& msg : decode(out)) {
            if (msg.event_type == "initial-response") {
                EXPECT_EQ(msg.payload, "{}");
                continue;
            }
            EXPECT_EQ(msg.event_type, "SubscribeToShardEvent");
            result.push_back(json::parse(msg.payload));
        }
        return result;
    }

    fs::path dir_;
    manual_clock clock_;
    config cfg_;
    stream_registry streams_;
    std::string stream_arn_, consumer_arn_;
};

TEST_F(subscribe_test, trim_horizon_sends_initial_response_then_records_in_order) {
    auto s1 = put("YQ=="), s2 = put("Yg==");
    auto sub = subscribe({{"Type", "TRIM_HORIZON"}});
    std::string out;
    ASSERT_TRUE(sub->poll(clock_.now_ms(), out));
    auto msgs = decode(out);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[0].event_type, "initial-response");
    auto ev = json::parse(msgs[1].payload);
    ASSERT_EQ(ev["Records"].size(), 2u);
    EXPECT_EQ(ev["Records"][0]["SequenceNumber"], s1);
    EXPECT_EQ(ev["Records"][0]["Data"], "YQ==");
    EXPECT_EQ(ev["Records"][0]["PartitionKey"], "k");
    EXPECT_EQ(ev["Records"][1]["SequenceNumber"], s2);
    EXPECT_EQ(ev["ContinuationSequenceNumber"], s2);
    EXPECT_EQ(ev["MillisBehindLatest"], 0);
    // Nothing new and the heartbeat not due: nothing is sent.
    EXPECT_TRUE(events(*sub).empty());
    // A record appended later comes in the next event, once.
    auto s3 = put("Yw==");
    auto next = events(*sub);
    ASSERT_EQ(next.size(), 1u);
    ASSERT_EQ(next[0]["Records"].size(), 1u);
    EXPECT_EQ(next[0]["Records"][0]["SequenceNumber"], s3);
    EXPECT_TRUE(events(*sub).empty());
}

TEST_F(subscribe_test, latest_and_sequence_positions) {
    auto s1 = put("YQ=="), s2 = put("Yg==");
    clock_.advance(5000);
    auto latest = subscribe({{"Type", "LATEST"}});
    EXPECT_TRUE(events(*latest).empty());
    clock_.advance(5000);
    auto at = subscribe({{"Type", "AT_SEQUENCE_NUMBER"}, {"SequenceNumber", s2}});
    auto ev = events(*at);
    ASSERT_EQ(ev.size(), 1u);
    ASSERT_EQ(ev[0]["Records"].size(), 1u);
    EXPECT_EQ(ev[0]["Records"][0]["SequenceNumber"], s2);
    clock_.advance(5000);
    auto after = subscribe({{"Type", "AFTER_SEQUENCE_NUMBER"}, {"SequenceNumber", s1}});
    ev = events(*after);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0]["Records"][0]["SequenceNumber"], s2);
    clock_.advance(5000);
    auto ts = subscribe({{"Type", "AT_TIMESTAMP"}, {"Timestamp", (clock_.now_ms() - 1000) / 1000.0}});
    EXPECT_TRUE(events(*ts).empty());  // both records are older
}

TEST_F(subscribe_test, heartbeat_every_five_seconds_with_the_continuation) {
    auto s1 = put("YQ==");
    auto sub = subscribe({{"Type", "LATEST"}});
    EXPECT_TRUE(events(*sub).empty());
    EXPECT_EQ(sub->next_deadline_in(clock_.now_ms()), 5000);
    clock_.advance(4999);
    EXPECT_TRUE(events(*sub).empty());
    clock_.advance(1);
    auto ev = events(*sub);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_TRUE(ev[0]["Records"].empty());
    EXPECT_EQ(ev[0]["ContinuationSequenceNumber"], s1);
    EXPECT_EQ(ev[0]["MillisBehindLatest"], 0);
}

TEST_F(subscribe_test, ends_after_five_minutes) {
    auto sub = subscribe({{"Type", "TRIM_HORIZON"}});
    bool more = false;
    events(*sub, &more);
    EXPECT_TRUE(more);
    clock_.advance(5 * 60'000 - 1);
    events(*sub, &more);
    EXPECT_TRUE(more);
    clock_.advance(1);
    EXPECT_TRUE(events(*sub, &more).empty());
    EXPECT_FALSE(more);
    EXPECT_TRUE(sub->ended());
}

TEST_F(subscribe_test, closed_shard_ends_with_child_shards) {
    auto s1 = put("YQ==");
    call("SplitShard", {{"StreamName", "s"},
                        {"ShardToSplit", "shardId-000000000000"},
                        {"NewStartingHashKey", "170141183460469231731687303715884105728"}});
    clock_.advance(60'000);  // the split has finished
    auto sub = subscribe({{"Type", "TRIM_HORIZON"}});
    bool more = true;
    auto ev = events(*sub, &more);
    EXPECT_FALSE(more);
    ASSERT_EQ(ev.size(), 1u);
    ASSERT_EQ(ev[0]["Records"].size(), 1u);
    EXPECT_EQ(ev[0]["Records"][0]["SequenceNumber"], s1);
    EXPECT_FALSE(ev[0].contains("ContinuationSequenceNumber"));
    ASSERT_EQ(ev[0]["ChildShards"].size(), 2u);
    EXPECT_EQ(ev[0]["ChildShards"][0]["ShardId"], "shardId-000000000001");
    EXPECT_EQ(ev[0]["ChildShards"][0]["ParentShards"][0], "shardId-000000000000");
}

TEST_F(subscribe_test, errors_before_the_stream_starts) {
    auto s1 = put("YQ==");
    EXPECT_EQ(error_of({{"Type", "TRIM_HORIZON"}}, "shardId-000000000009"),
              "ResourceNotFoundException: Shard shardId-000000000009 in stream s under account " +
                  cfg_.account_id + " does not exist");
    EXPECT_EQ(error_of({{"Type", "AT_SEQUENCE_NUMBER"}}).substr(0, 24), "InvalidArgumentException");
    EXPECT_EQ(error_of({{"Type", "AT_TIMESTAMP"}}).substr(0, 24), "InvalidArgumentException");
    EXPECT_EQ(error_of({{"Type", "AT_SEQUENCE_NUMBER"}, {"SequenceNumber", "12"}}).substr(0, 24),
              "InvalidArgumentException");
    // The 5-second rule: the same consumer and shard again too soon.
    subscribe({{"Type", "LATEST"}});
    clock_.advance(4999);
    EXPECT_EQ(error_of({{"Type", "LATEST"}}).substr(0, 23), "ResourceInUseException:");
    clock_.advance(1);
    EXPECT_EQ(error_of({{"Type", "LATEST"}}), "none");
    // An unknown consumer.
    consumer_arn_ = stream_arn_ + "/consumer/nope:1";
    EXPECT_EQ(error_of({{"Type", "LATEST"}}).substr(0, 26), "ResourceNotFoundException:");
}

}  // namespace

namespace {

TEST_F(subscribe_test, an_append_wakes_the_subscription_once_per_poll) {
    auto sub = subscribe({{"Type", "LATEST"}});
    int wakes = 0;
    sub->set_waker([&] { ++wakes; });
    EXPECT_TRUE(events(*sub).empty());
    EXPECT_EQ(sub->next_deadline_in(clock_.now_ms()), 5000);  // nothing to do: the heartbeat
    put("YQ==");
    EXPECT_EQ(wakes, 1);
    EXPECT_EQ(sub->next_deadline_in(clock_.now_ms()), 0);  // a wake during a write is not lost
    put("Yg==");
    EXPECT_EQ(wakes, 1);  // coalesced until the transport polls
    auto ev = events(*sub);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0]["Records"].size(), 2u);
    EXPECT_EQ(sub->next_deadline_in(clock_.now_ms()), 5000);
    put("Yw==");
    EXPECT_EQ(wakes, 2);
    // Gone: appends no longer call into it (the waker would touch a dead frame otherwise).
    sub.reset();
    put("ZA==");
    EXPECT_EQ(wakes, 2);
}

TEST_F(subscribe_test, closing_the_shard_wakes_the_subscription) {
    auto sub = subscribe({{"Type", "LATEST"}});
    int wakes = 0;
    sub->set_waker([&] { ++wakes; });
    EXPECT_TRUE(events(*sub).empty());
    call("SplitShard", {{"StreamName", "s"},
                        {"ShardToSplit", "shardId-000000000000"},
                        {"NewStartingHashKey", "170141183460469231731687303715884105728"}});
    EXPECT_EQ(wakes, 1);
    bool more = true;
    auto ev = events(*sub, &more);
    EXPECT_FALSE(more);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0]["ChildShards"].size(), 2u);
}

TEST_F(subscribe_test, a_full_event_leaves_the_rest_due_at_once) {
    // Three records of 768 KiB: an event holds at most 2 MiB, the third follows without waiting.
    std::string b64;
    for (int i = 0; i < (768 << 10) / 3; ++i) b64 += "eHh4";  // "xxx"
    for (int i = 0; i < 3; ++i) {
        put(b64);
        clock_.advance(1000);  // within the shard's 1 MiB/s
    }
    clock_.advance(5000);  // the subscription's own 2 MiB/s budget is full
    auto sub = subscribe({{"Type", "TRIM_HORIZON"}});
    auto first = events(*sub);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0]["Records"].size(), 2u);
    EXPECT_EQ(sub->next_deadline_in(clock_.now_ms()), 0);
    auto second = events(*sub);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0]["Records"].size(), 1u);
    EXPECT_EQ(sub->next_deadline_in(clock_.now_ms()), 5000);
}

}  // namespace
