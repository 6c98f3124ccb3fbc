#include "kinesd/storage/segment_log.hpp"
#include "support/api_test.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace kinesd::storage {
namespace {

namespace fs = std::filesystem;

using kinesd::test_support::temp_dir;

// Record seq's content: a key and data derived from seq, so any record can be checked alone.
std::string key_of(seqno seq) { return fmt::format("pk-{}", static_cast<std::uint64_t>(seq)); }
std::string data_of(seqno seq) {
    std::string s(static_cast<std::size_t>(seq % 60) + 20, '\0');
    for (std::size_t i = 0; i < s.size(); ++i)
        s[i] = static_cast<char>('a' + (static_cast<std::size_t>(seq) * 7 + i) % 26);
    return s;
}

std::string str(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

struct record {
    seqno seq;
    epoch_ms arrival_ms;
    std::string key;
    std::string ehk;
    std::string data;
};

// Appends records first..first+count-1 in one batch.
std::error_code append_range(shard_log& log, seqno first, std::size_t count, epoch_ms arrival) {
    append_batch batch;
    std::vector<seqno> seqs;
    for (std::size_t i = 0; i < count; ++i) {
        const seqno seq = first + i;
        const std::string data = data_of(seq);
        batch.add_copy(key_of(seq), {}, std::as_bytes(std::span(data)));
        seqs.push_back(seq);
    }
    return log.append(batch, seqs, arrival);
}

// Appends records 1..n, `per_batch` at a time, arrival 1000 + seq / 10 (of the batch's first).
void fill(shard_log& log, std::size_t n, std::size_t per_batch = 5) {
    for (seqno seq = 1; seq <= n; seq += per_batch) {
        const std::size_t count =
            std::min<std::size_t>(per_batch, n - static_cast<std::size_t>(seq) + 1);
        ASSERT_FALSE(append_range(log, seq, count, 1000 + static_cast<epoch_ms>(seq / 10)));
    }
}

std::vector<record> read_all(const shard_log& log, read_request req = {},
                             read_result* result = nullptr) {
    std::vector<record> out;
    auto r = log.read(req, [&](const record_view& v) {
        out.push_back({v.seq, v.arrival_ms, std::string(v.partition_key), str(v.explicit_hash_key),
                       str(v.data)});
    });
    EXPECT_EQ(r.records, out.size());
    if (result != nullptr) *result = r;
    return out;
}

// Checks that records are exactly seqs first..last, each with its own content.
void expect_range(const std::vector<record>& recs, seqno first, seqno last) {
    ASSERT_EQ(recs.size(), static_cast<std::size_t>(last - first + 1));
    for (std::size_t i = 0; i < recs.size(); ++i) {
        ASSERT_TRUE(recs[i].seq == first + i) << i;
        EXPECT_EQ(recs[i].key, key_of(recs[i].seq));
        EXPECT_EQ(recs[i].data, data_of(recs[i].seq));
    }
}

std::vector<fs::path> files_with(const fs::path& dir, std::string_view ext) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ext) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

void flip_byte(const fs::path& file, std::uint64_t offset) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5A);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
}

// The stored index entries of a segment (offset, record number).
std::vector<index_file::stored_entry> stored_index(const fs::path& idx) {
    std::ifstream in(idx, std::ios::binary);
    std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = index_file::parse(std::as_bytes(std::span(raw)));
    return parsed ? *parsed : std::vector<index_file::stored_entry>{};
}

class segment_log_test : public ::testing::Test {
  protected:
    fs::path dir() const { return tmp_.path() / "shard-000"; }
    std::unique_ptr<segment_log> open(recovery_report* out = nullptr) {
        recovery_report r;
        auto log = segment_log::open(dir(), options_, r);
        if (out != nullptr) *out = r;
        return log;
    }

    // 300 records written by a log that is then closed; where to damage its second (sealed)
    // segment between two index entries, which the quick open does not check.
    struct unindexed_frame {
        fs::path segment;
        std::vector<index_file::stored_entry> entries;  // the segment's stored index
        std::uint64_t offset = 0;  // of the frame right after entries[1], not indexed itself
        std::uint64_t length = 0;  // of that frame
        seqno seq = 0;             // its record's
    };
    unindexed_frame fill_300_and_find_an_unindexed_frame() {
        {
            auto log = open();
            fill(*log, 300);
        }
        unindexed_frame f;
        f.segment = files_with(dir(), ".seg")[1];
        f.entries = stored_index(files_with(dir(), ".idx")[1]);
        EXPECT_GE(f.entries.size(), 3u);
        const seqno after = f.entries[1].entry.seq;
        f.offset = f.entries[1].entry.offset +
                   frame_size(key_of(after).size(), 0, data_of(after).size());
        f.seq = after + 1;
        f.length = frame_size(key_of(f.seq).size(), 0, data_of(f.seq).size());
        return f;
    }

    temp_dir tmp_;
    segment_log_options options_{.segment_bytes = 4096, .index_interval_bytes = 256};
};

TEST_F(segment_log_test, empty_log) {
    recovery_report rep;
    auto log = open(&rep);
    EXPECT_TRUE(fs::is_directory(dir()));
    EXPECT_EQ(rep.segments, 1u);
    EXPECT_EQ(rep.records, 0u);
    EXPECT_TRUE(rep.messages.empty());
    EXPECT_TRUE(log->last_seq() == 0);
    EXPECT_EQ(log->last_arrival_ms(), 0);
    EXPECT_FALSE(log->first_seq().has_value());
    read_result r;
    EXPECT_TRUE(read_all(*log, {}, &r).empty());
    EXPECT_TRUE(r.reached_end);
    log.reset();
    log = open(&rep);  // reopening an empty log
    EXPECT_EQ(rep.segments, 1u);
    EXPECT_TRUE(rep.messages.empty());
}

TEST_F(segment_log_test, append_read_round_trip) {
    auto log = open();
    append_batch batch;
    std::array<std::byte, 16> ehk{};
    for (std::size_t i = 0; i < ehk.size(); ++i) ehk[i] = static_cast<std::byte>(i);
    batch.add_copy("alpha", {}, std::as_bytes(std::span(std::string_view("first"))));
    batch.add_copy("beta", ehk, std::as_bytes(std::span(std::string_view(""))));
    auto out = batch.add("gamma", {}, 100);
    std::memcpy(out.data(), "third", 5);
    batch.commit_data(5);
    const std::vector<seqno> seqs = {seqno{1} << 100, (seqno{1} << 100) + 1, (seqno{1} << 100) + 9};
    ASSERT_FALSE(log->append(batch, seqs, 1'700'000'000'000));
    EXPECT_TRUE(log->last_seq() == seqs[2]);
    EXPECT_EQ(log->last_arrival_ms(), 1'700'000'000'000);
    EXPECT_TRUE(log->first_seq() == seqs[0]);

    read_result r;
    auto recs = read_all(*log, {}, &r);
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_TRUE(r.reached_end);
    EXPECT_TRUE(r.last_seq == seqs[2]);
    EXPECT_EQ(r.data_bytes, 10u);
    EXPECT_EQ(recs[0].key, "alpha");
    EXPECT_EQ(recs[0].data, "first");
    EXPECT_TRUE(recs[0].ehk.empty());
    EXPECT_EQ(recs[1].key, "beta");
    EXPECT_EQ(recs[1].data, "");
    EXPECT_EQ(recs[1].ehk.size(), 16u);
    EXPECT_EQ(recs[1].ehk[15], 15);
    EXPECT_EQ(recs[2].data, "third");
    for (const auto& rec : recs) EXPECT_EQ(rec.arrival_ms, 1'700'000'000'000);
}

TEST_F(segment_log_test, read_after_min_arrival_and_limits) {
    auto log = open();
    fill(*log, 300);  // arrival 1000 + first seq of the batch / 10
    read_result r;

    expect_range(read_all(*log, {.after = 0}), 1, 300);
    expect_range(read_all(*log, {.after = 123}), 124, 300);
    expect_range(read_all(*log, {.after = 300}, &r), 301, 300);
    EXPECT_TRUE(r.reached_end);

    // The batch of seqs 151..155 arrived at 1015; 146..150 at 1014.
    expect_range(read_all(*log, {.min_arrival_ms = 1015}), 151, 300);
    expect_range(read_all(*log, {.after = 200, .min_arrival_ms = 1015}), 201, 300);
    expect_range(read_all(*log, {.after = 10, .min_arrival_ms = 1015}), 151, 300);
    EXPECT_TRUE(read_all(*log, {.min_arrival_ms = 5000}).empty());

    expect_range(read_all(*log, {.after = 50, .max_records = 7}, &r), 51, 57);
    EXPECT_FALSE(r.reached_end);
    EXPECT_TRUE(r.last_seq == 57);
    expect_range(read_all(*log, {.after = 290, .max_records = 10}, &r), 291, 300);
    EXPECT_TRUE(r.reached_end);  // the limit and the end coincide

    // max_bytes: stop before exceeding it, but always deliver the first record.
    const std::size_t d1 = data_of(1).size(), d2 = data_of(2).size();
    expect_range(read_all(*log, {.max_bytes = d1 + d2}, &r), 1, 2);
    EXPECT_FALSE(r.reached_end);
    EXPECT_EQ(r.data_bytes, d1 + d2);
    expect_range(read_all(*log, {.max_bytes = d1 + d2 - 1}), 1, 1);
    expect_range(read_all(*log, {.max_bytes = 1}), 1, 1);
    EXPECT_TRUE(read_all(*log, {.max_records = 0}).empty());
}

TEST_F(segment_log_test, segments_roll_and_reads_cross_them) {
    auto log = open();
    fill(*log, 500);
    const auto segs = files_with(dir(), ".seg");
    ASSERT_GT(segs.size(), 5u);
    EXPECT_EQ(segs.front().filename(), "00000000000000000001.seg");
    for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
        EXPECT_LE(fs::file_size(segs[i]), options_.segment_bytes);
        EXPECT_GT(fs::file_size(segs[i]), options_.segment_bytes / 2);
    }
    EXPECT_EQ(files_with(dir(), ".idx").size(), segs.size());
    EXPECT_EQ(log->segments()->size(), segs.size());
    expect_range(read_all(*log), 1, 500);
    expect_range(read_all(*log, {.after = 77, .max_records = 400}), 78, 477);

    std::uint64_t on_disk = 0;
    for (const auto& e : fs::directory_iterator(dir())) on_disk += e.file_size();
    EXPECT_EQ(log->disk_bytes(), on_disk);
    ASSERT_FALSE(log->sync());
}

TEST_F(segment_log_test, a_batch_larger_than_a_segment_gets_its_own) {
    auto log = open();
    ASSERT_FALSE(append_range(*log, 1, 100, 1));      // ~7 KB into a fresh, empty 4 KB segment
    EXPECT_EQ(files_with(dir(), ".seg").size(), 1u);  // the empty one was replaced
    ASSERT_FALSE(append_range(*log, 101, 3, 2));
    ASSERT_FALSE(append_range(*log, 104, 100, 3));
    ASSERT_FALSE(append_range(*log, 204, 1, 4));
    EXPECT_EQ(files_with(dir(), ".seg").size(), 4u);
    expect_range(read_all(*log), 1, 204);
    log.reset();
    recovery_report rep;
    log = open(&rep);
    EXPECT_EQ(rep.records, 204u);
    EXPECT_TRUE(rep.messages.empty());
    expect_range(read_all(*log), 1, 204);
}

TEST_F(segment_log_test, reads_seek_with_the_index) {
    options_.segment_bytes = 64 << 10;
    auto log = open();
    fill(*log, 3000);
    ASSERT_GT(log->segments()->size(), 3u);
    segment_log::read_stats stats;
    std::vector<seqno> seen;
    auto r = log->read(
        {.after = 2500, .max_records = 1}, [&](const record_view& v) { seen.push_back(v.seq); },
        stats);
    ASSERT_EQ(r.records, 1u);
    EXPECT_TRUE(seen[0] == 2501);
    EXPECT_EQ(stats.segments_visited, 1u);
    EXPECT_LE(stats.frames_decoded, 256u / frame_layout::overhead + 2);

    // By time: seqs 1501..1510 arrived at 1150.
    stats = {};
    seen.clear();
    r = log->read(
        {.min_arrival_ms = 1150, .max_records = 1},
        [&](const record_view& v) { seen.push_back(v.seq); }, stats);
    ASSERT_EQ(r.records, 1u);
    EXPECT_TRUE(seen[0] == 1501);
    EXPECT_EQ(stats.segments_visited, 1u);
    EXPECT_LE(stats.frames_decoded, 256u / frame_layout::overhead + 2);

    // Without a start, the same read decodes from the beginning.
    stats = {};
    log->read(
        {}, [](const record_view&) {}, stats);
    EXPECT_EQ(stats.frames_decoded, 3000u);
}

TEST_F(segment_log_test, reopen_recovers_every_record) {
    {
        auto log = open();
        fill(*log, 400);
    }
    recovery_report rep;
    auto log = open(&rep);
    EXPECT_EQ(rep.records, 400u);
    EXPECT_EQ(rep.segments, files_with(dir(), ".seg").size());
    EXPECT_EQ(rep.truncated_bytes, 0u);
    EXPECT_EQ(rep.quarantined_segments, 0u);
    EXPECT_EQ(rep.rebuilt_indexes, 0u);
    EXPECT_TRUE(rep.messages.empty());
    EXPECT_TRUE(log->last_seq() == 400);
    EXPECT_EQ(log->last_arrival_ms(), 1000 + 396 / 10);
    EXPECT_TRUE(log->first_seq() == 1);
    expect_range(read_all(*log), 1, 400);
    ASSERT_FALSE(append_range(*log, 401, 5, 2000));
    expect_range(read_all(*log, {.after = 395}), 396, 405);
}

TEST_F(segment_log_test, recovery_truncates_a_torn_tail) {
    {
        auto log = open();
        fill(*log, 100);
    }
    const auto last = files_with(dir(), ".seg").back();
    const auto size = fs::file_size(last);
    fs::resize_file(last, size - 5);  // the last frame lost its last 5 bytes
    const std::uint64_t last_frame = frame_size(key_of(100).size(), 0, data_of(100).size());

    recovery_report rep;
    auto log = open(&rep);
    EXPECT_EQ(rep.truncated_bytes, last_frame - 5);
    EXPECT_EQ(rep.records, 99u);
    ASSERT_FALSE(rep.messages.empty());
    EXPECT_NE(rep.messages[0].find("torn tail"), std::string::npos) << rep.messages[0];
    EXPECT_EQ(fs::file_size(last), size - last_frame);
    EXPECT_TRUE(log->last_seq() == 99);
    expect_range(read_all(*log), 1, 99);

    ASSERT_FALSE(append_range(*log, 100, 1, 2000));
    log.reset();
    log = open(&rep);
    EXPECT_EQ(rep.truncated_bytes, 0u);
    EXPECT_TRUE(rep.messages.empty());
    expect_range(read_all(*log), 1, 100);
}

TEST_F(segment_log_test, recovery_truncates_a_zero_filled_tail) {
    {
        auto log = open();
        fill(*log, 100);
    }
    const auto last = files_with(dir(), ".seg").back();
    const auto size = fs::file_size(last);
    fs::resize_file(last, size + 8192);  // extended, the data never written

    recovery_report rep;
    auto log = open(&rep);
    EXPECT_EQ(rep.truncated_bytes, 8192u);
    EXPECT_EQ(rep.records, 100u);
    ASSERT_EQ(rep.messages.size(), 1u);
    EXPECT_NE(rep.messages[0].find("zero-filled"), std::string::npos) << rep.messages[0];
    EXPECT_EQ(fs::file_size(last), size);
    expect_range(read_all(*log), 1, 100);
}

TEST_F(segment_log_test, recovery_truncates_the_active_segment_at_a_bad_checksum) {
    {
        auto log = open();
        fill(*log, 100);
    }
    const auto last_seg = files_with(dir(), ".seg").back();
    const auto entries = stored_index(files_with(dir(), ".idx").back());
    ASSERT_GE(entries.size(), 2u);
    const auto& victim = entries.back();  // open checks the frame of the last entry
    flip_byte(last_seg, victim.entry.offset + 40);

    recovery_report rep;
    auto log = open(&rep);
    EXPECT_GT(rep.truncated_bytes, 0u);
    EXPECT_EQ(fs::file_size(last_seg), victim.entry.offset);
    const seqno last_good = victim.entry.seq - 1;
    EXPECT_TRUE(log->last_seq() == last_good);
    expect_range(read_all(*log), 1, last_good);
    EXPECT_EQ(rep.rebuilt_indexes, 1u);  // entries past the cut were dropped
}

TEST_F(segment_log_test, a_corrupt_sealed_segment_quarantines_its_rest) {
    {
        auto log = open();
        fill(*log, 300);
    }
    const auto segs = files_with(dir(), ".seg");
    ASSERT_GE(segs.size(), 4u);
    const auto entries = stored_index(files_with(dir(), ".idx")[1]);
    ASSERT_GE(entries.size(), 3u);
    const auto& victim = entries.back();  // open checks the frames of the first and last entry
    const auto seg2_size = fs::file_size(segs[1]);
    flip_byte(segs[1], victim.entry.offset + 45);

    recovery_report rep;
    auto log = open(&rep);
    EXPECT_EQ(rep.quarantined_segments, 1u);
    EXPECT_EQ(rep.truncated_bytes, 0u);
    ASSERT_FALSE(rep.messages.empty());
    EXPECT_NE(rep.messages[0].find("quarantined"), std::string::npos) << rep.messages[0];
    EXPECT_EQ(fs::file_size(segs[1]), seg2_size);  // kept as it was

    // Records before the bad frame and every later segment are still served.
    const seqno bad = victim.entry.seq;
    const seqno seg3_first = stored_index(files_with(dir(), ".idx")[2])[0].entry.seq;
    auto recs = read_all(*log);
    std::vector<record> before(recs.begin(), recs.begin() + static_cast<std::ptrdiff_t>(bad - 1));
    std::vector<record> after(recs.begin() + static_cast<std::ptrdiff_t>(bad - 1), recs.end());
    expect_range(before, 1, bad - 1);
    expect_range(after, seg3_first, 300);
    EXPECT_EQ(rep.records, 300 - (seg3_first - bad));
    // A read starting inside the quarantined part continues with the next segment.
    expect_range(read_all(*log, {.after = bad}), seg3_first, 300);
    EXPECT_TRUE(log->last_seq() == 300);
    ASSERT_FALSE(append_range(*log, 301, 1, 5000));
}

TEST_F(segment_log_test, corruption_between_index_entries_is_caught_by_reads_or_full_verify) {
    const auto victim = fill_300_and_find_an_unindexed_frame();
    const auto& entries = victim.entries;
    const seqno bad = victim.seq;
    ASSERT_LT(victim.offset, entries[2].entry.offset);
    flip_byte(victim.segment, victim.offset + 42);
    const seqno seg3_first = stored_index(files_with(dir(), ".idx")[2])[0].entry.seq;

    {
        recovery_report rep;
        auto log = open(&rep);
        EXPECT_EQ(rep.quarantined_segments, 0u);
        // The read that reaches it stops serving that segment there, and goes on.
        auto recs = read_all(*log);
        ASSERT_EQ(recs.size(), (bad - 1) + (300 - seg3_first + 1));
        EXPECT_TRUE(recs[bad - 2].seq == bad - 1);
        EXPECT_TRUE(recs[bad - 1].seq == seg3_first);
        // Later reads agree, even those the index would take past the bad frame.
        EXPECT_TRUE(read_all(*log, {.after = entries[2].entry.seq}).front().seq == seg3_first);
    }
    options_.verify_all_frames_on_open = true;
    recovery_report rep;
    auto log = open(&rep);
    EXPECT_EQ(rep.quarantined_segments, 1u);
    EXPECT_EQ(rep.records, (bad - 1) + (300 - seg3_first + 1));
    EXPECT_EQ(read_all(*log).size(), rep.records);
}

TEST_F(segment_log_test, a_read_without_crc_checks_passes_over_a_bad_checksum) {
    const auto victim = fill_300_and_find_an_unindexed_frame();
    flip_byte(victim.segment, victim.offset + victim.length - 1);  // its last data byte
    const seqno bad = victim.seq;

    recovery_report rep;
    auto log = open(&rep);
    ASSERT_EQ(rep.quarantined_segments, 0u);
    // Unchecked (how GetRecords sizes its answer): every record, the bad one with its damage.
    const auto unchecked = read_all(*log, {.check_crc = false});
    ASSERT_EQ(unchecked.size(), 300u);
    EXPECT_NE(unchecked[bad - 1].data, data_of(bad));
    EXPECT_EQ(unchecked[bad - 2].data, data_of(bad - 1));
    // The checked read that follows still refuses it and quarantines the segment's rest.
    const auto checked = read_all(*log);
    EXPECT_LT(checked.size(), 300u);
    for (const auto& r : checked)
        EXPECT_EQ(r.data, data_of(r.seq)) << static_cast<std::uint64_t>(r.seq);
    EXPECT_TRUE(checked[bad - 2].seq == bad - 1);
    EXPECT_FALSE(checked[bad - 1].seq == bad);
}

TEST_F(segment_log_test, corruption_inside_the_active_segment_makes_appends_roll) {
    {
        auto log = open();
        fill(*log, 30);
    }
    const auto seg = files_with(dir(), ".seg").back();
    const auto entries = stored_index(files_with(dir(), ".idx").back());
    ASSERT_GE(entries.size(), 3u);
    const seqno first = entries[0].entry.seq;
    const std::uint64_t frame_len =
        frame_size(key_of(entries[1].entry.seq).size(), 0, data_of(entries[1].entry.seq).size());
    flip_byte(seg, entries[1].entry.offset + frame_len + 50);  // not indexed: found by reads
    const seqno bad = entries[1].entry.seq + 1;

    auto log = open();
    expect_range(read_all(*log), first, bad - 1);
    const auto segments_before = log->segments()->size();
    ASSERT_FALSE(append_range(*log, 31, 2, 5000));
    EXPECT_EQ(log->segments()->size(), segments_before + 1);
    auto recs = read_all(*log, {.after = bad - 1});
    expect_range(recs, 31, 32);
}

TEST_F(segment_log_test, missing_short_and_stale_indexes_are_rebuilt) {
    {
        auto log = open();
        fill(*log, 300);
    }
    const auto idx = files_with(dir(), ".idx");
    ASSERT_GE(idx.size(), 4u);
    const auto original = stored_index(idx[0]);
    fs::remove(idx[0]);                                                           // missing
    fs::resize_file(idx[1], index_file::header_bytes + index_file::entry_bytes);  // short
    fs::copy_file(idx[3], idx[2], fs::copy_options::overwrite_existing);          // stale
    fs::remove(idx.back());                                                       // active: missing

    recovery_report rep;
    auto log = open(&rep);
    EXPECT_EQ(rep.rebuilt_indexes, 4u);
    EXPECT_EQ(rep.records, 300u);
    EXPECT_EQ(rep.quarantined_segments, 0u);
    EXPECT_EQ(rep.truncated_bytes, 0u);
    std::string all;
    for (const auto& m : rep.messages) all += m + "\n";
    EXPECT_NE(all.find("missing"), std::string::npos) << all;
    EXPECT_NE(all.find("short"), std::string::npos) << all;
    EXPECT_NE(all.find("stale"), std::string::npos) << all;
    const auto rebuilt = stored_index(idx[0]);
    ASSERT_EQ(rebuilt.size(), original.size());
    for (std::size_t i = 0; i < rebuilt.size(); ++i) {
        EXPECT_EQ(rebuilt[i].entry, original[i].entry);
        EXPECT_EQ(rebuilt[i].record, original[i].record);
    }
    expect_range(read_all(*log), 1, 300);

    // A flipped bit in an index entry is caught by the entry's checksum.
    log.reset();
    const auto entries = stored_index(idx[1]);
    ASSERT_GE(entries.size(), 4u);
    flip_byte(idx[1], index_file::header_bytes + 2 * index_file::entry_bytes + 9);
    log = open(&rep);
    EXPECT_EQ(rep.rebuilt_indexes, 1u);
    ASSERT_EQ(rep.messages.size(), 1u);
    EXPECT_NE(rep.messages[0].find("stale"), std::string::npos) << rep.messages[0];
    EXPECT_EQ(stored_index(idx[1]).size(), entries.size());
    expect_range(read_all(*log), 1, 300);

    // The rebuilt indexes are used for seeking, and are not rebuilt again.
    segment_log::read_stats stats;
    log->read(
        {.after = 150, .max_records = 1}, [](const record_view&) {}, stats);
    EXPECT_LE(stats.frames_decoded, 256u / frame_layout::overhead + 2);
    log.reset();
    log = open(&rep);
    EXPECT_EQ(rep.rebuilt_indexes, 0u);
    EXPECT_TRUE(rep.messages.empty());
}

TEST_F(segment_log_test, orphan_index_is_removed) {
    {
        auto log = open();
        fill(*log, 10);
    }
    std::ofstream(dir() / "00000000000000000000.idx") << "junk";
    std::ofstream(dir() / "00000000000000000099.idx") << "junk";
    std::ofstream(dir() / "README") << "left alone";
    recovery_report rep;
    auto log = open(&rep);
    EXPECT_FALSE(fs::exists(dir() / "00000000000000000000.idx"));
    EXPECT_FALSE(fs::exists(dir() / "00000000000000000099.idx"));
    EXPECT_TRUE(fs::exists(dir() / "README"));
    EXPECT_EQ(rep.messages.size(), 2u);
    expect_range(read_all(*log), 1, 10);
    ASSERT_FALSE(append_range(*log, 11, 1, 5000));  // into the same active segment
    EXPECT_EQ(files_with(dir(), ".seg").size(), 1u);
}

TEST_F(segment_log_test, detach_expired_takes_the_expired_prefix_and_deletes_files_later) {
    auto log = open();
    fill(*log, 300);  // arrival 1000 + seq / 10
    const auto segs_before = log->segments();
    ASSERT_GE(segs_before->size(), 4u);
    const epoch_ms second_last = (*segs_before)[1]->last_arrival_ms();
    const seqno third_first = (*segs_before)[2]->index()[0].seq;
    const std::uint64_t first_two_bytes = (*segs_before)[0]->disk_bytes() + (*segs_before)[1]->disk_bytes();

    EXPECT_EQ(log->detach_expired(0).count(), 0u);
    auto detached = log->detach_expired(second_last + 1);
    EXPECT_EQ(detached.count(), 2u);
    EXPECT_EQ(detached.bytes(), first_two_bytes);
    // Out of the log at once, still on disk until delete_files().
    EXPECT_TRUE(log->first_seq() == third_first);
    expect_range(read_all(*log), third_first, 300);
    EXPECT_TRUE(fs::exists(dir() / "00000000000000000001.seg"));
    detached.delete_files();
    EXPECT_FALSE(fs::exists(dir() / "00000000000000000001.seg"));
    EXPECT_FALSE(fs::exists(dir() / "00000000000000000001.idx"));
    EXPECT_FALSE(fs::exists(dir() / "00000000000000000002.seg"));
    EXPECT_TRUE(fs::exists(dir() / "00000000000000000003.seg"));

    // Not expired: the active segment stays.
    const auto active = log->segments()->back();
    std::size_t older = 0;
    for (const auto& s : *log->segments()) older += s->last_arrival_ms() < active->last_arrival_ms();
    ASSERT_GT(older, 0u);
    EXPECT_EQ(log->detach_expired(active->last_arrival_ms()).count(), older);
    EXPECT_TRUE(log->segments()->back() == active);
    EXPECT_EQ(log->detach_expired(active->last_arrival_ms()).count(), 0u);
    EXPECT_EQ(log->last_arrival_ms(), active->last_arrival_ms());

    // Everything expired: the active segment is replaced by an empty one, and no file of the
    // expired records is left (the destructor of the result deletes them).
    const std::uint64_t active_ordinal = active->ordinal();
    const std::size_t remaining = log->segments()->size();
    EXPECT_EQ(log->detach_expired(1'000'000).count(), remaining);
    EXPECT_TRUE(read_all(*log).empty());
    EXPECT_FALSE(log->first_seq().has_value());
    EXPECT_TRUE(log->last_seq() == 300);
    EXPECT_EQ(log->last_arrival_ms(), active->last_arrival_ms());
    EXPECT_FALSE(fs::exists(dir() / segment_file_name(active_ordinal)));
    ASSERT_EQ(files_with(dir(), ".seg").size(), 1u);
    EXPECT_EQ(files_with(dir(), ".seg")[0].filename(), segment_file_name(active_ordinal + 1));
    std::uint64_t on_disk = 0;
    for (const auto& e : fs::directory_iterator(dir())) on_disk += e.file_size();
    EXPECT_EQ(log->disk_bytes(), on_disk);
    // The reader that held the old list still reads through its mappings.
    EXPECT_FALSE((*segs_before)[0]->readable().empty());

    // Appends go on above the old numbers, and survive a reopen.
    ASSERT_FALSE(append_range(*log, 301, 1, 5000));
    ASSERT_FALSE(log->sync());
    log.reset();
    recovery_report rep;
    log = open(&rep);
    EXPECT_TRUE(rep.messages.empty());
    expect_range(read_all(*log), 301, 301);
}

TEST_F(segment_log_test, detach_expired_of_an_empty_or_removed_log_is_a_no_op) {
    auto log = open();
    EXPECT_EQ(log->detach_expired(1'000'000).count(), 0u);
    fill(*log, 10);
    log->remove();
    EXPECT_EQ(log->detach_expired(1'000'000).count(), 0u);
}

TEST_F(segment_log_test, remove_deletes_everything) {
    auto log = open();
    fill(*log, 100);
    const auto held = log->segments();
    log->remove();
    EXPECT_FALSE(fs::exists(dir()));
    EXPECT_EQ(append_range(*log, 101, 1, 1), make_error_code(storage_errc::closed));
    EXPECT_EQ(log->sync(), make_error_code(storage_errc::closed));
    EXPECT_EQ(log->detach_expired(1'000'000).count(), 0u);
    read_result r;
    EXPECT_TRUE(read_all(*log, {}, &r).empty());
    EXPECT_TRUE(r.reached_end);
    EXPECT_FALSE(log->first_seq().has_value());
    EXPECT_EQ(log->disk_bytes(), 0u);
    EXPECT_FALSE((*held)[0]->readable().empty());  // still mapped for whoever holds it
}

TEST_F(segment_log_test, append_validates_its_arguments) {
    auto log = open();
    ASSERT_FALSE(append_range(*log, 10, 3, 100));
    EXPECT_EQ(append_range(*log, 12, 1, 100), std::errc::invalid_argument);  // not above last
    append_batch batch;
    batch.add_copy("k", {}, {});
    batch.add_copy("k", {}, {});
    std::vector<seqno> seqs = {20};
    EXPECT_EQ(log->append(batch, seqs, 100), std::errc::invalid_argument);  // count
    seqs = {21, 21};
    EXPECT_EQ(log->append(batch, seqs, 100), std::errc::invalid_argument);  // not increasing
    append_batch empty;
    EXPECT_FALSE(log->append(empty, {}, 100));
    expect_range(read_all(*log), 10, 12);

    // An arrival time going back is raised to the last one.
    ASSERT_FALSE(append_range(*log, 13, 1, 50));
    EXPECT_EQ(log->last_arrival_ms(), 100);
    EXPECT_EQ(read_all(*log).back().arrival_ms, 100);
}

TEST_F(segment_log_test, a_failed_write_is_all_or_nothing) {
    auto log = open();
    fill(*log, 20);
    const auto active = log->segments()->back();
    const auto committed = active->size();
    struct rlimit old {};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    auto prev_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = old;
    lim.rlim_cur = committed + 100;  // the batch below is ~500 bytes: a short write, then EFBIG
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
    const auto ec = append_range(*log, 21, 5, 2000);
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
    std::signal(SIGXFSZ, prev_handler);

    EXPECT_EQ(ec, make_error_code(storage_errc::io_error));
    EXPECT_TRUE(log->last_seq() == 20);
    EXPECT_EQ(fs::file_size(active->path()), committed);
    expect_range(read_all(*log), 1, 20);
    ASSERT_FALSE(append_range(*log, 21, 5, 2000));  // usable, same seqs
    expect_range(read_all(*log), 1, 25);
    log.reset();
    recovery_report rep;
    log = open(&rep);
    EXPECT_TRUE(rep.messages.empty());
    expect_range(read_all(*log), 1, 25);
}

TEST_F(segment_log_test, throws_only_when_the_directory_is_unusable) {
    std::ofstream(tmp_.path() / "a-file") << "x";
    recovery_report rep;
    EXPECT_THROW(segment_log::open(tmp_.path() / "a-file" / "shard", options_, rep),
                 std::system_error);
    EXPECT_THROW(open_segment_log(tmp_.path() / "a-file", options_, rep), std::system_error);
}

// One writer, one reader: the reader sees whole records only, in strictly increasing order,
// and eventually all of them.
TEST_F(segment_log_test, concurrent_reader_sees_whole_records_in_order) {
    options_.segment_bytes = 16 << 10;
    auto log = open();
    constexpr std::size_t total = 20000;
    std::atomic<bool> failed{false};

    std::thread reader([&] {
        seqno last = 0;
        epoch_ms last_arrival = 0;
        std::size_t seen = 0;
        for (std::size_t round = 0; seen < total && round < 50'000'000 && !failed; ++round) {
            log->read({.after = last, .max_records = 500}, [&](const record_view& v) {
                if (v.seq <= last || v.partition_key != key_of(v.seq) ||
                    str(v.data) != data_of(v.seq) || v.arrival_ms < last_arrival ||
                    v.arrival_ms > 1000 + static_cast<epoch_ms>((v.seq - 1) / 7))
                    failed = true;
                last = v.seq;
                last_arrival = v.arrival_ms;
                ++seen;
            });
            if (seen < total) std::this_thread::yield();
        }
        EXPECT_EQ(seen, total);
    });

    std::size_t batches = 0;
    for (seqno seq = 1; seq <= total && !failed; ++batches) {
        const std::size_t count =
            std::min<std::size_t>(1 + batches % 13, total - static_cast<std::size_t>(seq) + 1);
        // Arrival: one millisecond per 7 records, by the batch's first record.
        ASSERT_FALSE(append_range(*log, seq, count, 1000 + static_cast<epoch_ms>((seq - 1) / 7)));
        seq += count;
    }
    reader.join();
    EXPECT_FALSE(failed);
    EXPECT_GT(log->segments()->size(), 10u);
}

}  // namespace
}  // namespace kinesd::storage
