#pragma once
// The admin API under /_kinesd/ (off unless --admin on): test controls that AWS does not have,
// such as moving the server's clock. Transport-independent: a method, path and body in, a
// status and JSON body out. Each feature adds its routes to the table in admin.cpp.
#include <optional>
#include <string>
#include <string_view>

#include "kinesd/common/clock.hpp"

namespace kinesd {
struct config;
class stream_registry;
}  // namespace kinesd

namespace kinesd::http {

struct admin_context {
    const config& cfg;
    stream_registry& streams;
    adjustable_clock& clock;
};

struct admin_response {
    int status = 200;
    std::string body;  // JSON
};

// nullopt when no admin route matches (the caller answers 404).
// Errors are answered as {"__type": ..., "message": ...} with a 4xx status.
std::optional<admin_response> handle_admin(admin_context& ctx, std::string_view method,
                                           std::string_view path, std::string_view body);

}  // namespace kinesd::http
