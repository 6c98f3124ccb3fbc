#include "kinesd/storage/segment_index.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace kinesd::storage {
namespace {

// Entries at offsets 0, 100, 200, ... with seqs 10, 20, 30, ... and arrivals 1000, 1000, 1001,
// 1001, 1002, ... (two entries per millisecond).
std::unique_ptr<segment_index> make_index(std::size_t n) {
    auto index = std::make_unique<segment_index>(n);
    for (std::size_t i = 0; i < n; ++i)
        EXPECT_TRUE(
            index->push({i * 100, seqno{(i + 1) * 10}, static_cast<epoch_ms>(1000 + i / 2)}));
    return index;
}

// Large capacities get a mapping of their own, partly prefaulted: same behaviour, and the
// capacity still bounds push.
TEST(segment_index, large_capacity_with_prefault) {
    constexpr std::size_t capacity = 20000;  // well above the heap threshold
    segment_index index(capacity, 15000);
    EXPECT_EQ(index.capacity(), capacity);
    for (std::size_t i = 0; i < capacity; ++i)
        ASSERT_TRUE(index.push({i * 100, seqno{(i + 1) * 10}, static_cast<epoch_ms>(1000 + i)}));
    EXPECT_FALSE(index.push({capacity * 100, seqno{(capacity + 1) * 10}, 1000 + capacity}));
    EXPECT_EQ(index.size(), capacity);
    EXPECT_EQ(index.seek(seqno{17000 * 10 + 5}, 0), 16999u * 100);
    EXPECT_EQ(index.seek(0, 1000 + 19999), 19998u * 100);
    EXPECT_TRUE(index[19999].seq == seqno{200000});

    segment_index empty(0, 10);  // zero capacity: nothing to push, nothing to read
    EXPECT_FALSE(empty.push({0, 1, 0}));
    EXPECT_EQ(empty.seek(5, 0), 0u);
}

TEST(segment_index, seek_by_seq) {
    const auto owner = make_index(10);
    const segment_index& index = *owner;
    EXPECT_EQ(index.seek(0, 0), 0u);   // from the start
    EXPECT_EQ(index.seek(9, 0), 0u);   // before the first entry
    EXPECT_EQ(index.seek(10, 0), 0u);  // the record after seq 10 follows entry 0
    EXPECT_EQ(index.seek(15, 0), 0u);
    EXPECT_EQ(index.seek(20, 0), 100u);
    EXPECT_EQ(index.seek(55, 0), 400u);
    EXPECT_EQ(index.seek(100, 0), 900u);  // the last entry
    EXPECT_EQ(index.seek(1000, 0), 900u);
}

TEST(segment_index, seek_by_arrival) {
    const auto owner = make_index(10);  // arrivals 1000 1000 1001 1001 1002 1002 ... 1004 1004
    const segment_index& index = *owner;
    EXPECT_EQ(index.seek(0, 999), 0u);
    EXPECT_EQ(index.seek(0, 1000), 0u);
    // Records of ms 1001 may follow the last entry of ms 1000 (offset 100) before entry 2.
    EXPECT_EQ(index.seek(0, 1001), 100u);
    EXPECT_EQ(index.seek(0, 1002), 300u);
    EXPECT_EQ(index.seek(0, 1004), 700u);
    EXPECT_EQ(index.seek(0, 5000), 900u);
}

TEST(segment_index, seek_takes_the_later_of_both_keys) {
    const auto owner = make_index(10);
    const segment_index& index = *owner;
    EXPECT_EQ(index.seek(80, 1001), 700u);  // seq decides
    EXPECT_EQ(index.seek(10, 1003), 500u);  // time decides
}

TEST(segment_index, empty_and_full) {
    segment_index empty(0);
    EXPECT_EQ(empty.seek(123, 456), 0u);
    EXPECT_FALSE(empty.push({0, 1, 1}));
    segment_index two(2);
    EXPECT_TRUE(two.push({0, 1, 1}));
    EXPECT_TRUE(two.push({50, 2, 1}));
    EXPECT_FALSE(two.push({100, 3, 1}));
    EXPECT_EQ(two.size(), 2u);
    EXPECT_EQ(two[1].offset, 50u);
}

TEST(index_file, round_trip) {
    std::vector<std::byte> file(index_file::header_bytes + 3 * index_file::entry_bytes);
    index_file::encode_header(file.data());
    const seqno big = (seqno{1} << 100) + 7;
    for (std::uint64_t i = 0; i < 3; ++i)
        index_file::encode_entry(
            file.data() + index_file::header_bytes + i * index_file::entry_bytes,
            {i * 4096, big + i, static_cast<epoch_ms>(1'700'000'000'000 + i)}, i * 50);
    auto parsed = index_file::parse(file);
    ASSERT_TRUE(parsed.has_value());
    ASSERT_EQ(parsed->size(), 3u);
    EXPECT_EQ((*parsed)[2].entry.offset, 8192u);
    EXPECT_TRUE((*parsed)[2].entry.seq == big + 2);
    EXPECT_EQ((*parsed)[2].entry.arrival_ms, 1'700'000'000'002);
    EXPECT_EQ((*parsed)[2].record, 100u);

    for (const auto& e : *parsed) EXPECT_TRUE(e.checksum_ok);

    // Each entry carries its own checksum.
    file[index_file::header_bytes + index_file::entry_bytes + 3] ^= std::byte{0x10};
    parsed = index_file::parse(file);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_TRUE((*parsed)[0].checksum_ok);
    EXPECT_FALSE((*parsed)[1].checksum_ok);
    EXPECT_TRUE((*parsed)[2].checksum_ok);

    // A partial trailing entry is ignored.
    file.resize(file.size() - 5);
    parsed = index_file::parse(file);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->size(), 2u);
}

TEST(index_file, bad_header) {
    std::vector<std::byte> file(index_file::header_bytes);
    EXPECT_FALSE(index_file::parse(file).has_value());  // zeros
    index_file::encode_header(file.data());
    EXPECT_TRUE(index_file::parse(file).has_value());
    EXPECT_EQ(index_file::parse(file)->size(), 0u);
    file[12] = std::byte{32};  // another entry size
    EXPECT_FALSE(index_file::parse(file).has_value());
    EXPECT_FALSE(index_file::parse(std::span(file).first(10)).has_value());
}

}  // namespace
}  // namespace kinesd::storage
