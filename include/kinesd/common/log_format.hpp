#pragma once
// --log-format: how log lines look.
//   text: 2024-01-01T00:00:00.000Z info [main] message
//   json: {"time":"2024-01-01T00:00:00.000Z","level":"info","logger":"main","message":"..."}
// one object per line, for log shippers. In json, the key=value fields of a structured line
// (the per-request line of the "request" logger) are also top-level members, numbers as
// numbers: {"...","message":"request_id=... status=200 ...","request_id":"...","status":200}.
#include <spdlog/formatter.h>

#include <memory>
#include <string_view>

namespace kinesd {

// "text" or "json"; throws std::invalid_argument otherwise. Times are UTC.
std::unique_ptr<spdlog::formatter> make_log_formatter(std::string_view format);

// Applies the format to every logger (their sinks are shared). Call after init_logging().
void set_log_format(std::string_view format);

}  // namespace kinesd
