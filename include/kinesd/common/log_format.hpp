#pragma once
// --log-format: how log lines look.
//   text: 2024-01-01T00:00:00.000Z info [main] message
//   json: {"time":"2024-01-01T00:00:00.000Z","level":"info","logger":"main","message":"..."}
// one object per line, for log shippers. In json, the key=value fields of a structured line
// (the per-request line of the "request" logger) are also top-level members, numbers as
// numbers: {"...","message":"request_id=... status=200 ...","request_id":"...","status":200}.
#include <memory>
#include <optional>
#include <string_view>

namespace spdlog {
class formatter;
}

namespace kinesd {

enum class log_format { text, json };

// The --log-format spelling: "text", "json".
constexpr std::string_view to_string(log_format f) { return f == log_format::json ? "json" : "text"; }
// nullopt for anything else.
constexpr std::optional<log_format> parse_log_format(std::string_view s) {
    if (s == "text") return log_format::text;
    if (s == "json") return log_format::json;
    return std::nullopt;
}

// Times are UTC. (Include <spdlog/formatter.h> to use the result.)
std::unique_ptr<spdlog::formatter> make_log_formatter(log_format format);

// Applies the format to every logger (their sinks are shared). Call after init_logging().
void set_log_format(log_format format);

}  // namespace kinesd
