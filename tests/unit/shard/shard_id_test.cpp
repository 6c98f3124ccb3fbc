#include "kinesd/shard/shard_id.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kinesd {
namespace {

std::optional<std::uint32_t> index_of(std::string_view text) {
    auto id = shard_id::parse(text);
    if (!id) return std::nullopt;
    return id->index;
}

TEST(shard_id, str_pads_to_twelve_digits) {
    EXPECT_EQ(shard_id{0}.str(), "shardId-000000000000");
    EXPECT_EQ(shard_id{7}.str(), "shardId-000000000007");
    EXPECT_EQ(shard_id{123456}.str(), "shardId-000000123456");
    EXPECT_EQ(shard_id{2147483647}.str(), "shardId-002147483647");
    EXPECT_EQ(shard_id{4294967295u}.str(), "shardId-004294967295");
}

TEST(shard_id, append_to_appends_the_same_text) {
    std::string out = "x";
    shard_id{42}.append_to(out);
    EXPECT_EQ(out, "x" + shard_id{42}.str());
    EXPECT_EQ(out, "xshardId-000000000042");
}

TEST(shard_id, parses_the_canonical_form) {
    EXPECT_EQ(index_of("shardId-000000000000"), 0u);
    EXPECT_EQ(index_of("shardId-000000000001"), 1u);
    EXPECT_EQ(index_of("shardId-000000000042"), 42u);
    for (std::uint32_t i : {0u, 1u, 9u, 10u, 999999u, 2147483647u}) {
        EXPECT_EQ(index_of(shard_id{i}.str()), i);
    }
}

// The short forms below are the ones kinesalite's test suite (run against AWS) shows AWS
// accepting for GetShardIterator and SplitShard.
TEST(shard_id, parses_short_forms) {
    EXPECT_EQ(index_of("shardId-1"), 1u);
    EXPECT_EQ(index_of("shardId-5"), 5u);
    EXPECT_EQ(index_of("shard-0"), 0u);
    EXPECT_EQ(index_of("1"), 1u);
    EXPECT_EQ(index_of("0"), 0u);
    EXPECT_EQ(index_of("2147483647"), 2147483647u);
    EXPECT_EQ(index_of("__kinesalite_test_3141592653.58-2147483647"), 2147483647u);
    EXPECT_EQ(index_of("a-00002147483647"), 2147483647u);
    EXPECT_EQ(index_of("-00002147483647"), 2147483647u);
    EXPECT_EQ(index_of("-0"), 0u);
}

TEST(shard_id, leading_zeros_of_any_length) {
    EXPECT_EQ(index_of("shardId-" + std::string(100, '0') + "3"), 3u);
    EXPECT_EQ(index_of(std::string(50, '0')), 0u);
}

TEST(shard_id, takes_the_digits_after_the_last_dash) {
    EXPECT_EQ(index_of("my-stream-shard-12"), 12u);
    EXPECT_EQ(index_of("a-b-c-3"), 3u);
    EXPECT_EQ(index_of("a-1-2"), 2u);
}

TEST(shard_id, rejects_indexes_above_int32_max) {
    // AWS answers "Could not find shard ..." for these.
    EXPECT_EQ(index_of("2147483648"), std::nullopt);
    EXPECT_EQ(index_of("shardId-002147483648"), std::nullopt);
    EXPECT_EQ(index_of("4294967295"), std::nullopt);
    EXPECT_EQ(index_of("4294967296"), std::nullopt);
    EXPECT_EQ(index_of("99999999999"), std::nullopt);
    EXPECT_EQ(index_of("shardId-" + std::string(40, '9')), std::nullopt);
}

TEST(shard_id, rejects_text_without_trailing_digits) {
    EXPECT_EQ(index_of(""), std::nullopt);
    EXPECT_EQ(index_of("-"), std::nullopt);
    EXPECT_EQ(index_of("shardId-"), std::nullopt);
    EXPECT_EQ(index_of("shardId"), std::nullopt);
    EXPECT_EQ(index_of("ABKLFD8"), std::nullopt);
    EXPECT_EQ(index_of("2.14E4"), std::nullopt);
    EXPECT_EQ(index_of("shardId-1a"), std::nullopt);
    EXPECT_EQ(index_of("shardId-a1"), std::nullopt);
    EXPECT_EQ(index_of("shardId-+1"), std::nullopt);
    EXPECT_EQ(index_of("shardId- 1"), std::nullopt);
    EXPECT_EQ(index_of("shardId-1-"), std::nullopt);
    EXPECT_EQ(index_of("1.5"), std::nullopt);
}

TEST(shard_id, ordering_follows_the_index) {
    EXPECT_LT(shard_id{1}, shard_id{2});
    EXPECT_EQ(shard_id::parse("shardId-7"), shard_id{7});
    EXPECT_GT(shard_id{10}, shard_id{9});
}

}  // namespace
}  // namespace kinesd
