#include "kinesd/shard/resharding.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace kinesd {
namespace {

std::vector<open_shard> even(std::uint32_t n) {
    std::vector<open_shard> out;
    auto ranges = split_evenly(n);
    for (std::uint32_t i = 0; i < n; ++i) out.push_back({i, ranges[i]});
    return out;
}

// Every created shard's parents exist (were open before or created earlier in the plan), ids
// continue the sequence, and no range is empty.
void expect_consistent_lineage(const reshard_planner& p, std::uint32_t first_new_index,
                               const std::set<std::uint32_t>& existing) {
    std::set<std::uint32_t> known = existing;
    std::uint32_t expected = first_new_index;
    for (const auto& c : p.created()) {
        EXPECT_EQ(c.index, expected++);
        EXPECT_LE(c.range.start, c.range.end);
        ASSERT_TRUE(c.parent.has_value());
        EXPECT_TRUE(known.count(*c.parent)) << c.index;
        if (c.adjacent_parent) {
            EXPECT_TRUE(known.count(*c.adjacent_parent)) << c.index;
        }
        known.insert(c.index);
    }
    EXPECT_EQ(p.next_index(), expected);
}

TEST(resharding, split_key_must_be_strictly_inside_with_two_keys_per_child) {
    const hash_range r{100, 200};
    EXPECT_FALSE(valid_split_key(r, 99));
    EXPECT_FALSE(valid_split_key(r, 100));
    EXPECT_FALSE(valid_split_key(r, 101));  // child [100, 100]: AWS wants k > start + 1
    EXPECT_TRUE(valid_split_key(r, 102));
    EXPECT_TRUE(valid_split_key(r, 199));
    EXPECT_FALSE(valid_split_key(r, 200));
    EXPECT_FALSE(valid_split_key(r, 201));
    const hash_range full{0, uint128_max};
    EXPECT_FALSE(valid_split_key(full, 0));
    EXPECT_FALSE(valid_split_key(full, 1));
    EXPECT_TRUE(valid_split_key(full, 2));
    EXPECT_TRUE(valid_split_key(full, uint128_max - 1));
    EXPECT_FALSE(valid_split_key(full, uint128_max));
    const hash_range top{uint128_max - 3, uint128_max};
    EXPECT_TRUE(valid_split_key(top, uint128_max - 1));
    EXPECT_FALSE(valid_split_key(top, uint128_max - 2));
}

TEST(resharding, halving_key_matches_the_even_split) {
    const hash_range full{0, uint128_max};
    EXPECT_EQ(halving_key(full), uint128{1} << 127);
    auto quarters = split_evenly(4);
    EXPECT_EQ(halving_key(split_evenly(2)[0]), quarters[1].start);
    EXPECT_EQ(halving_key(split_evenly(2)[1]), quarters[3].start);
    EXPECT_EQ(halving_key(hash_range{10, 13}), 12u);
}

TEST(resharding, adjacency_in_either_order_and_no_overflow_at_the_top) {
    EXPECT_TRUE(adjacent({0, 9}, {10, 20}));
    EXPECT_TRUE(adjacent({10, 20}, {0, 9}));
    EXPECT_FALSE(adjacent({0, 9}, {11, 20}));
    EXPECT_FALSE(adjacent({0, 10}, {10, 20}));  // overlap
    EXPECT_FALSE(adjacent({0, uint128_max}, {0, uint128_max}));
    EXPECT_TRUE(adjacent({5, uint128_max}, {0, 4}));
    EXPECT_EQ(merged_range({10, 20}, {0, 9}), (hash_range{0, 20}));
}

TEST(resharding, split_closes_the_parent_and_creates_two_children_with_the_next_ids) {
    reshard_planner p(even(4), 4);
    const uint128 k = split_evenly(4)[3].start + 1000;
    ASSERT_TRUE(p.split(3, k));
    ASSERT_EQ(p.created().size(), 2u);
    EXPECT_EQ(p.created()[0].index, 4u);
    EXPECT_EQ(p.created()[0].range, (hash_range{split_evenly(4)[3].start, k - 1}));
    EXPECT_EQ(p.created()[0].parent, 3u);
    EXPECT_FALSE(p.created()[0].adjacent_parent);
    EXPECT_EQ(p.created()[1].index, 5u);
    EXPECT_EQ(p.created()[1].range, (hash_range{k, uint128_max}));
    EXPECT_EQ(p.created()[1].parent, 3u);
    EXPECT_EQ(p.closed_existing(), std::vector<std::uint32_t>{3});
    EXPECT_EQ(p.open().size(), 5u);
    EXPECT_TRUE(covers_hash_space(p.open()));
    EXPECT_EQ(p.next_index(), 6u);
}

TEST(resharding, invalid_split_changes_nothing) {
    reshard_planner p(even(2), 2);
    EXPECT_FALSE(p.split(0, 0));
    EXPECT_FALSE(p.split(0, split_evenly(2)[1].start));  // the other shard's key
    EXPECT_FALSE(p.split(7, 12345));                      // no such open shard
    EXPECT_TRUE(p.created().empty());
    EXPECT_TRUE(p.closed_existing().empty());
    EXPECT_EQ(p.next_index(), 2u);
}

TEST(resharding, merge_creates_the_union_with_both_parents) {
    reshard_planner p(even(3), 3);
    ASSERT_TRUE(p.merge(2, 1));  // the higher shard first: still adjacent
    ASSERT_EQ(p.created().size(), 1u);
    const auto& c = p.created()[0];
    EXPECT_EQ(c.index, 3u);
    EXPECT_EQ(c.parent, 2u);
    EXPECT_EQ(c.adjacent_parent, 1u);
    EXPECT_EQ(c.range, (hash_range{split_evenly(3)[1].start, uint128_max}));
    EXPECT_TRUE(covers_hash_space(p.open()));
    EXPECT_EQ(p.open().size(), 2u);
}

TEST(resharding, merge_refuses_non_adjacent_closed_and_identical_shards) {
    reshard_planner p(even(4), 4);
    EXPECT_FALSE(p.merge(0, 2));
    EXPECT_FALSE(p.merge(1, 1));
    ASSERT_TRUE(p.merge(0, 1));
    EXPECT_FALSE(p.merge(1, 2));  // 1 is closed now
    EXPECT_TRUE(p.merge(4, 2));   // the child is adjacent to 2
    EXPECT_TRUE(covers_hash_space(p.open()));
}

// The totals of shards (open and closed) AWS reports after UpdateShardCount from a new stream.
TEST(resharding, uniform_scaling_creates_as_many_shards_as_aws) {
    struct scenario {
        std::uint32_t from, to, total;
    };
    for (auto [from, to, total] : {scenario{2, 4, 6}, scenario{4, 5, 15}, scenario{10, 13, 37},
                                   scenario{4, 2, 6}, scenario{5, 3, 7}, scenario{1, 2, 3}}) {
        SCOPED_TRACE(testing::Message() << from << " -> " << to);
        reshard_planner p(even(from), from);
        p.scale_uniformly(to);
        EXPECT_EQ(from + p.created().size(), total);
        EXPECT_EQ(p.open().size(), to);
        EXPECT_TRUE(covers_hash_space(p.open()));
    }
}

TEST(resharding, doubling_gives_the_even_split_of_the_new_count) {
    reshard_planner p(even(2), 2);
    p.scale_uniformly(4);
    ASSERT_EQ(p.open().size(), 4u);
    auto quarters = split_evenly(4);
    for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(p.open()[i].range, quarters[i]);
    EXPECT_EQ(p.open()[0].index, 2u);
    EXPECT_EQ(p.open()[3].index, 5u);
    for (const auto& c : p.created()) EXPECT_FALSE(c.closed);
}

TEST(resharding, scaling_up_by_less_than_double_closes_short_lived_children) {
    reshard_planner p(even(4), 4);
    p.scale_uniformly(5);
    // 8 halves (4..11), then 3 merges (12..14) of the lowest pairs: 4+5, 6+7, 8+9.
    ASSERT_EQ(p.created().size(), 11u);
    for (std::uint32_t i = 4; i <= 9; ++i) EXPECT_TRUE(p.created()[i - 4].closed) << i;
    for (std::uint32_t i = 10; i <= 14; ++i) EXPECT_FALSE(p.created()[i - 4].closed) << i;
    EXPECT_EQ(p.created()[8].parent, 4u);
    EXPECT_EQ(p.created()[8].adjacent_parent, 5u);
    EXPECT_EQ(p.closed_existing(), (std::vector<std::uint32_t>{0, 1, 2, 3}));
    expect_consistent_lineage(p, 4, {0, 1, 2, 3});
}

TEST(resharding, uniform_scaling_to_every_count_within_bounds_covers_the_space) {
    for (std::uint32_t n = 1; n <= 24; ++n) {
        std::set<std::uint32_t> existing;
        for (std::uint32_t i = 0; i < n; ++i) existing.insert(i);
        for (std::uint32_t t = (n + 1) / 2; t <= 2 * n; ++t) {
            SCOPED_TRACE(testing::Message() << n << " -> " << t);
            reshard_planner p(even(n), n);
            p.scale_uniformly(t);
            ASSERT_EQ(p.open().size(), t);
            ASSERT_TRUE(covers_hash_space(p.open()));
            expect_consistent_lineage(p, n, existing);
            // Scaling up leaves halves and pairs of halves of the original width, scaling down
            // pairs of originals (the last original may be up to n-1 keys wider).
            const long double whole = static_cast<long double>(split_evenly(n)[0].end - split_evenly(n)[0].start);
            const long double bound = (t >= n ? 1.0L : 2.0L) * whole * (1.0L + 1e-12L);
            for (const auto& s : p.open())
                EXPECT_LE(static_cast<long double>(s.range.end - s.range.start), bound);
        }
    }
}

TEST(resharding, scaling_down_below_half_takes_several_passes) {
    reshard_planner p(even(10), 10);
    p.scale_uniformly(3);
    EXPECT_EQ(p.open().size(), 3u);
    EXPECT_TRUE(covers_hash_space(p.open()));
    EXPECT_EQ(10 + p.created().size(), 17u);  // AWS reports 17 shards for 10 -> 3
}

TEST(resharding, random_splits_and_merges_keep_gap_free_coverage_at_every_step) {
    std::mt19937_64 rng(42);
    reshard_planner p(even(3), 3);
    for (int step = 0; step < 2000; ++step) {
        const auto open = p.open();
        if (rng() % 2 == 0 || open.size() < 2) {
            const auto& s = open[rng() % open.size()];
            const uint128 width = s.range.end - s.range.start;
            if (width < 4) continue;
            const uint128 k = s.range.start + 2 + (uint128{rng()} % (width - 2));
            ASSERT_TRUE(p.split(s.index, k)) << step;
        } else {
            const std::size_t i = rng() % (open.size() - 1);
            ASSERT_TRUE(p.merge(open[i + 1].index, open[i].index)) << step;
        }
        ASSERT_TRUE(covers_hash_space(p.open())) << step;
    }
    expect_consistent_lineage(p, 3, {0, 1, 2});
}

TEST(resharding, coverage_check_detects_gaps_overlaps_and_missing_ends) {
    EXPECT_TRUE(covers_hash_space(even(5)));
    EXPECT_FALSE(covers_hash_space({}));
    EXPECT_FALSE(covers_hash_space({{0, {0, 10}}, {1, {12, uint128_max}}}));
    EXPECT_FALSE(covers_hash_space({{0, {0, 10}}, {1, {10, uint128_max}}}));
    EXPECT_FALSE(covers_hash_space({{0, {1, uint128_max}}}));
    EXPECT_FALSE(covers_hash_space({{0, {0, uint128_max - 1}}}));
}

}  // namespace
}  // namespace kinesd
