#include "kinesd/shard/shard_id.hpp"

#include <charconv>

namespace kinesd {

namespace {

// AWS rejects indexes above Java's Integer.MAX_VALUE (see parse()), even though the type could
// hold 2^32-1.
constexpr std::uint64_t max_shard_index = 2'147'483'647;

}  // namespace

void shard_id::append_to(std::string& out) const {
    // "shardId-" + 12 digits; an index has at most 10, so the padding never truncates.
    char buf[8 + 12] = {'s', 'h', 'a', 'r', 'd', 'I', 'd', '-'};
    std::uint32_t v = index;
    for (int i = 19; i >= 8; --i) {
        buf[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    out.append(buf, sizeof buf);
}

std::string shard_id::str() const {
    std::string out;
    append_to(out);
    return out;
}

// How AWS resolves a ShardId, as recorded by kinesalite (mhart/kinesalite; its test suite also
// runs against the real service with REMOTE=1). db/index.js resolveShardId() takes
// shardId.split('-')[1] (the text between the first and second '-', or the whole text when
// there is no '-'), requires /^\d+$/ and an index in 0..2147483647, and otherwise answers
// ResourceNotFoundException "Could not find shard <id> in stream <name> under account <acct>.".
// The GetShardIterator and SplitShard tests pin down AWS's answers:
//   accepted: "2147483647", "shard-0", "shardId-5", "<random name>-2147483647",
//             "a-00002147483647", "-00002147483647" (any prefix, even empty; leading zeros of
//             any length);
//   refused:  "2147483648", "shardId-002147483648", "ABKLFD8", "2.14E4".
// So the limit is 2^31-1 (Java's Integer.MAX_VALUE), not 2^32-1. No test has more than one
// '-'; for those we take the digits after the last '-', as the header says (kinesalite would
// take the second segment). The two rules agree on every form above.
std::optional<shard_id> shard_id::parse(std::string_view text) {
    auto dash = text.rfind('-');
    std::string_view digits = dash == std::string_view::npos ? text : text.substr(dash + 1);
    if (digits.empty()) return std::nullopt;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    // Leading zeros are allowed in any number; strip them so from_chars only sees the value.
    auto first = digits.find_first_not_of('0');
    if (first == std::string_view::npos) return shard_id{0};
    digits.remove_prefix(first);
    if (digits.size() > 10) return std::nullopt;  // more than 10 significant digits: too large
    std::uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc{} || ptr != digits.data() + digits.size() || v > max_shard_index) {
        return std::nullopt;
    }
    return shard_id{static_cast<std::uint32_t>(v)};
}

}  // namespace kinesd
