#include "kinesd/shard/stream_registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <thread>

#include "../storage/fault_io.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/shard/sequence_number.hpp"
#include "kinesd/storage/commit_pipeline.hpp"
#include "support/api_test.hpp"

using namespace kinesd;
namespace fs = std::filesystem;

namespace {

using kinesd::test_support::make_request;
using kinesd::test_support::temp_dir;

registry_options options(const fs::path& dir, std::uint32_t shard_limit = 500,
                         std::int64_t create_ms = 0, std::int64_t delete_ms = 0) {
    registry_options o;
    o.data_dir = dir;
    o.shard_limit = shard_limit;
    o.create_stream_ms = create_ms;
    o.delete_stream_ms = delete_ms;
    return o;
}

std::vector<std::string> read_all(const shard& s) {
    std::vector<std::string> out;
    storage::read_request req;
    s.log().read(req, [&](const storage::record_view& r) {
        out.emplace_back(reinterpret_cast<const char*>(r.data.data()), r.data.size());
    });
    return out;
}

void append(shard& s, std::string_view data, epoch_ms now) {
    storage::append_batch batch;
    batch.add_copy("key", {}, std::as_bytes(std::span(data.data(), data.size())));
    uint128 seq = 0;
    epoch_ms arrival = 0;
    ASSERT_FALSE(s.append(batch, now, 0, {&seq, 1}, arrival));
}

}  // namespace

TEST(stream_registry, creates_streams_with_evenly_split_shards) {
    temp_dir dir;
    manual_clock clock;
    stream_registry reg(options(dir.path()), clock);
    auto s = reg.create(make_request("orders", 3));
    auto table = s->shards();
    ASSERT_EQ(table->all.size(), 3u);
    ASSERT_EQ(table->open.size(), 3u);
    EXPECT_EQ(table->open[0]->info().range.start, 0);
    EXPECT_EQ(table->open[2]->info().range.end, uint128_max);
    EXPECT_EQ(table->route(0), table->open[0]);
    EXPECT_EQ(table->route(uint128_max), table->open[2]);
    EXPECT_EQ(s->arn, "arn:aws:kinesis:us-east-1:000000000000:stream/orders");
    EXPECT_EQ(reg.find({"000000000000", "us-east-1", "orders"}), s);
    EXPECT_EQ(reg.find({"000000000000", "us-west-2", "orders"}), nullptr);
}

TEST(stream_registry, duplicate_names_and_the_shard_limit_are_refused) {
    temp_dir dir;
    manual_clock clock;
    stream_registry reg(options(dir.path(), 5), clock);
    reg.create(make_request("a", 3));
    try {
        reg.create(make_request("a", 1));
        FAIL();
    } catch (const api_error& e) {
        EXPECT_EQ(e.type, "ResourceInUseException");
    }
    try {
        reg.create(make_request("b", 3));
        FAIL();
    } catch (const api_error& e) {
        EXPECT_EQ(e.type, "LimitExceededException");
    }
    reg.create(make_request("b", 2));
    EXPECT_EQ(reg.open_shard_count("000000000000", "us-east-1"), 5u);
}

TEST(stream_registry, streams_and_records_survive_a_restart) {
    temp_dir dir;
    manual_clock clock;
    std::uint64_t uid = 0;
    {
        stream_registry reg(options(dir.path()), clock);
        auto s = reg.create(make_request("orders", 2));
        uid = s->uid;
        append(*s->shards()->open[1], "one", clock.now_ms());
        append(*s->shards()->open[1], "two", clock.now_ms());
    }
    stream_registry reg(options(dir.path()), clock);
    auto s = reg.find({"000000000000", "us-east-1", "orders"});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->uid, uid);
    ASSERT_EQ(s->shards()->open.size(), 2u);
    EXPECT_EQ(read_all(*s->shards()->open[1]), (std::vector<std::string>{"one", "two"}));
    EXPECT_TRUE(read_all(*s->shards()->open[0]).empty());
}

// The iterator key is made on first use, not at startup (no fsync in an empty start), and an
// iterator issued before a restart still decodes after it.
TEST(stream_registry, the_iterator_key_is_made_on_first_use_and_kept_across_restarts) {
    temp_dir dir;
    manual_clock clock;
    const iterator_position pos{.stream_name = "orders", .stream_uid = 7, .shard_index = 1,
                                .after_seq = 42, .min_arrival_ms = 0, .issued_ms = 1000};
    std::string text;
    {
        stream_registry reg(options(dir.path()), clock);
        EXPECT_FALSE(fs::exists(dir.path() / "iterator.key"));
        text = reg.iterators().encode(pos);
        EXPECT_EQ(fs::file_size(dir.path() / "iterator.key"), 32u);
        EXPECT_EQ(reg.iterators().decode(text), pos);  // the same key on later calls
    }
    stream_registry reg(options(dir.path()), clock);
    EXPECT_EQ(reg.iterators().decode(text), pos);
    // A key that cannot be read or made fails the call, and the next call tries again.
    temp_dir other;
    stream_registry blocked(options(other.path()), clock);
    fs::create_directory(other.path() / "iterator.key.tmp");  // the atomic write cannot create it
    EXPECT_THROW(blocked.iterators(), std::runtime_error);
    fs::remove(other.path() / "iterator.key.tmp");
    EXPECT_EQ(blocked.iterators().decode(blocked.iterators().encode(pos)), pos);
}

TEST(stream_registry, state_transitions_follow_the_clock) {
    temp_dir dir;
    manual_clock clock;
    stream_registry reg(options(dir.path(), 500, 500, 500), clock);
    auto s = reg.create(make_request("slow", 1));
    EXPECT_EQ(s->status(clock.now_ms()), stream_status::creating);
    EXPECT_FALSE(s->writable(clock.now_ms()));
    clock.advance(500);
    EXPECT_EQ(s->status(clock.now_ms()), stream_status::active);
    reg.remove({"000000000000", "us-east-1", "slow"});
    EXPECT_EQ(s->status(clock.now_ms()), stream_status::deleting);
    EXPECT_TRUE(reg.find({"000000000000", "us-east-1", "slow"}));
    clock.advance(500);
    EXPECT_FALSE(reg.find({"000000000000", "us-east-1", "slow"}));
    EXPECT_FALSE(fs::exists(s->dir));
}

TEST(stream_registry, deleted_streams_leave_no_files_and_a_new_incarnation_starts_empty) {
    temp_dir dir;
    manual_clock clock;
    stream_registry reg(options(dir.path()), clock);
    auto first = reg.create(make_request("orders", 1));
    append(*first->shards()->open[0], "old", clock.now_ms());
    reg.remove({"000000000000", "us-east-1", "orders"});
    EXPECT_FALSE(fs::exists(first->dir));
    auto second = reg.create(make_request("orders", 1));
    EXPECT_NE(second->uid, first->uid);
    EXPECT_TRUE(read_all(*second->shards()->open[0]).empty());
}

TEST(stream_registry, an_interrupted_create_or_delete_is_finished_at_start) {
    temp_dir dir;
    manual_clock clock;
    {
        stream_registry reg(options(dir.path()), clock);
        reg.create(make_request("kept", 1));
    }
    // A create that crashed before meta.json, and a delete that crashed after the rename.
    fs::create_directories(dir.path() / "streams" / "00000000deadbeef" / "shardId-000000000000");
    fs::create_directories(dir.path() / "trash" / "00000000feedface");
    stream_registry reg(options(dir.path()), clock);
    EXPECT_EQ(reg.stream_count(), 1u);
    EXPECT_FALSE(fs::exists(dir.path() / "streams" / "00000000deadbeef"));
    EXPECT_FALSE(fs::exists(dir.path() / "trash" / "00000000feedface"));
}

TEST(shard, sequence_numbers_increase_and_respect_the_ordering_floor) {
    temp_dir dir;
    manual_clock clock;
    stream_registry reg(options(dir.path()), clock);
    auto s = reg.create(make_request("orders", 1));
    shard& sh = *s->shards()->open[0];
    storage::append_batch batch;
    std::string_view data = "x";
    batch.add_copy("k", {}, std::as_bytes(std::span(data.data(), data.size())));
    uint128 a = 0, b = 0;
    epoch_ms arrival = 0;
    ASSERT_FALSE(sh.append(batch, clock.now_ms(), 0, {&a, 1}, arrival));
    EXPECT_GE(a, sh.info().starting_seq);
    const uint128 floor = a + 1000;
    ASSERT_FALSE(sh.append(batch, clock.now_ms() - 5000, floor, {&b, 1}, arrival));
    EXPECT_GT(b, floor);
    EXPECT_EQ(arrival, clock.now_ms());  // arrival never goes back within a shard
    EXPECT_EQ(sequence_number{b}.shard_index(), 0u);
}

TEST(stream_registry, damaged_metadata_falls_back_to_the_previous_version) {
    temp_dir dir;
    manual_clock clock;
    fs::path stream_dir;
    {
        stream_registry reg(options(dir.path()), clock);
        auto s = reg.create(make_request("orders", 1));
        stream_dir = s->dir;
        append(*s->shards()->open[0], "kept", clock.now_ms());
        ASSERT_FALSE(s->update([](stream_settings& st) { st.retention_hours = 48; }));
    }
    ASSERT_TRUE(fs::exists(stream_dir / "meta.json.prev"));
    // meta.json written halfway (as a disk that lied about an fsync could leave it), and a
    // replace that crashed before its rename.
    const auto size = fs::file_size(stream_dir / "meta.json");
    fs::resize_file(stream_dir / "meta.json", size / 2);
    { std::ofstream(stream_dir / "meta.json.tmp") << "{\"version\":"; }

    stream_registry reg(options(dir.path()), clock);
    auto s = reg.find({"000000000000", "us-east-1", "orders"});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->retention_hours(), 24);  // the previous version
    EXPECT_EQ(read_all(*s->shards()->open[0]), (std::vector<std::string>{"kept"}));
    EXPECT_FALSE(fs::exists(stream_dir / "meta.json.tmp"));
    // meta.json was rewritten whole: the next start reads it directly.
    std::ifstream in(stream_dir / "meta.json");
    EXPECT_FALSE(nlohmann::json::parse(in, nullptr, false).is_discarded());
}

TEST(stream_registry, sync_all_fsyncs_every_shard_and_reports_failures) {
    temp_dir dir;
    manual_clock clock;
    storage::testing::fault_io io;
    auto opts = options(dir.path());
    opts.segments.io = &io;
    stream_registry reg(opts, clock);
    auto s = reg.create(make_request("orders", 3));
    for (auto* sh : s->shards()->open) append(*sh, "x", clock.now_ms());
    EXPECT_EQ(reg.sync_all(), 0u);
    EXPECT_EQ(io.calls(storage::testing::io_op::fdatasync), 3);
    for (auto* sh : s->shards()->open) append(*sh, "y", clock.now_ms());
    io.fail({.op = storage::testing::io_op::fdatasync, .error = EIO, .times = 1, .path_part = {}});
    EXPECT_EQ(reg.sync_all(), 1u);
}

TEST(shard, with_fsync_always_an_append_fails_when_its_fsync_fails) {
    temp_dir dir;
    manual_clock clock;
    storage::testing::fault_io io;
    auto opts = options(dir.path());
    opts.segments.io = &io;
    opts.segments.fsync = storage::fsync_policy::always;
    stream_registry reg(opts, clock);
    auto s = reg.create(make_request("orders", 1));
    shard& sh = *s->shards()->open[0];
    append(sh, "durable", clock.now_ms());
    EXPECT_EQ(io.calls(storage::testing::io_op::fdatasync), 1);
    io.fail({.op = storage::testing::io_op::fdatasync, .error = EIO, .times = 1, .path_part = {}});
    storage::append_batch batch;
    std::string_view data = "not acknowledged";
    batch.add_copy("k", {}, std::as_bytes(std::span(data.data(), data.size())));
    uint128 seq = 0;
    epoch_ms arrival = 0;
    EXPECT_EQ(sh.append(batch, clock.now_ms(), 0, {&seq, 1}, arrival),
              make_error_code(storage::storage_errc::io_error));
    append(sh, "durable again", clock.now_ms());
}

// Producers on one shard with fsync=always (group commit), the registry's syncer and a reader,
// all at once (run under ThreadSanitizer by scripts/test-sanitizers.sh): every record is
// acknowledged once, readable, and in sequence order. With `async_commits`, the producers leave
// the fsync wait to commit_async() on a pool of fsync threads, as kinesd's transports do.
void run_concurrent_appends_with_fsync_always(bool async_commits) {
    temp_dir dir;
    manual_clock clock;
    boost::asio::thread_pool fsync_thread(1);  // outlives the registry
    storage::commit_pipeline pipeline(
        {.runner =
             [&](std::function<void()> job) { boost::asio::post(fsync_thread, std::move(job)); },
         .dir = dir.path(),
         .use_syncfs = std::nullopt,
         .io = nullptr});
    auto opts = options(dir.path());
    opts.segments.fsync = storage::fsync_policy::always;
    opts.segments.segment_bytes = 4096;  // rolls while others wait on fsyncs
    if (async_commits) opts.segments.pipeline = &pipeline;
    stream_registry reg(opts, clock);
    auto s = reg.create(make_request("orders", 1));
    shard& sh = *s->shards()->open[0];
    constexpr int producers = 4, per_producer = 150;
    std::atomic<bool> done{false};
    std::atomic<int> failures{0};
    std::thread syncer([&] {
        while (!done.load()) reg.sync_all();
    });
    std::thread reader([&] {
        while (!done.load()) {
            uint128 last = 0;
            storage::read_request req;
            sh.log().read(req, [&](const storage::record_view& r) {
                if (r.seq <= last) failures.fetch_add(1);
                last = r.seq;
            });
        }
    });
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            for (int i = 0; i < per_producer; ++i) {
                storage::append_batch batch;
                const std::string data = std::to_string(p) + ":" + std::to_string(i);
                batch.add_copy("k", {}, std::as_bytes(std::span(data.data(), data.size())));
                uint128 seq = 0;
                epoch_ms arrival = 0;
                std::uint64_t ticket = 0;
                if (sh.append(batch, clock.now_ms(), 0, {&seq, 1}, arrival,
                              async_commits ? &ticket : nullptr))
                    failures.fetch_add(1);
                if (!async_commits) continue;
                if (ticket == 0) failures.fetch_add(1);  // fsync=always: there is a wait to leave
                std::promise<std::error_code> committed;
                sh.commit_async(ticket, [&](std::error_code ec) { committed.set_value(ec); });
                if (committed.get_future().get()) failures.fetch_add(1);
            }
        });
    for (auto& t : threads) t.join();
    done = true;
    syncer.join();
    reader.join();
    EXPECT_EQ(failures.load(), 0);
    auto records = read_all(sh);
    EXPECT_EQ(records.size(), static_cast<std::size_t>(producers * per_producer));
    std::sort(records.begin(), records.end());
    EXPECT_EQ(std::unique(records.begin(), records.end()), records.end());
}

TEST(shard, concurrent_appends_with_fsync_always_a_syncer_and_a_reader) {
    run_concurrent_appends_with_fsync_always(false);
}

TEST(shard, concurrent_async_commits_with_fsync_always_a_syncer_and_a_reader) {
    run_concurrent_appends_with_fsync_always(true);
}

// An append given a commit ticket returns before the fsync; the records are acknowledged only
// by commit_async(), after one.
TEST(shard, an_append_can_leave_its_fsync_to_the_caller) {
    temp_dir dir;
    manual_clock clock;
    storage::testing::fault_io io;
    boost::asio::thread_pool fsync_thread(1);
    storage::commit_pipeline pipeline(
        {.runner =
             [&](std::function<void()> job) { boost::asio::post(fsync_thread, std::move(job)); },
         .dir = dir.path(),
         .use_syncfs = std::nullopt,
         .io = &io});
    auto opts = options(dir.path());
    opts.segments.io = &io;
    opts.segments.fsync = storage::fsync_policy::always;
    opts.segments.pipeline = &pipeline;
    stream_registry reg(opts, clock);
    auto s = reg.create(make_request("orders", 1));
    shard& sh = *s->shards()->open[0];
    storage::append_batch batch;
    std::string_view data = "acknowledged after its fsync";
    batch.add_copy("k", {}, std::as_bytes(std::span(data.data(), data.size())));
    uint128 seq = 0;
    epoch_ms arrival = 0;
    std::uint64_t ticket = 0;
    ASSERT_FALSE(sh.append(batch, clock.now_ms(), 0, {&seq, 1}, arrival, &ticket));
    EXPECT_NE(ticket, 0u);
    EXPECT_EQ(io.calls(storage::testing::io_op::fdatasync), 0);  // left to the caller
    std::promise<std::error_code> committed;
    sh.commit_async(ticket, [&](std::error_code ec) { committed.set_value(ec); });
    EXPECT_FALSE(committed.get_future().get());
    EXPECT_EQ(io.calls(storage::testing::io_op::fdatasync), 1);

    // Other policies have nothing to leave: the ticket stays 0.
    auto never = options(dir.path() / "never");
    never.segments.fsync = storage::fsync_policy::never;
    stream_registry reg2(never, clock);
    shard& sh2 = *reg2.create(make_request("orders", 1))->shards()->open[0];
    ticket = 7;
    ASSERT_FALSE(sh2.append(batch, clock.now_ms(), 0, {&seq, 1}, arrival, &ticket));
    EXPECT_EQ(ticket, 0u);
}
