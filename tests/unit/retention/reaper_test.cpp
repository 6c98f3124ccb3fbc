// The reaper's pass driven with a manual clock: which segments and shards it deletes, and that
// the read paths agree with it before and after it runs.
#include "kinesd/retention/reaper.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "kinesd/api/dispatch.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/common/base64.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/shard/sequence_number.hpp"
#include "kinesd/shard/stream_registry.hpp"
#include "support/api_test.hpp"
#include "kinesd/storage/segment_log.hpp"

using namespace kinesd;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr epoch_ms hour = 3'600'000;

class reaper_test : public test_support::api_test {
protected:
    reaper_test() : api_test("reaper_test", small_segments()) {
        cfg_.throttle = false;  // the manual clock stands still: read as often as needed
    }

    static registry_options small_segments() {
        registry_options o;
        o.segments.segment_bytes = 4096;  // a few records per segment
        return o;
    }

    void create(const std::string& name, int shards = 1) {
        call("CreateStream", {{"StreamName", name}, {"ShardCount", shards}});
    }

    // Puts `n` records of about 1000 bytes to shard 0 of `name`, tagged "<tag>-<i>".
    std::vector<std::string> put(const std::string& name, const std::string& tag, int n) {
        std::vector<std::string> seqs;
        for (int i = 0; i < n; ++i) {
            const std::string data = fmt::format("{}-{}-{}", tag, i, std::string(1000, 'x'));
            auto r = call("PutRecord", {{"StreamName", name},
                                        {"PartitionKey", "k"},
                                        {"ExplicitHashKey", "0"},
                                        {"Data", base64::encode(data)}});
            seqs.push_back(r["SequenceNumber"]);
        }
        return seqs;
    }

    std::string iterator(const std::string& name, const char* type = "TRIM_HORIZON",
                         const std::string& seq = {}) {
        json req{{"StreamName", name}, {"ShardId", "shardId-000000000000"}, {"ShardIteratorType", type}};
        if (!seq.empty()) req["StartingSequenceNumber"] = seq;
        return call("GetShardIterator", req)["ShardIterator"];
    }

    // The tags ("a-0", ...) of every record an iterator reads, following NextShardIterator.
    std::vector<std::string> read_tags(std::string it) {
        std::vector<std::string> tags;
        for (int page = 0; page < 100; ++page) {
            auto r = call("GetRecords", {{"ShardIterator", it}, {"Limit", 1000}});
            for (const auto& rec : r["Records"]) {
                auto data = *base64::decode(rec["Data"].get<std::string>());
                tags.push_back(data.substr(0, data.find('-', data.find('-') + 1)));
            }
            if (r["Records"].empty()) break;
            it = r["NextShardIterator"];
        }
        return tags;
    }

    std::shared_ptr<stream> find(const std::string& name) {
        return streams_.find(stream_key{cfg_.account_id, cfg_.region, name});
    }

    const storage::segment_log& log_of(const std::string& name, std::uint32_t shard = 0) {
        return dynamic_cast<const storage::segment_log&>(find(name)->shards()->find(shard)->log());
    }

    std::set<std::string> seg_files(const std::string& name, std::uint32_t shard = 0) {
        std::set<std::string> out;
        for (const auto& e : fs::directory_iterator(find(name)->dir / shard_id{shard}.str()))
            if (e.path().extension() == ".seg") out.insert(e.path().filename().string());
        return out;
    }

    std::uint64_t bytes_on_disk(const std::string& name) {
        std::uint64_t total = 0;
        for (const auto& e : fs::recursive_directory_iterator(find(name)->dir))
            if (e.is_regular_file() && e.path().filename() != "meta.json") total += e.file_size();
        return total;
    }

    retention::reap_report reap() { return retention::reap_expired(streams_, clock_.now_ms()); }
};

}  // namespace

TEST_F(reaper_test, deletes_exactly_the_segments_whose_records_all_expired) {
    create("s");
    const epoch_ms t0 = clock_.now_ms();
    put("s", "a", 20);
    clock_.advance(hour);
    put("s", "b", 20);
    clock_.advance(23 * hour + 1);  // the "a" records are 24 h + 1 ms old, the "b" ones 23 h

    const epoch_ms cutoff = clock_.now_ms() - 24 * hour;
    ASSERT_EQ(cutoff, t0 + 1);
    std::set<std::string> expired, kept;
    for (const auto& seg : *log_of("s").segments())
        (seg->last_arrival_ms() < cutoff ? expired : kept).insert(storage::segment_file_name(seg->ordinal()));
    ASSERT_GE(expired.size(), 2u);
    ASSERT_GE(kept.size(), 2u);

    const auto r = reap();
    EXPECT_EQ(r.streams, 1u);
    EXPECT_EQ(r.segments_deleted, expired.size());
    EXPECT_GT(r.bytes_freed, 0u);
    EXPECT_EQ(seg_files("s"), kept);
    EXPECT_EQ(find("s")->disk_bytes(), bytes_on_disk("s"));

    // A second pass at the same time has nothing to do.
    EXPECT_EQ(reap().segments_deleted, 0u);

    // TRIM_HORIZON starts at the oldest retained record: every "b", no "a".
    auto tags = read_tags(iterator("s"));
    ASSERT_EQ(tags.size(), 20u);
    EXPECT_EQ(tags.front(), "b-0");
    EXPECT_EQ(tags.back(), "b-19");
}

TEST_F(reaper_test, a_shard_whose_records_all_expired_keeps_none_on_disk) {
    create("s");
    const auto seqs = put("s", "a", 10);
    const auto before = seg_files("s");
    clock_.advance(24 * hour + 1);
    const std::uint64_t bytes_before = find("s")->disk_bytes();
    EXPECT_EQ(reap().segments_deleted, before.size());
    for (const auto& f : seg_files("s")) EXPECT_FALSE(before.contains(f)) << f;
    EXPECT_LT(find("s")->disk_bytes(), bytes_before);
    EXPECT_EQ(find("s")->disk_bytes(), bytes_on_disk("s"));

    // New records go on after the expired ones, with higher sequence numbers.
    const auto next = put("s", "b", 1);
    EXPECT_GT(*parse_decimal_u128(next[0]), *parse_decimal_u128(seqs.back()));
    EXPECT_EQ(read_tags(iterator("s")), std::vector<std::string>{"b-0"});
}

TEST_F(reaper_test, read_paths_skip_expired_records_before_the_reaper_runs) {
    create("s");
    const auto old_seqs = put("s", "a", 5);
    clock_.advance(24 * hour - 60'000);
    const std::string held = iterator("s");  // issued a minute before the records expire
    clock_.advance(60'001);
    put("s", "b", 2);

    EXPECT_EQ(read_tags(iterator("s")), (std::vector<std::string>{"b-0", "b-1"}));
    // An iterator issued before the records expired reads only what is still retained.
    EXPECT_EQ(read_tags(held), (std::vector<std::string>{"b-0", "b-1"}));
    // A sequence number of an expired record is accepted and reads from the trim horizon.
    EXPECT_EQ(read_tags(iterator("s", "AT_SEQUENCE_NUMBER", old_seqs[2])),
              (std::vector<std::string>{"b-0", "b-1"}));
    EXPECT_EQ(read_tags(iterator("s", "AFTER_SEQUENCE_NUMBER", old_seqs[4])),
              (std::vector<std::string>{"b-0", "b-1"}));
    // AT_TIMESTAMP before the trim horizon, likewise.
    auto at = call("GetShardIterator", {{"StreamName", "s"},
                                        {"ShardId", "shardId-000000000000"},
                                        {"ShardIteratorType", "AT_TIMESTAMP"},
                                        {"Timestamp", 0}})["ShardIterator"];
    EXPECT_EQ(read_tags(at), (std::vector<std::string>{"b-0", "b-1"}));
    // After the pass, the same.
    reap();
    EXPECT_EQ(read_tags(iterator("s")), (std::vector<std::string>{"b-0", "b-1"}));
}

TEST_F(reaper_test, retention_changes_take_effect_on_the_next_pass) {
    create("s");
    put("s", "a", 20);
    call("IncreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 48}});
    clock_.advance(30 * hour);
    EXPECT_EQ(reap().segments_deleted, 0u);
    EXPECT_EQ(read_tags(iterator("s")).size(), 20u);

    // A decrease hides the records at once, and the next pass deletes them.
    call("DecreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 24}});
    EXPECT_TRUE(read_tags(iterator("s")).empty());
    const auto files = seg_files("s");
    EXPECT_EQ(reap().segments_deleted, files.size());
    for (const auto& f : seg_files("s")) EXPECT_FALSE(files.contains(f));
}

TEST_F(reaper_test, an_increase_does_not_bring_back_expired_records) {
    create("s");
    put("s", "a", 3);
    clock_.advance(24 * hour + 1);  // expired, not yet reaped
    put("s", "b", 1);
    call("IncreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 72}});
    EXPECT_EQ(read_tags(iterator("s")), std::vector<std::string>{"b-0"});
    EXPECT_GT(reap().segments_deleted, 0u);
    EXPECT_EQ(read_tags(iterator("s")), std::vector<std::string>{"b-0"});
    // The "b" record now lives for 72 hours.
    clock_.advance(71 * hour);
    EXPECT_EQ(read_tags(iterator("s")), std::vector<std::string>{"b-0"});
    clock_.advance(hour + 1);
    EXPECT_TRUE(read_tags(iterator("s")).empty());
}

TEST_F(reaper_test, closed_shards_disappear_once_all_their_records_expired) {
    create("s", 2);
    put("s", "a", 3);  // to shard 0 (explicit hash key 0)
    auto s = find("s");
    const uint128 last = s->shards()->find(0)->log().last_seq();
    // Close shard 0 as resharding does: its ending sequence number is set in the settings.
    ASSERT_FALSE(s->update([&](stream_settings& st) { st.shards[0].ending_seq = last; }));
    const fs::path shard0_dir = s->dir / "shardId-000000000000";
    ASSERT_TRUE(fs::exists(shard0_dir));

    clock_.advance(24 * hour - 1);  // not expired yet
    EXPECT_EQ(reap().shards_dropped, 0u);
    EXPECT_EQ(call("ListShards", {{"StreamName", "s"}})["Shards"].size(), 2u);

    clock_.advance(2);
    const auto r = reap();
    EXPECT_EQ(r.shards_dropped, 1u);
    auto listed = call("ListShards", {{"StreamName", "s"}})["Shards"];
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["ShardId"], "shardId-000000000001");
    auto described = call("DescribeStream", {{"StreamName", "s"}})["StreamDescription"]["Shards"];
    ASSERT_EQ(described.size(), 1u);
    EXPECT_EQ(described[0]["ShardId"], "shardId-000000000001");
    EXPECT_FALSE(fs::exists(shard0_dir));
    try {
        iterator("s");
        FAIL() << "an iterator for a removed shard";
    } catch (const api_error& e) {
        EXPECT_EQ(e.type, "ResourceNotFoundException");
    }
    // The open shard stays even though it never had a record.
    EXPECT_EQ(reap().shards_dropped, 0u);

    // Persisted: a restart does not bring the shard back.
    registry_options o = small_segments();
    o.data_dir = dir_.path();
    stream_registry reopened(o, clock_);
    auto again = reopened.find(stream_key{cfg_.account_id, cfg_.region, "s"});
    ASSERT_TRUE(again);
    ASSERT_EQ(again->settings().shards.size(), 1u);
    EXPECT_EQ(again->settings().shards[0].id.index, 1u);
}

TEST_F(reaper_test, a_closed_shard_without_records_stays_for_a_retention_period_after_closing) {
    create("s", 2);
    auto s = find("s");
    clock_.advance(48 * hour);
    // Closed now, never written: its ending sequence number carries the closing time.
    const uint128 ending = sequence_number::first_of(0, clock_.now_ms()).value;
    ASSERT_FALSE(s->update([&](stream_settings& st) { st.shards[0].ending_seq = ending; }));
    EXPECT_EQ(reap().shards_dropped, 0u);
    clock_.advance(24 * hour + 1);
    EXPECT_EQ(reap().shards_dropped, 1u);
}

TEST_F(reaper_test, the_reaper_thread_stops_promptly_between_passes) {
    // An interval far longer than the test: stop() must wake the thread, not wait for it.
    retention::reaper r(streams_, clock_, std::chrono::hours(1));
    r.start();
    const auto t0 = std::chrono::steady_clock::now();
    r.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    r.stop();  // idempotent
}
