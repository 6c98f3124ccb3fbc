#include "kinesd/http/admin.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <functional>
#include <vector>

#include "kinesd/api/error.hpp"
#include "kinesd/api/faults.hpp"
#include "kinesd/common/logging.hpp"

namespace kinesd::http {
namespace {

using json = nlohmann::json;

admin_response error(int status, std::string_view type, std::string_view message) {
    return {status, json{{"__type", type}, {"message", message}}.dump()};
}

std::optional<json> parse_object(std::string_view body) {
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    return j;
}

json clock_state(const adjustable_clock& c) {
    return {{"now", c.now_ms()}, {"offsetMs", c.offset_ms()}, {"frozen", c.frozen()}};
}

// GET /_kinesd/clock -> {"now": epoch ms, "offsetMs": ms}
admin_response get_clock(admin_context& ctx, std::string_view, std::string_view) {
    return {200, clock_state(ctx.clock).dump()};
}

// POST /_kinesd/clock {"advanceSeconds": N} | {"advanceMs": N} | {"reset": true}
admin_response post_clock(admin_context& ctx, std::string_view, std::string_view body) {
    auto req = parse_object(body);
    if (!req) return error(400, "SerializationException", "The body must be a JSON object.");
    if (req->value("reset", false)) {
        ctx.clock.reset();
    } else if (auto fz = req->find("freeze"); fz != req->end() && fz->is_boolean()) {
        if (fz->get<bool>())
            ctx.clock.freeze();
        else
            ctx.clock.unfreeze();
    } else if (auto it = req->find("advanceSeconds"); it != req->end() && it->is_number()) {
        if (it->get<double>() < 0)
            return error(400, "InvalidArgumentException", "advanceSeconds must not be negative.");
        ctx.clock.advance(static_cast<std::int64_t>(it->get<double>() * 1000.0));
    } else if (auto ms = req->find("advanceMs"); ms != req->end() && ms->is_number_integer()) {
        if (ms->get<std::int64_t>() < 0)
            return error(400, "InvalidArgumentException", "advanceMs must not be negative.");
        ctx.clock.advance(ms->get<std::int64_t>());
    } else {
        return error(400, "InvalidArgumentException",
                     "Give {\"advanceSeconds\": N}, {\"advanceMs\": N}, {\"freeze\": true|false} "
                     "or {\"reset\": true}.");
    }
    module_logger("admin")->info("clock moved: offset now {} ms{}", ctx.clock.offset_ms(),
                                 ctx.clock.frozen() ? ", frozen" : "");
    return {200, clock_state(ctx.clock).dump()};
}

// POST /_kinesd/faults {"operation", "streamName"?, "errorType"?, "rate"?, "latencyMs"?}
// -> {"id": N}
admin_response post_fault(admin_context&, std::string_view, std::string_view body) {
    auto req = parse_object(body);
    if (!req) return error(400, "SerializationException", "The body must be a JSON object.");
    try {
        auto spec = api::fault_registry::parse(*req);
        const auto id = api::faults().add(spec);
        module_logger("admin")->info("fault {} added: {} {} {} rate {} latency {} ms", id, spec.operation,
                                     spec.stream_name.empty() ? "(any stream)" : spec.stream_name,
                                     spec.error_type.empty() ? "(no error)" : spec.error_type, spec.rate,
                                     spec.latency_ms);
        return {200, json{{"id", id}}.dump()};
    } catch (const api_error& e) {
        return error(e.status, e.type, e.what());
    }
}

// GET /_kinesd/faults -> {"faults": [...]}
admin_response get_faults(admin_context&, std::string_view, std::string_view) {
    return {200, json{{"faults", api::faults().list()}}.dump()};
}

// DELETE /_kinesd/faults -> {} (all cleared)
admin_response delete_faults(admin_context&, std::string_view, std::string_view) {
    api::faults().clear();
    module_logger("admin")->info("faults cleared");
    return {200, "{}"};
}

// DELETE /_kinesd/faults/<id> -> {} or 404
admin_response delete_fault(admin_context&, std::string_view path, std::string_view) {
    const auto text = path.substr(std::string_view("/_kinesd/faults/").size());
    std::uint64_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{} || end != text.data() + text.size() || !api::faults().remove(id))
        return error(404, "ResourceNotFoundException", fmt::format("No fault with id {}.", text));
    module_logger("admin")->info("fault {} removed", id);
    return {200, "{}"};
}

struct route {
    std::string_view method;
    std::string_view path;  // exact path, or a prefix when it ends with '/'
    std::function<admin_response(admin_context&, std::string_view path, std::string_view body)> run;
};

const std::vector<route>& routes() {
    static const std::vector<route> table = {
        {"GET", "/_kinesd/clock", get_clock},
        {"POST", "/_kinesd/clock", post_clock},
        {"GET", "/_kinesd/faults", get_faults},
        {"POST", "/_kinesd/faults", post_fault},
        {"DELETE", "/_kinesd/faults", delete_faults},
        {"DELETE", "/_kinesd/faults/", delete_fault},
    };
    return table;
}

}  // namespace

std::optional<admin_response> handle_admin(admin_context& ctx, std::string_view method,
                                           std::string_view path, std::string_view body) {
    bool path_known = false;
    for (const auto& r : routes()) {
        const bool prefix = !r.path.empty() && r.path.back() == '/';
        const bool matches = prefix ? path.substr(0, r.path.size()) == r.path : path == r.path;
        if (!matches) continue;
        path_known = true;
        if (r.method == method) return r.run(ctx, path, body);
    }
    if (path_known) return error(405, "MethodNotAllowed", "Method not allowed on this admin path.");
    return std::nullopt;
}

}  // namespace kinesd::http
