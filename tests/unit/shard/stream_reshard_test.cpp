#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "kinesd/api/error.hpp"
#include "kinesd/shard/sequence_number.hpp"
#include "kinesd/shard/stream_registry.hpp"
#include "support/api_test.hpp"

using namespace kinesd;
namespace fs = std::filesystem;

namespace {

using kinesd::test_support::make_request;
using kinesd::test_support::temp_dir;

registry_options options(const fs::path& dir, std::int64_t update_ms = 0) {
    registry_options o;
    o.data_dir = dir;
    o.update_stream_ms = update_ms;
    return o;
}

std::error_code append(shard& s, std::string_view data, epoch_ms now, uint128* seq_out = nullptr) {
    storage::append_batch batch;
    batch.add_copy("key", {}, std::as_bytes(std::span(data.data(), data.size())));
    uint128 seq = 0;
    epoch_ms arrival = 0;
    auto ec = s.append(batch, now, 0, {&seq, 1}, arrival);
    if (seq_out) *seq_out = seq;
    return ec;
}

// A split of shard 0 at its halving key, as SplitShard plans it.
std::function<stream::reshard_change(const stream_settings&, std::uint32_t)> split_first(
    epoch_ms now, std::int64_t update_ms = 0) {
    return [=](const stream_settings& st, std::uint32_t) {
        std::vector<open_shard> open;
        for (const auto& i : st.shards)
            if (!i.ending_seq) open.push_back({i.id.index, i.range});
        reshard_planner p(open, st.next_shard_index);
        EXPECT_TRUE(p.split(0, halving_key(st.shards[0].range)));
        stream::reshard_change c;
        c.closing = p.closed_existing();
        c.created = p.created();
        c.next_shard_index = p.next_index();
        c.mutate = [=](stream_settings& s) {
            if (update_ms > 0) {
                s.status = stream_status::updating;
                s.status_until_ms = now + update_ms;
            }
        };
        return c;
    };
}

TEST(stream_reshard, split_closes_the_parent_and_routes_to_the_children) {
    temp_dir dir;
    manual_clock clk;
    stream_registry reg(options(dir.path()), clk);
    auto s = reg.create(make_request("s", 1));
    auto before = s->shards();
    shard* parent = before->find(0);
    uint128 last = 0;
    ASSERT_FALSE(append(*parent, "old", clk.now_ms(), &last));
    clk.advance(5);
    reg.reshard(*s, split_first(clk.now_ms()));

    // The old table still routes to the parent, which now refuses: the caller re-routes.
    EXPECT_EQ(append(*parent, "late", clk.now_ms()), make_error_code(shard_errc::closed));
    auto after = s->shards();
    ASSERT_EQ(after->open.size(), 2u);
    EXPECT_EQ(after->route(0)->info().id.index, 1u);
    EXPECT_EQ(after->route(uint128_max)->info().id.index, 2u);
    const shard_info* closed = after->info(0);
    ASSERT_TRUE(closed && closed->ending_seq);
    EXPECT_GE(*closed->ending_seq, last);
    EXPECT_EQ(sequence_number{*closed->ending_seq}.shard_index(), 0u);
    EXPECT_EQ(after->info(1)->parent, shard_id{0});
    EXPECT_EQ(after->info(2)->parent, shard_id{0});
    EXPECT_FALSE(after->info(2)->adjacent_parent);
    EXPECT_EQ(s->settings().next_shard_index, 3u);
    EXPECT_FALSE(append(*after->route(0), "new", clk.now_ms()));
    EXPECT_EQ(reg.open_shard_count("000000000000", "us-east-1"), 2u);
}

TEST(stream_reshard, stream_is_updating_for_the_configured_time) {
    temp_dir dir;
    manual_clock clk;
    stream_registry reg(options(dir.path(), 30'000), clk);
    auto s = reg.create(make_request("s", 1));
    reg.reshard(*s, split_first(clk.now_ms(), 30'000));
    EXPECT_EQ(s->status(clk.now_ms()), stream_status::updating);
    EXPECT_TRUE(s->writable(clk.now_ms()));
    clk.advance(30'000);
    EXPECT_EQ(s->status(clk.now_ms()), stream_status::active);
}

TEST(stream_reshard, a_refused_change_changes_nothing) {
    temp_dir dir;
    manual_clock clk;
    stream_registry reg(options(dir.path()), clk);
    auto s = reg.create(make_request("s", 2));
    EXPECT_THROW(reg.reshard(*s,
                             [](const stream_settings&, std::uint32_t) -> stream::reshard_change {
                                 throw api_error::invalid_argument("no");
                             }),
                 api_error);
    EXPECT_EQ(s->settings().shards.size(), 2u);
    EXPECT_FALSE(append(*s->shards()->find(0), "still open", clk.now_ms()));
}

TEST(stream_reshard, lineage_and_records_survive_a_restart) {
    temp_dir dir;
    manual_clock clk;
    stream_settings before;
    {
        stream_registry reg(options(dir.path()), clk);
        auto s = reg.create(make_request("s", 1));
        ASSERT_FALSE(append(*s->shards()->find(0), "parent record", clk.now_ms()));
        clk.advance(1);
        reg.reshard(*s, split_first(clk.now_ms()));
        ASSERT_FALSE(append(*s->shards()->find(2), "child record", clk.now_ms()));
        before = s->settings();
    }
    stream_registry reg(options(dir.path()), clk);
    auto s = reg.find(stream_key{"000000000000", "us-east-1", "s"});
    ASSERT_TRUE(s);
    const auto after = s->settings();
    ASSERT_EQ(after.shards.size(), before.shards.size());
    for (std::size_t i = 0; i < after.shards.size(); ++i) {
        EXPECT_EQ(after.shards[i].id, before.shards[i].id);
        EXPECT_EQ(after.shards[i].range, before.shards[i].range);
        EXPECT_EQ(after.shards[i].parent, before.shards[i].parent);
        EXPECT_EQ(after.shards[i].ending_seq, before.shards[i].ending_seq);
    }
    EXPECT_EQ(after.next_shard_index, 3u);
    auto table = s->shards();
    EXPECT_EQ(table->open.size(), 2u);
    // The recovered parent stays closed and keeps its record.
    EXPECT_EQ(append(*table->find(0), "late", clk.now_ms()), make_error_code(shard_errc::closed));
    EXPECT_NE(table->find(0)->log().last_seq(), 0u);
    EXPECT_NE(table->find(2)->log().last_seq(), 0u);
}

// meta.json damaged after a split: recovery falls back to meta.json.prev (the version before the
// split), which does not list the children. Their records must survive, and a new split must not
// reuse their ids (it once deleted such a "leftover" log with its records).
TEST(stream_reshard, a_fallback_to_the_previous_metadata_never_reuses_or_deletes_a_child) {
    temp_dir dir;
    manual_clock clk;
    fs::path stream_dir;
    {
        stream_registry reg(options(dir.path()), clk);
        auto s = reg.create(make_request("s", 1));
        stream_dir = s->dir;
        clk.advance(1);
        reg.reshard(*s, split_first(clk.now_ms()));
        ASSERT_FALSE(append(*s->shards()->find(2), "child record", clk.now_ms()));
    }
    ASSERT_TRUE(fs::exists(stream_dir / "meta.json.prev"));
    { std::ofstream(stream_dir / "meta.json", std::ios::trunc) << "{ damaged"; }

    stream_registry reg(options(dir.path()), clk);
    auto s = reg.find(stream_key{"000000000000", "us-east-1", "s"});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->settings().shards.size(), 1u);      // the version before the split
    EXPECT_EQ(s->settings().next_shard_index, 3u);   // past the children on disk
    clk.advance(1);
    reg.reshard(*s, split_first(clk.now_ms()));
    const auto after = s->settings();
    ASSERT_EQ(after.shards.size(), 3u);
    EXPECT_EQ(after.shards[1].id.index, 3u);
    EXPECT_EQ(after.shards[2].id.index, 4u);
    std::uintmax_t child_bytes = 0;  // kept, records and all
    for (const auto& f : fs::recursive_directory_iterator(stream_dir / "shardId-000000000002"))
        if (f.is_regular_file()) child_bytes += f.file_size();
    EXPECT_GT(child_bytes, std::string_view("child record").size());
}

// Appends racing a split: each is acknowledged either on the parent before its
// EndingSequenceNumber or refused (closed) and then acknowledged on a child.
TEST(stream_reshard, no_append_is_acknowledged_on_a_parent_after_it_closes) {
    temp_dir dir;
    manual_clock clk;
    stream_registry reg(options(dir.path()), clk);
    auto s = reg.create(make_request("s", 1));
    std::vector<uint128> parent_seqs;
    std::size_t child_acks = 0;
    std::thread writer([&] {
        while (true) {
            auto table = s->shards();
            shard* target = table->route(12345);
            uint128 seq = 0;
            auto ec = append(*target, "x", clk.now_ms(), &seq);
            if (ec == make_error_code(shard_errc::closed)) continue;  // re-route
            ASSERT_FALSE(ec);
            if (target->info().id.index == 0)
                parent_seqs.push_back(seq);
            else if (++child_acks > 50)
                break;
        }
    });
    reg.reshard(*s, split_first(clk.now_ms()));
    writer.join();
    const auto ending = *s->shards()->info(0)->ending_seq;
    for (auto seq : parent_seqs) EXPECT_LE(seq, ending);
    EXPECT_GT(child_acks, 50u);
}

}  // namespace
