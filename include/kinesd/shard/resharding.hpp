#pragma once
// Resharding arithmetic, pure (no I/O, no locks): how SplitShard, MergeShards and
// UpdateShardCount change the set of open shards and which shards they create, with ids that
// continue the stream's sequence. The caller validates requests with the predicates below (to
// give AWS's errors) and then applies the plan (stream::reshard).
//
// Invariant kept by every operation: the open shards' ranges cover 0..2^128-1 exactly, without
// gaps or overlaps.
#include <cstdint>
#include <optional>
#include <vector>

#include "kinesd/shard/hash_key.hpp"

namespace kinesd {

// An open shard as the planner sees it.
struct open_shard {
    std::uint32_t index = 0;
    hash_range range;
};

// A shard a plan creates.
struct planned_shard {
    std::uint32_t index = 0;
    hash_range range;
    std::optional<std::uint32_t> parent;
    std::optional<std::uint32_t> adjacent_parent;
    bool closed = false;  // short-lived: a later step of the same plan closed it again
};

// SplitShard accepts NewStartingHashKey k for a shard [s, e] when s + 1 < k < e (AWS's rule,
// stated in its error: "greater than one plus the shard's StartingHashKey and less than the
// shard's EndingHashKey"), so both children get at least two keys.
bool valid_split_key(const hash_range& parent, uint128 new_starting_hash_key);

// The children of a split at k: [s, k-1] and [k, e]. Requires valid_split_key.
std::pair<hash_range, hash_range> split_range(const hash_range& parent, uint128 new_starting_hash_key);

// The key that halves [s, e]: s + floor((e - s) / 2) + 1, so a full range halves at 2^127, as
// CreateStream's even split does. Requires e - s >= 3 (a valid split key exists).
uint128 halving_key(const hash_range& r);

// Two ranges are adjacent when their union is contiguous, in either order.
bool adjacent(const hash_range& a, const hash_range& b);
hash_range merged_range(const hash_range& a, const hash_range& b);  // requires adjacent(a, b)

// Applies resharding steps to a set of open shards and records what they create and close.
// Not thread-safe; a value type.
class reshard_planner {
public:
    // open: the stream's open shards (any order); next_index: the stream's next shard index.
    reshard_planner(std::vector<open_shard> open, std::uint32_t next_index);

    // SplitShard: closes `index`, creates [s, k-1] then [k, e]. Requires an open `index` and
    // valid_split_key. Returns false (and changes nothing) when a requirement does not hold.
    bool split(std::uint32_t index, uint128 new_starting_hash_key);

    // MergeShards: closes both, creates their union with parent = `index`, adjacent parent =
    // `adjacent_index`. Returns false (and changes nothing) unless both are open and adjacent.
    bool merge(std::uint32_t index, std::uint32_t adjacent_index);

    // UpdateShardCount UNIFORM_SCALING to `target` open shards, with the splits and merges AWS
    // makes (the totals of shards AWS reports for e.g. 2->4, 4->5, 10->13, 4->2, 5->3 match):
    // scaling up splits every open shard in half (by hash order), then merges adjacent pairs from
    // the low end of the hash space until `target` remain; scaling down merges adjacent pairs
    // from the low end. Requires 1 <= target and each open shard wide enough to halve (always
    // true below 2^126 shards). No-op when target equals the open count.
    void scale_uniformly(std::uint32_t target);

    // Open shards now, ordered by range start.
    const std::vector<open_shard>& open() const { return open_; }
    // Shards open at construction that the plan closed, in the order it closed them.
    const std::vector<std::uint32_t>& closed_existing() const { return closed_existing_; }
    // Shards the plan created, by index (ascending).
    const std::vector<planned_shard>& created() const { return created_; }
    std::uint32_t next_index() const { return next_index_; }

private:
    std::size_t position(std::uint32_t index) const;  // in open_, or npos
    void close(std::uint32_t index);
    std::uint32_t create(hash_range range, std::optional<std::uint32_t> parent,
                         std::optional<std::uint32_t> adjacent_parent);

    std::vector<open_shard> open_;
    std::vector<std::uint32_t> initially_open_;
    std::vector<std::uint32_t> closed_existing_;
    std::vector<planned_shard> created_;
    std::uint32_t next_index_;
};

// True when `open` (ordered by start) covers 0..2^128-1 exactly, without gaps or overlaps.
bool covers_hash_space(const std::vector<open_shard>& open);

}  // namespace kinesd
