#include "kinesd/storage/segment.hpp"
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
#include <vector>

namespace kinesd::storage {
namespace {

namespace fs = std::filesystem;

using kinesd::test_support::temp_dir;

std::string payload(seqno seq) {
    std::string s(static_cast<std::size_t>(seq % 60) + 20, '\0');
    for (std::size_t i = 0; i < s.size(); ++i)
        s[i] = static_cast<char>('a' + (static_cast<std::size_t>(seq) * 7 + i) % 26);
    return s;
}

// A batch of records first..first+count-1, stamped as segment_log::append would.
struct stamped_batch {
    append_batch batch;
    std::vector<seqno> seqs;
};

stamped_batch make_batch(seqno first, std::size_t count, epoch_ms arrival) {
    stamped_batch b;
    for (std::size_t i = 0; i < count; ++i) {
        const seqno seq = first + i;
        const std::string data = payload(seq);
        b.batch.add_copy(fmt::format("pk-{}", static_cast<std::uint64_t>(seq)), {},
                         std::as_bytes(std::span(data)));
        b.seqs.push_back(seq);
    }
    for (std::size_t i = 0; i < count; ++i) {
        const auto f = b.batch.frames()[i];
        stamp_frame(b.batch.buffer().subspan(f.offset, f.length), b.seqs[i], arrival);
    }
    return b;
}

std::error_code append_to(segment& s, seqno first, std::size_t count, epoch_ms arrival) {
    auto b = make_batch(first, count, arrival);
    return s.append(b.batch.buffer(), b.batch.frames(), b.seqs, arrival);
}

// Decodes every frame of the readable bytes, checking content; returns the seqs.
std::vector<seqno> scan(const segment& s) {
    std::vector<seqno> seqs;
    auto bytes = s.readable();
    std::size_t off = 0;
    while (off < bytes.size()) {
        record_view v;
        std::size_t used = 0;
        EXPECT_EQ(decode_frame(bytes.subspan(off), v, used), frame_status::ok);
        if (used == 0) break;
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(v.data.data()), v.data.size()),
                  payload(v.seq));
        seqs.push_back(v.seq);
        off += used;
    }
    return seqs;
}

TEST(segment_files, names_sort_like_ordinals) {
    EXPECT_EQ(segment_file_name(42), "00000000000000000042.seg");
    EXPECT_EQ(index_file_name(7), "00000000000000000007.idx");
    EXPECT_EQ(segment_file_name(18446744073709551615ull), "18446744073709551615.seg");
    EXPECT_EQ(parse_file_ordinal("00000000000000000042.seg", ".seg"), 42u);
    EXPECT_EQ(parse_file_ordinal("18446744073709551615.seg", ".seg"), 18446744073709551615ull);
    EXPECT_FALSE(parse_file_ordinal("18446744073709551616.seg", ".seg"));  // overflow
    EXPECT_FALSE(parse_file_ordinal("00000000000000000042.idx", ".seg"));
    EXPECT_FALSE(parse_file_ordinal("0000000000000000042.seg", ".seg"));
    EXPECT_FALSE(parse_file_ordinal("0000000000000000004x.seg", ".seg"));
    EXPECT_LT(segment_file_name(9), segment_file_name(10));
}

TEST(segment_files, errno_mapping) {
    EXPECT_EQ(storage_error_from_errno(ENOSPC), make_error_code(storage_errc::no_space));
    EXPECT_EQ(storage_error_from_errno(EDQUOT), make_error_code(storage_errc::no_space));
    EXPECT_EQ(storage_error_from_errno(EIO), make_error_code(storage_errc::io_error));
    EXPECT_EQ(storage_error_from_errno(EFBIG), make_error_code(storage_errc::io_error));
}

TEST(segment, append_publishes_whole_frames_and_indexes_them) {
    temp_dir tmp;
    std::error_code ec;
    auto s = segment::create(tmp.path(), 1, 1 << 20, 256, ec);
    ASSERT_TRUE(s) << ec.message();
    EXPECT_TRUE(fs::exists(tmp.path() / "00000000000000000001.seg"));
    EXPECT_TRUE(fs::exists(tmp.path() / "00000000000000000001.idx"));
    EXPECT_TRUE(s->readable().empty());
    EXPECT_TRUE(s->search_seq() == uint128_max);  // empty active: sorts last

    seqno next = 1;
    for (int b = 0; b < 20; ++b) {
        ASSERT_FALSE(append_to(*s, next, 5, 1000 + b));
        next += 5;
    }
    EXPECT_EQ(s->records(), 100u);
    EXPECT_TRUE(s->last_seq() == 100);
    EXPECT_EQ(s->last_arrival_ms(), 1019);
    EXPECT_EQ(s->size(), fs::file_size(s->path()));
    const auto seqs = scan(*s);
    ASSERT_EQ(seqs.size(), 100u);
    EXPECT_TRUE(seqs.front() == 1 && seqs.back() == 100);

    // An entry at offset 0, then at the first frame at least 256 bytes after the previous one.
    const auto& index = s->index();
    ASSERT_GT(index.size(), 5u);
    EXPECT_EQ(index[0].offset, 0u);
    EXPECT_TRUE(index[0].seq == 1);
    EXPECT_TRUE(s->search_seq() == 1);
    EXPECT_EQ(s->search_arrival_ms(), 1000);
    for (std::size_t i = 1; i < index.size(); ++i) {
        EXPECT_GE(index[i].offset, index[i - 1].offset + 256);
        EXPECT_LT(index[i].offset, index[i - 1].offset + 256 + 120);  // frames are < 120 bytes
        record_view v;
        std::size_t used = 0;
        ASSERT_EQ(decode_frame(s->readable().subspan(index[i].offset), v, used), frame_status::ok);
        EXPECT_TRUE(v.seq == index[i].seq);
    }
    // The index file holds the same entries.
    EXPECT_EQ(fs::file_size(tmp.path() / "00000000000000000001.idx"),
              index_file::header_bytes + index.size() * index_file::entry_bytes);
}

TEST(segment, create_refuses_an_existing_file) {
    temp_dir tmp;
    std::error_code ec;
    auto s = segment::create(tmp.path(), 3, 4096, 256, ec);
    ASSERT_TRUE(s);
    auto again = segment::create(tmp.path(), 3, 4096, 256, ec);
    EXPECT_FALSE(again);
    EXPECT_EQ(ec, std::errc::file_exists);
}

TEST(segment, reopen_sealed_and_active) {
    temp_dir tmp;
    std::error_code ec;
    {
        auto s = segment::create(tmp.path(), 1, 1 << 20, 200, ec);
        ASSERT_TRUE(s);
        ASSERT_FALSE(append_to(*s, 1, 50, 1000));
        ASSERT_FALSE(append_to(*s, 51, 50, 1001));
    }
    for (auto mode : {segment_mode::sealed, segment_mode::active}) {
        segment_open_params p;
        p.mode = mode;
        p.capacity = 1 << 20;
        p.index_interval_bytes = 200;
        segment_recovery rec;
        auto s = segment::open(tmp.path(), 1, p, rec, ec);
        ASSERT_TRUE(s) << ec.message();
        EXPECT_EQ(rec.records, 100u);
        EXPECT_EQ(rec.valid_bytes, rec.file_bytes);
        EXPECT_EQ(rec.stop, frame_status::end_of_data);
        EXPECT_FALSE(rec.index_rebuilt) << rec.index_problem;
        EXPECT_FALSE(rec.quarantined);
        EXPECT_EQ(rec.truncated_bytes, 0u);
        EXPECT_EQ(scan(*s).size(), 100u);
        EXPECT_TRUE(s->last_seq() == 100);
        EXPECT_EQ(s->last_arrival_ms(), 1001);
        if (mode == segment_mode::active) {
            ASSERT_FALSE(append_to(*s, 101, 10, 1002));
            EXPECT_EQ(scan(*s).size(), 110u);
        }
    }
}

// The index file is read in chunks of 1024 entries at open: an index of several chunks is
// taken as it is when intact, and a bad entry or a missing tail past the first chunk is
// still found and the index rebuilt.
TEST(segment, large_index_read_in_chunks_intact_damaged_and_short) {
    temp_dir tmp;
    std::error_code ec;
    constexpr std::size_t records = 3000;  // interval 1: one entry per frame, about 3 chunks
    {
        auto s = segment::create(tmp.path(), 1, 1 << 22, 1, ec);
        ASSERT_TRUE(s);
        for (seqno first = 1; first <= records; first += 100)
            ASSERT_FALSE(append_to(*s, first, 100, 1000 + static_cast<epoch_ms>(first)));
    }
    const fs::path idx = tmp.path() / index_file_name(1);
    const auto reopen = [&](segment_mode mode, std::string_view problem) {
        segment_open_params p;
        p.mode = mode;
        p.capacity = 1 << 22;
        p.index_interval_bytes = 1;
        segment_recovery rec;
        auto s = segment::open(tmp.path(), 1, p, rec, ec);
        ASSERT_TRUE(s) << ec.message();
        EXPECT_EQ(rec.records, records);
        EXPECT_EQ(rec.valid_bytes, rec.file_bytes);
        EXPECT_EQ(rec.index_problem, problem);
        EXPECT_EQ(rec.index_rebuilt, !problem.empty());
        ASSERT_EQ(s->index().size(), records);
        EXPECT_TRUE(s->index()[2500].seq == 2501);
        EXPECT_EQ(s->index().seek(2500, 0), s->index()[2499].offset);
        EXPECT_TRUE(s->last_seq() == records);
        EXPECT_EQ(fs::file_size(idx), index_file::header_bytes + records * index_file::entry_bytes);
    };
    reopen(segment_mode::sealed, "");
    reopen(segment_mode::active, "");

    {  // a bad CRC in the third chunk
        std::fstream f(idx, std::ios::in | std::ios::out | std::ios::binary);
        const auto at = static_cast<std::streamoff>(index_file::header_bytes +
                                                    2500 * index_file::entry_bytes + 40);
        f.seekg(at);
        char c = 0;
        f.read(&c, 1);
        c = static_cast<char>(c ^ 0x01);
        f.seekp(at);
        f.write(&c, 1);
    }
    reopen(segment_mode::sealed, "stale");
    reopen(segment_mode::sealed, "");  // rewritten

    fs::resize_file(idx, index_file::header_bytes + 2100 * index_file::entry_bytes);
    reopen(segment_mode::active, "short");
    reopen(segment_mode::active, "");
}

TEST(segment, verify_all_frames_gives_the_same_result) {
    temp_dir tmp;
    std::error_code ec;
    {
        auto s = segment::create(tmp.path(), 1, 1 << 20, 300, ec);
        ASSERT_TRUE(s);
        ASSERT_FALSE(append_to(*s, 1, 80, 5));
    }
    segment_open_params p;
    p.index_interval_bytes = 300;
    p.verify_all_frames = true;
    segment_recovery rec;
    auto s = segment::open(tmp.path(), 1, p, rec, ec);
    ASSERT_TRUE(s);
    EXPECT_EQ(rec.records, 80u);
    EXPECT_FALSE(rec.index_rebuilt) << rec.index_problem;
}

TEST(segment, records_out_of_order_with_the_previous_segment_are_corrupt) {
    temp_dir tmp;
    std::error_code ec;
    {
        auto s = segment::create(tmp.path(), 1, 1 << 20, 300, ec);
        ASSERT_TRUE(s);
        ASSERT_FALSE(append_to(*s, 10, 5, 5));
    }
    segment_open_params p;
    p.floor_seq = 12;  // the previous segment ended at seq 12: this one must start above it
    segment_recovery rec;
    auto s = segment::open(tmp.path(), 1, p, rec, ec);
    ASSERT_TRUE(s);
    EXPECT_EQ(rec.records, 0u);
    EXPECT_TRUE(rec.quarantined);
    EXPECT_EQ(rec.stop, frame_status::malformed);
    EXPECT_TRUE(s->readable().empty());
    EXPECT_TRUE(s->search_seq() == 12);  // empty sealed: sorts where it stands
}

TEST(segment, failed_write_leaves_nothing_behind) {
    temp_dir tmp;
    std::error_code ec;
    auto s = segment::create(tmp.path(), 1, 1 << 20, 256, ec);
    ASSERT_TRUE(s);
    ASSERT_FALSE(append_to(*s, 1, 10, 1));
    const auto committed = s->size();
    const auto index_entries = s->index().size();

    // Let the file grow only halfway into the next batch: a short write, then EFBIG.
    auto b = make_batch(11, 10, 2);
    struct rlimit old {};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    auto prev_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = old;
    lim.rlim_cur = committed + b.batch.byte_size() / 2;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
    ec = s->append(b.batch.buffer(), b.batch.frames(), b.seqs, 2);
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
    std::signal(SIGXFSZ, prev_handler);

    EXPECT_EQ(ec, make_error_code(storage_errc::io_error));
    EXPECT_EQ(s->size(), committed);
    EXPECT_EQ(fs::file_size(s->path()), committed);
    EXPECT_EQ(s->index().size(), index_entries);
    EXPECT_EQ(s->records(), 10u);
    EXPECT_EQ(scan(*s).size(), 10u);

    // Still usable.
    ASSERT_FALSE(s->append(b.batch.buffer(), b.batch.frames(), b.seqs, 2));
    EXPECT_EQ(scan(*s).size(), 20u);
}

TEST(segment, quarantine_from_limits_what_readers_see) {
    temp_dir tmp;
    std::error_code ec;
    auto s = segment::create(tmp.path(), 1, 1 << 20, 256, ec);
    ASSERT_TRUE(s);
    ASSERT_FALSE(append_to(*s, 1, 10, 1));
    const auto full = s->readable().size();
    EXPECT_FALSE(s->read_quarantined());
    s->quarantine_from(full / 2);
    s->quarantine_from(full);  // a larger offset does not widen it again
    EXPECT_TRUE(s->read_quarantined());
    EXPECT_EQ(s->readable().size(), full / 2);
}

TEST(segment, unlinked_segment_stays_readable_through_its_mapping) {
    temp_dir tmp;
    std::error_code ec;
    auto s = segment::create(tmp.path(), 1, 1 << 16, 256, ec);
    ASSERT_TRUE(s);
    ASSERT_FALSE(append_to(*s, 1, 10, 1));
    s->seal();
    ASSERT_FALSE(s->sync());
    s->close_file();
    s->unlink_files();
    EXPECT_FALSE(fs::exists(s->path()));
    EXPECT_EQ(scan(*s).size(), 10u);
}

}  // namespace
}  // namespace kinesd::storage
