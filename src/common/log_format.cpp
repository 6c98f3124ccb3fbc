#include "kinesd/common/log_format.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace kinesd {
namespace {

constexpr const char* text_pattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%n] %v";

void append(spdlog::memory_buf_t& dest, std::string_view s) { dest.append(s.data(), s.data() + s.size()); }

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 when it does not start with one.
std::size_t utf8_sequence_length(std::string_view s) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char lead = byte(0);
    std::size_t n = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        n = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        n = 3;
        if (lead == 0xE0) low = 0xA0;   // overlong
        if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        n = 4;
        if (lead == 0xF0) low = 0x90;   // overlong
        if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
        return 0;
    }
    if (s.size() < n || byte(1) < low || byte(1) > high) return 0;
    for (std::size_t i = 2; i < n; ++i)
        if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
    return n;
}

// JSON string content for `s`. Bytes that are not well-formed UTF-8 (a client's request target,
// say) become U+FFFD, so that every line stays valid JSON for a strict reader.
void append_escaped(spdlog::memory_buf_t& dest, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            const std::size_t n = utf8_sequence_length(s.substr(i));
            if (n == 0) {
                append(dest, "\\ufffd");
                ++i;
            } else {
                append(dest, s.substr(i, n));
                i += n;
            }
            continue;
        }
        switch (c) {
            case '"': append(dest, "\\\""); break;
            case '\\': append(dest, "\\\\"); break;
            case '\n': append(dest, "\\n"); break;
            case '\r': append(dest, "\\r"); break;
            case '\t': append(dest, "\\t"); break;
            default:
                if (c < 0x20) {
                    const char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                    dest.append(esc, esc + sizeof esc);
                } else {
                    dest.push_back(static_cast<char>(c));
                }
        }
        ++i;
    }
}

bool is_json_number(std::string_view v) {
    std::size_t i = 0;
    if (i < v.size() && v[i] == '-') ++i;
    const std::size_t digits_start = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    if (i == digits_start || (v[digits_start] == '0' && i - digits_start > 1)) return false;
    if (i < v.size() && v[i] == '.') {
        const std::size_t frac = ++i;
        while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
        if (i == frac) return false;
    }
    return i == v.size();
}

bool is_field_key(std::string_view k) {
    if (k.empty()) return false;
    for (char c : k)
        if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
    // Never let a field shadow the envelope.
    return k != "time" && k != "level" && k != "logger" && k != "message";
}

// %* : "message":"<escaped payload>" and, for the request logger, its key=value fields.
class json_message_flag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        const std::string_view payload(msg.payload.data(), msg.payload.size());
        append(dest, "\"message\":\"");
        append_escaped(dest, payload);
        dest.push_back('"');
        if (std::string_view(msg.logger_name.data(), msg.logger_name.size()) != "request") return;
        std::string_view rest = payload;
        while (!rest.empty()) {
            auto space = rest.find(' ');
            auto token = rest.substr(0, space);
            rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
            auto eq = token.find('=');
            if (eq == std::string_view::npos) continue;
            auto key = token.substr(0, eq), value = token.substr(eq + 1);
            if (!is_field_key(key)) continue;
            append(dest, ",\"");
            append(dest, key);
            append(dest, "\":");
            if (is_json_number(value)) {
                append(dest, value);
            } else {
                dest.push_back('"');
                append_escaped(dest, value);
                dest.push_back('"');
            }
        }
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<json_message_flag>(); }
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_log_formatter(log_format format) {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    switch (format) {
        case log_format::text: f->set_pattern(text_pattern); break;
        case log_format::json:
            f->add_flag<json_message_flag>('*').set_pattern(
                R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n",%*})");
            break;
    }
    return f;
}

void set_log_format(log_format format) { spdlog::set_formatter(make_log_formatter(format)); }

}  // namespace kinesd
