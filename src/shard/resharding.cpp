#include "kinesd/shard/resharding.hpp"

#include <algorithm>
#include <stdexcept>

namespace kinesd {

bool valid_split_key(const hash_range& parent, uint128 k) {
    // s + 1 < k, written so that s + 1 cannot overflow (s < k already excludes s == max).
    return k > parent.start && k - parent.start > 1 && k < parent.end;
}

std::pair<hash_range, hash_range> split_range(const hash_range& parent, uint128 k) {
    return {hash_range{parent.start, k - 1}, hash_range{k, parent.end}};
}

uint128 halving_key(const hash_range& r) { return r.start + (r.end - r.start) / 2 + 1; }

bool adjacent(const hash_range& a, const hash_range& b) {
    return (a.end != uint128_max && a.end + 1 == b.start) ||
           (b.end != uint128_max && b.end + 1 == a.start);
}

hash_range merged_range(const hash_range& a, const hash_range& b) {
    return {std::min(a.start, b.start), std::max(a.end, b.end)};
}

reshard_planner::reshard_planner(std::vector<open_shard> open, std::uint32_t next_index)
    : open_(std::move(open)), next_index_(next_index) {
    std::sort(open_.begin(), open_.end(),
              [](const open_shard& a, const open_shard& b) { return a.range.start < b.range.start; });
    for (const auto& s : open_) initially_open_.push_back(s.index);
}

std::size_t reshard_planner::position(std::uint32_t index) const {
    for (std::size_t i = 0; i < open_.size(); ++i)
        if (open_[i].index == index) return i;
    return static_cast<std::size_t>(-1);
}

void reshard_planner::close(std::uint32_t index) {
    open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(position(index)));
    auto created = std::find_if(created_.begin(), created_.end(),
                                [&](const planned_shard& p) { return p.index == index; });
    if (created != created_.end())
        created->closed = true;
    else
        closed_existing_.push_back(index);
}

std::uint32_t reshard_planner::create(hash_range range, std::optional<std::uint32_t> parent,
                                      std::optional<std::uint32_t> adjacent_parent) {
    if (next_index_ == 0x7fffffff) throw std::length_error("reshard_planner: shard ids exhausted");
    const std::uint32_t index = next_index_++;
    created_.push_back(planned_shard{index, range, parent, adjacent_parent, false});
    auto at = std::upper_bound(open_.begin(), open_.end(), range.start,
                               [](uint128 s, const open_shard& o) { return s < o.range.start; });
    open_.insert(at, open_shard{index, range});
    return index;
}

bool reshard_planner::split(std::uint32_t index, uint128 k) {
    const std::size_t at = position(index);
    if (at == static_cast<std::size_t>(-1) || !valid_split_key(open_[at].range, k)) return false;
    const auto [lower, upper] = split_range(open_[at].range, k);
    close(index);
    create(lower, index, std::nullopt);
    create(upper, index, std::nullopt);
    return true;
}

bool reshard_planner::merge(std::uint32_t index, std::uint32_t adjacent_index) {
    const std::size_t a = position(index), b = position(adjacent_index);
    if (a == static_cast<std::size_t>(-1) || b == static_cast<std::size_t>(-1) || a == b ||
        !adjacent(open_[a].range, open_[b].range))
        return false;
    const hash_range range = merged_range(open_[a].range, open_[b].range);
    close(index);
    close(adjacent_index);
    create(range, index, adjacent_index);
    return true;
}

void reshard_planner::scale_uniformly(std::uint32_t target) {
    if (target == 0) throw std::invalid_argument("scale_uniformly: target must be at least 1");
    if (target > open_.size()) {
        // Halve every shard open now, in hash order (the children get consecutive ids).
        std::vector<open_shard> before = open_;
        for (const auto& s : before)
            if (!split(s.index, halving_key(s.range)))
                throw std::invalid_argument("scale_uniformly: a shard is too narrow to halve");
    }
    // Merge adjacent pairs from the low end of the hash space, as many as needed; a pass merges
    // at most every other shard, so scaling below half takes more than one pass.
    while (open_.size() > target) {
        std::size_t merges = open_.size() - target;
        std::vector<open_shard> before = open_;
        for (std::size_t i = 0; i + 1 < before.size() && merges > 0; i += 2, --merges)
            merge(before[i].index, before[i + 1].index);
    }
}

bool covers_hash_space(const std::vector<open_shard>& open) {
    if (open.empty() || open.front().range.start != 0 || open.back().range.end != uint128_max)
        return false;
    for (std::size_t i = 0; i < open.size(); ++i) {
        if (open[i].range.start > open[i].range.end) return false;
        if (i + 1 < open.size() &&
            (open[i].range.end == uint128_max || open[i].range.end + 1 != open[i + 1].range.start))
            return false;
    }
    return true;
}

}  // namespace kinesd
