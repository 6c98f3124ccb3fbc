// commit_journal: entries written by rounds, replayed into the segment files after a crash that
// lost what only the page cache held. A crash is simulated by truncating a segment file back to
// what an fsync had made durable.
#include "kinesd/storage/commit_journal.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fault_io.hpp"
#include "kinesd/storage/counters.hpp"
#include "kinesd/storage/shard_log.hpp"
#include "support/api_test.hpp"

namespace kinesd::storage {
namespace {

namespace fs = std::filesystem;
using testing::fault_io;
using testing::io_op;

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

std::span<const std::byte> bytes_of(const std::string& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

class commit_journal_test : public ::testing::Test {
  protected:
    fs::path data() const { return tmp_.path() / "data"; }
    // A segment file holding `content`, as the log's pwrite left it in the page cache.
    void segment(const std::string& rel, const std::string& content) {
        write_file(data() / rel, content);
    }
    std::unique_ptr<commit_journal> open_journal(std::uint64_t capacity = 1 << 20) {
        std::error_code ec;
        auto j = commit_journal::open(data(), capacity, ec, &io_);
        EXPECT_TRUE(j) << ec.message();
        return j;
    }
    // Journals bytes [from, to) of segment file `rel` (as a round does).
    std::error_code journal(commit_journal& j, const std::string& rel, std::size_t from,
                            std::size_t to) {
        contents_.push_back(read_file(data() / rel));
        const std::string& all = contents_.back();
        const journal_range r{
            .path = rel, .offset = from, .bytes = bytes_of(all).subspan(from, to - from)};
        return j.write({&r, 1});
    }
    // The crash: the segment file keeps only its first `durable` bytes.
    void lose_after(const std::string& rel, std::uint64_t durable) {
        fs::resize_file(data() / rel, durable);
    }

    test_support::temp_dir tmp_;
    fault_io io_;
    std::vector<std::string> contents_;  // bytes journal() borrowed, kept alive
};

const std::string seg_a = "streams/00000000000000aa/shardId-000000000000/00000000000000000001.seg";
const std::string seg_b = "streams/00000000000000aa/shardId-000000000001/00000000000000000001.seg";

TEST_F(commit_journal_test, replay_puts_back_what_the_crash_lost_from_each_segment) {
    fs::create_directories(data());
    auto j = open_journal();
    segment(seg_a, "first-round|");
    segment(seg_b, "b-records");
    ASSERT_FALSE(journal(*j, seg_a, 0, 12));
    segment(seg_a, "first-round|second-round|");
    ASSERT_FALSE(journal(*j, seg_a, 12, 25));
    ASSERT_FALSE(journal(*j, seg_b, 0, 9));
    j.reset();
    lose_after(seg_a, 5);  // a torn tail too: recovery would have cut at the first bad frame
    lose_after(seg_b, 0);

    const auto report = commit_journal::replay(data(), true, &io_);
    EXPECT_TRUE(report.found);
    EXPECT_EQ(report.entries, 3u);
    EXPECT_EQ(report.files, 2u);
    EXPECT_EQ(report.bytes, 12u + 13u + 9u);
    EXPECT_EQ(read_file(data() / seg_a), "first-round|second-round|");
    EXPECT_EQ(read_file(data() / seg_b), "b-records");
    EXPECT_EQ(io_.calls(io_op::fdatasync, "00000000000000000001.seg"), 2);  // durable before use
    EXPECT_TRUE(fs::exists(data() / commit_journal::file_name));  // kept: its blocks are reused

    // The next run's journal starts empty: nothing of the last run is replayed again.
    auto again = open_journal();
    again.reset();
    EXPECT_EQ(commit_journal::replay(data(), false, &io_).entries, 0u);
    EXPECT_FALSE(fs::exists(data() / commit_journal::file_name));  // deleted without keep
    EXPECT_FALSE(commit_journal::replay(data(), false, &io_).found);
}

TEST_F(commit_journal_test, replay_stops_at_a_torn_entry) {
    fs::create_directories(data());
    auto j = open_journal();
    segment(seg_a, "one|two|");
    ASSERT_FALSE(journal(*j, seg_a, 0, 4));
    const auto torn_at = j->lap_offset();
    ASSERT_FALSE(journal(*j, seg_a, 4, 8));
    j.reset();
    {
        // The second entry's last byte never reached the disk.
        const int fd = ::open((data() / commit_journal::file_name).c_str(), O_WRONLY);
        ASSERT_GE(fd, 0);
        const char zero = 0;
        ASSERT_EQ(::pwrite(fd, &zero, 1,
                           static_cast<off_t>(torn_at + commit_journal::entry_header_bytes +
                                              seg_a.size() + 3)),
                  1);
        ::close(fd);
    }
    lose_after(seg_a, 0);
    const auto report = commit_journal::replay(data(), true, &io_);
    EXPECT_EQ(report.entries, 1u);
    EXPECT_EQ(read_file(data() / seg_a), "one|");
}

TEST_F(commit_journal_test, a_new_lap_starts_after_a_checkpoint_and_hides_the_old_one) {
    fs::create_directories(data());
    const std::string chunk(100, 'x');
    const std::uint64_t entry = commit_journal::entry_header_bytes + seg_a.size() + chunk.size();
    auto j = open_journal(3 * entry);  // three entries a lap
    segment(seg_a, chunk + chunk + chunk);
    ASSERT_FALSE(journal(*j, seg_a, 0, 100));
    ASSERT_FALSE(journal(*j, seg_a, 100, 200));
    ASSERT_FALSE(journal(*j, seg_a, 200, 300));
    EXPECT_EQ(io_.calls(io_op::syncfs), 0);
    const auto checkpoints = counters().journal_checkpoints.load();
    segment(seg_b, chunk);
    ASSERT_FALSE(journal(*j, seg_b, 0, 100));  // does not fit: checkpoint, then offset 0
    EXPECT_EQ(io_.calls(io_op::syncfs), 1);
    EXPECT_EQ(counters().journal_checkpoints.load(), checkpoints + 1);
    EXPECT_EQ(j->lap_offset(), entry);
    j.reset();
    // The checkpoint made seg_a durable; the old lap's entries 2 and 3, still in the file, are
    // not replayed (here they would bring back bytes the test removed).
    lose_after(seg_a, 0);
    lose_after(seg_b, 0);
    const auto report = commit_journal::replay(data(), true, &io_);
    EXPECT_EQ(report.entries, 1u);
    EXPECT_EQ(read_file(data() / seg_b), chunk);
    EXPECT_EQ(fs::file_size(data() / seg_a), 0u);
}

TEST_F(commit_journal_test, entries_of_deleted_segments_are_skipped) {
    fs::create_directories(data());
    auto j = open_journal();
    segment(seg_a, "expired");
    ASSERT_FALSE(journal(*j, seg_a, 0, 7));
    j.reset();
    fs::remove_all(data() / "streams");  // retention or DeleteStream since
    const auto report = commit_journal::replay(data(), true, &io_);
    EXPECT_EQ(report.entries, 1u);
    EXPECT_EQ(report.missing_files, 1u);
    EXPECT_EQ(report.files, 0u);
    EXPECT_FALSE(fs::exists(data() / seg_a));  // never created by a replay
}

TEST_F(commit_journal_test, replay_never_writes_outside_the_data_directory) {
    fs::create_directories(data());
    write_file(tmp_.path() / "outside.seg", "untouched");
    auto j = open_journal();
    const std::string bytes = "attack";
    const journal_range r{.path = "../outside.seg", .offset = 0, .bytes = bytes_of(bytes)};
    ASSERT_FALSE(j->write({&r, 1}));
    j.reset();
    const auto report = commit_journal::replay(data(), true, &io_);
    EXPECT_EQ(report.entries, 0u);
    EXPECT_EQ(read_file(tmp_.path() / "outside.seg"), "untouched");
}

TEST_F(commit_journal_test, a_failed_write_is_rewritten_at_the_same_offset) {
    fs::create_directories(data());
    auto j = open_journal(4096);
    segment(seg_a, "ok|lost|again|");
    ASSERT_FALSE(journal(*j, seg_a, 0, 3));
    const auto offset = j->lap_offset();
    io_.fail({.op = io_op::fdatasync, .error = EIO, .times = 1, .path_part = "commit.journal"});
    EXPECT_EQ(journal(*j, seg_a, 3, 8), make_error_code(storage_errc::io_error));
    EXPECT_EQ(j->lap_offset(), offset);
    ASSERT_FALSE(journal(*j, seg_a, 3, 14));  // the next round covers the failed one's bytes
    // A checkpoint that fails fails its write too, and keeps the lap (its entries are needed).
    const std::string big(1900, 'y');
    segment(seg_b, big + big);
    ASSERT_FALSE(journal(*j, seg_b, 0, 1900));
    const auto before_checkpoint = j->lap_offset();
    io_.fail({.op = io_op::syncfs, .error = EIO, .times = 1, .path_part = {}});
    EXPECT_EQ(journal(*j, seg_b, 1900, 3800), make_error_code(storage_errc::io_error));
    EXPECT_EQ(j->lap_offset(), before_checkpoint);
    j.reset();
    lose_after(seg_a, 0);
    lose_after(seg_b, 0);
    EXPECT_EQ(commit_journal::replay(data(), true, &io_).entries, 3u);
    EXPECT_EQ(read_file(data() / seg_a), "ok|lost|again|");
    EXPECT_TRUE(read_file(data() / seg_b) == big);
}

// A clean shutdown: everything is made durable in the segment files, then the entries are
// invalidated; if the syncfs fails they stay valid.
TEST_F(commit_journal_test, retire_flushes_the_file_system_before_invalidating) {
    fs::create_directories(data());
    auto j = open_journal();
    segment(seg_a, "kept");
    ASSERT_FALSE(journal(*j, seg_a, 0, 4));
    io_.fail({.op = io_op::syncfs, .error = EIO, .times = 1, .path_part = {}});
    EXPECT_EQ(j->retire(), make_error_code(storage_errc::io_error));
    EXPECT_EQ(io_.calls(io_op::syncfs), 1);
    ASSERT_FALSE(j->retire());
    EXPECT_EQ(io_.calls(io_op::syncfs), 2);
    j.reset();
    EXPECT_EQ(commit_journal::replay(data(), true, &io_).entries, 0u);
    EXPECT_EQ(read_file(data() / seg_a), "kept");
}

TEST_F(commit_journal_test, open_fails_cleanly_where_the_journal_cannot_be_created) {
    std::error_code ec;
    EXPECT_FALSE(commit_journal::open(tmp_.path() / "no" / "such" / "dir", 1 << 20, ec, &io_));
    EXPECT_TRUE(ec);
    EXPECT_FALSE(commit_journal::replay(tmp_.path() / "no" / "such" / "dir", true, &io_).found);
}

}  // namespace
}  // namespace kinesd::storage
