#include "kinesd/api/model_pattern.hpp"

#include <algorithm>
#include <limits>
#include <optional>

namespace kinesd::api {
namespace {

constexpr std::uint32_t unbounded = std::numeric_limits<std::uint32_t>::max();
// Longer sequences go to std::regex: the backtracking below is meant for short patterns.
constexpr std::size_t max_fast_atoms = 16;

bool is_ascii_punct(char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x80 && u > 0x20 && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') &&
           !(c >= 'A' && c <= 'Z');
}

void add_range(std::bitset<128>& set, char from, char to) {
    for (int c = static_cast<unsigned char>(from); c <= static_cast<unsigned char>(to); ++c) {
        set.set(static_cast<std::size_t>(c));
    }
}

// Adds the class for an escape letter (\d, \w, \s) or a escaped punctuation character.
// Returns false for escapes the fast path does not handle (\S, \p{..}, \b, ...).
bool add_escape(std::bitset<128>& set, char c) {
    switch (c) {
        case 'd':
            add_range(set, '0', '9');
            return true;
        case 'w':
            add_range(set, '0', '9');
            add_range(set, 'a', 'z');
            add_range(set, 'A', 'Z');
            set.set('_');
            return true;
        case 's':
            for (char s : {' ', '\t', '\n', '\x0B', '\f', '\r'})
                set.set(static_cast<std::size_t>(s));
            return true;
        default:
            if (!is_ascii_punct(c)) return false;
            set.set(static_cast<std::size_t>(static_cast<unsigned char>(c)));
            return true;
    }
}

// Parses "[...]" starting at pattern[i] == '['; leaves i after the ']'.
bool parse_class(std::string_view p, std::size_t& i, std::bitset<128>& set) {
    ++i;                                            // '['
    if (i < p.size() && p[i] == '^') return false;  // negated classes would admit non-ASCII
    bool any = false;
    while (i < p.size() && p[i] != ']') {
        char c = p[i];
        if (static_cast<unsigned char>(c) >= 0x80 || c == '[') return false;
        if (c == '\\') {
            if (i + 1 >= p.size() || !add_escape(set, p[i + 1])) return false;
            i += 2;
            any = true;
            continue;
        }
        if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
            char to = p[i + 2];
            if (to == '\\' || to == '[' || static_cast<unsigned char>(to) >= 0x80 || to < c) {
                return false;
            }
            add_range(set, c, to);
            i += 3;
        } else {
            set.set(static_cast<std::size_t>(static_cast<unsigned char>(c)));
            ++i;
        }
        any = true;
    }
    if (i >= p.size() || !any) return false;
    ++i;  // ']'
    return true;
}

std::optional<std::uint32_t> parse_number(std::string_view p, std::size_t& i) {
    std::uint64_t n = 0;
    std::size_t start = i;
    while (i < p.size() && p[i] >= '0' && p[i] <= '9') {
        n = n * 10 + static_cast<std::uint64_t>(p[i] - '0');
        if (n >= unbounded) return std::nullopt;
        ++i;
    }
    if (i == start) return std::nullopt;
    return static_cast<std::uint32_t>(n);
}

// Parses an optional quantifier after an atom: + * ? {m} {m,} {m,n}.
bool parse_quantifier(std::string_view p, std::size_t& i, std::uint32_t& min, std::uint32_t& max) {
    min = max = 1;
    if (i >= p.size()) return true;
    switch (p[i]) {
        case '+':
            min = 1;
            max = unbounded;
            ++i;
            break;
        case '*':
            min = 0;
            max = unbounded;
            ++i;
            break;
        case '?':
            min = 0;
            max = 1;
            ++i;
            break;
        case '{': {
            ++i;
            auto lo = parse_number(p, i);
            if (!lo) return false;
            min = max = *lo;
            if (i < p.size() && p[i] == ',') {
                ++i;
                if (i < p.size() && p[i] == '}') {
                    max = unbounded;
                } else {
                    auto hi = parse_number(p, i);
                    if (!hi || *hi < min) return false;
                    max = *hi;
                }
            }
            if (i >= p.size() || p[i] != '}') return false;
            ++i;
            break;
        }
        default:
            return true;
    }
    // Lazy (x+?) and possessive (x++) forms: leave them to std::regex.
    return !(i < p.size() && (p[i] == '?' || p[i] == '+'));
}

}  // namespace

bool pattern_matcher::parse_fast(std::string_view pattern, std::vector<sequence>& out) {
    // Split on top-level '|'.
    std::vector<std::string_view> alternatives;
    {
        std::size_t start = 0;
        int depth = 0;
        bool in_class = false;
        for (std::size_t i = 0; i < pattern.size(); ++i) {
            char c = pattern[i];
            if (c == '\\') {
                ++i;
            } else if (in_class) {
                if (c == ']') in_class = false;
            } else if (c == '[') {
                in_class = true;
            } else if (c == '(') {
                ++depth;
            } else if (c == ')') {
                --depth;
            } else if (c == '|' && depth == 0) {
                alternatives.push_back(pattern.substr(start, i - start));
                start = i + 1;
            }
        }
        alternatives.push_back(pattern.substr(start));
    }

    for (std::string_view alt : alternatives) {
        // One plain group around a whole alternative, as in "0|([1-9]\d{0,38})".
        if (alt.size() >= 2 && alt.front() == '(' && alt.back() == ')') {
            alt = alt.substr(1, alt.size() - 2);
        }
        sequence seq;
        std::size_t i = 0;
        while (i < alt.size()) {
            atom a;
            char c = alt[i];
            if (c == '[') {
                if (!parse_class(alt, i, a.chars)) return false;
            } else if (c == '\\') {
                if (i + 1 >= alt.size() || !add_escape(a.chars, alt[i + 1])) return false;
                i += 2;
            } else if (static_cast<unsigned char>(c) >= 0x80 ||
                       std::string_view{".^$()|*+?{}]"}.find(c) != std::string_view::npos) {
                return false;
            } else {
                a.chars.set(static_cast<std::size_t>(static_cast<unsigned char>(c)));
                ++i;
            }
            if (!parse_quantifier(alt, i, a.min, a.max)) return false;
            seq.push_back(a);
            if (seq.size() > max_fast_atoms) return false;
        }
        out.push_back(std::move(seq));
    }
    return true;
}

pattern_matcher::pattern_matcher(std::string pattern) : pattern_(std::move(pattern)) {
    if (!parse_fast(pattern_, alternatives_)) {
        alternatives_.clear();
        regex_ = std::make_unique<const std::regex>(pattern_,
                                                    std::regex::ECMAScript | std::regex::optimize);
    }
}

bool pattern_matcher::match_sequence(const sequence& seq, std::size_t item, std::string_view text,
                                     std::size_t pos) {
    if (item == seq.size()) return pos == text.size();
    const atom& a = seq[item];
    std::size_t limit = std::min<std::size_t>(a.max, text.size() - pos);
    std::size_t n = 0;
    while (n < limit) {
        auto u = static_cast<unsigned char>(text[pos + n]);
        if (u >= 0x80 || !a.chars.test(u)) break;
        ++n;
    }
    if (n < a.min) return false;
    if (item + 1 == seq.size()) return pos + n == text.size();  // greedy is the only candidate
    for (std::size_t k = n;; --k) {
        if (match_sequence(seq, item + 1, text, pos + k)) return true;
        if (k == a.min) break;
    }
    return false;
}

bool pattern_matcher::matches(std::string_view text) const {
    if (regex_) return std::regex_match(text.begin(), text.end(), *regex_);
    return std::any_of(alternatives_.begin(), alternatives_.end(),
                       [&](const sequence& seq) { return match_sequence(seq, 0, text, 0); });
}

}  // namespace kinesd::api
