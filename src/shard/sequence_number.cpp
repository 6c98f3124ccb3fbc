#include "kinesd/shard/sequence_number.hpp"

namespace kinesd {

namespace {

constexpr int version_shift = 124;
constexpr int shard_shift = 92;
constexpr int time_shift = 44;

constexpr std::uint64_t time_mask = (std::uint64_t{1} << 48) - 1;
constexpr std::uint64_t shard_mask = 0xffff'ffff;

// Times outside the 48-bit field are clamped: before the epoch to 0, after year 10889 to the
// largest value. Neither happens with a sane clock; clamping keeps next() monotonic anyway.
std::uint64_t time_field(epoch_ms ms) {
    if (ms < 0) return 0;
    auto u = static_cast<std::uint64_t>(ms);
    return u > time_mask ? time_mask : u;
}

}  // namespace

sequence_number sequence_number::first_of(std::uint32_t shard_index, epoch_ms ms) {
    uint128 v = uint128{version} << version_shift;
    v |= uint128{shard_index} << shard_shift;
    v |= uint128{time_field(ms)} << time_shift;
    return sequence_number{v};
}

sequence_number sequence_number::next(std::uint32_t shard_index, uint128 last, epoch_ms now) {
    // last + 1 may carry from the 44-bit counter into the time field: the number then reads as
    // a millisecond later, which is harmless and keeps the order strict.
    uint128 floor = first_of(shard_index, now).value;
    uint128 after = last + 1;
    return sequence_number{after > floor ? after : floor};
}

std::optional<sequence_number> sequence_number::parse(std::string_view text) {
    // 0|[1-9][0-9]{0,128}: no sign, no leading zero; parse_decimal_u128 refuses the rest and
    // anything of 2^128 or more (every 40+ digit text, for instance).
    if (text.size() > 1 && text.front() == '0') return std::nullopt;
    auto v = parse_decimal_u128(text);
    if (!v) return std::nullopt;
    return sequence_number{*v};
}

bool sequence_number::well_formed() const { return (value >> version_shift) == version; }

std::uint32_t sequence_number::shard_index() const {
    return static_cast<std::uint32_t>((value >> shard_shift) & shard_mask);
}

epoch_ms sequence_number::time_ms() const {
    return static_cast<epoch_ms>(static_cast<std::uint64_t>(value >> time_shift) & time_mask);
}

}  // namespace kinesd
