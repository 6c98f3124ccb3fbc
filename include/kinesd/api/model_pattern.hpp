#pragma once
// The `pattern` constraint of the API model, compiled once when the model loads.
//
// AWS checks a pattern against the whole value (Java's String.matches), so matches() is a full
// match, not a search: "a b" does not satisfy "[a-zA-Z0-9_.-]+". Validation runs on every
// PutRecord/PutRecords, so the simple patterns the model uses there ("[a-zA-Z0-9_.-]+",
// "0|([1-9]\d{0,38})", "[a-z0-9]{20}-[a-z0-9]{3}") are matched by a small hand matcher that
// neither allocates nor backtracks much; anything else (the ARN patterns) falls back to
// std::regex (ECMAScript), compiled once here.
#include <bitset>
#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace kinesd::api {

class pattern_matcher {
  public:
    // Throws std::regex_error if the pattern is neither in the hand matcher's subset nor
    // accepted by std::regex.
    explicit pattern_matcher(std::string pattern);

    // True if the whole of `text` (UTF-8) matches. Thread-safe; allocates only on the
    // std::regex fallback.
    bool matches(std::string_view text) const;

    // True if the hand matcher handles this pattern (no std::regex).
    bool uses_fast_path() const { return regex_ == nullptr; }

    // The pattern as written in the model, for the error message.
    const std::string& text() const { return pattern_; }

  private:
    // One ASCII character class with a repeat count, e.g. "[1-9]" {1,1} or "\d" {0,38}.
    // Bytes >= 0x80 (any non-ASCII code point) never match.
    struct atom {
        std::bitset<128> chars;
        std::uint32_t min = 1;
        std::uint32_t max = 1;
    };
    using sequence = std::vector<atom>;

    static bool parse_fast(std::string_view pattern, std::vector<sequence>& out);
    static bool match_sequence(const sequence& seq, std::size_t item, std::string_view text,
                               std::size_t pos);

    std::string pattern_;
    std::vector<sequence> alternatives_;       // fast path: any alternative matching the whole text
    std::unique_ptr<const std::regex> regex_;  // fallback; null on the fast path
};

}  // namespace kinesd::api
