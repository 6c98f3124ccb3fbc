#include "kinesd/http/request_handler.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "kinesd/api/dispatch.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/api/subscription.hpp"
#include "kinesd/common/logging.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/http/admin.hpp"
#include "kinesd/http/metrics_endpoint.hpp"
#include "kinesd/http/request_log.hpp"
#include "kinesd/metrics/prometheus.hpp"
#include "kinesd/http/request_meta.hpp"
#include "kinesd/http/server.hpp"

namespace kinesd::http {
namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("http");
    return l;
}

constexpr std::string_view json_content_type = "application/x-amz-json-1.1";
constexpr std::string_view plain_json = "application/json";
constexpr std::string_view event_stream_content_type = "application/vnd.amazon.eventstream";

}  // namespace

void set_error(response& res, const api_error& e) {
    res.status = e.status;
    res.content_type = json_content_type;
    res.error_type = e.type;
    // AWS (Coral) spells the key "Message" for SerializationException only.
    nlohmann::json body{{"__type", e.type},
                        {e.type == "SerializationException" ? "Message" : "message", e.what()}};
    res.body = body.dump();
}

std::string new_request_id() {
    // 122 random bits in the UUID v4 layout xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx (y: 8-b),
    // hex digits written directly: fmt::format cost ~3,000 instructions on every request.
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const std::uint64_t a = rng();
    const std::uint64_t b = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    static constexpr char hex[] = "0123456789abcdef";
    std::string id(36, '-');
    // a fills positions 0-7, 9-12, 15-17 (after the version digit); b fills 19-22, 24-35.
    auto put = [&](std::uint64_t bits, std::size_t from, std::size_t count) {
        for (std::size_t i = count; i-- > 0; bits >>= 4) id[from + i] = hex[bits & 0xf];
    };
    put(a >> 32, 0, 8);
    put(a >> 16, 9, 4);
    id[14] = '4';
    put(a, 15, 3);
    put(b >> 48, 19, 4);
    put(b, 24, 12);
    return id;
}

api_error body_too_large(std::uint64_t limit) {
    return api_error::serialization(
        fmt::format("Request body is larger than the limit of {} bytes.", limit));
}

response error_response(const api_error& e) {
    response res;
    res.request_id = new_request_id();
    set_error(res, e);
    return res;
}

response handle_request(server_state& state, const request_head& head, std::string_view body,
                        std::size_t readable_past_end) {
    response res;
    res.request_id = new_request_id();
    const std::string_view target = head.target;
    if (head.method == "GET" && (target == "/_kinesd/health" || target == "/_kinesd/ready")) {
        bool ok = target == "/_kinesd/health" || state.ready.load();
        res.status = ok ? 200 : 503;
        res.content_type = plain_json;
        res.body = ok ? R"({"status":"ok"})" : R"({"status":"starting"})";
        return res;
    }
    if (head.method == "GET" && is_metrics_target(target)) {
        res.status = 200;
        res.content_type = metrics::exposition_content_type;
        res.body = render_metrics(state);
        return res;
    }
    if (target.substr(0, 9) == "/_kinesd/") {
        std::optional<admin_response> answer;
        try {
            admin_context admin{state.cfg, state.streams, state.time};
            if (state.cfg.admin) answer = handle_admin(admin, head.method, target, body);
        } catch (const std::exception& e) {
            logger()->error("admin request {} failed: {}", res.request_id, e.what());
            answer = admin_response{500, R"({"__type":"InternalFailure","message":"Internal service failure."})"};
        }
        if (!answer)
            answer = admin_response{404, R"({"__type":"NotFound","message":"No such admin path (is --admin on?)."})"};
        res.status = answer->status;
        res.content_type = plain_json;
        res.body = std::move(answer->body);
        return res;
    }
    request_observer observed;
    try {
        if (head.method != "POST")
            throw api_error("UnknownOperationException",
                            "Only POST requests are accepted by the Kinesis API.");
        auto operation = operation_from_target(head.amz_target);
        if (!operation) throw api_error::unknown_operation();
        observed.set_operation(*operation);
        check_content_type(head.content_type);
        auto region = region_from_authorization(head.authorization);
        api::context ctx{state.cfg,
                         state.streams,
                         state.time,
                         state.cfg.account_id,
                         region.empty() ? std::string_view(state.cfg.region) : region,
                         res.request_id};
        ctx.log_stream = observed.stream_slot();
        ctx.answer_delay_ms = &res.delay_ms;
        ctx.commits = &res.commits;
        res.body = api::dispatch(ctx, *operation, body, readable_past_end);
        res.status = 200;
        res.content_type = json_content_type;
        if (ctx.streaming) {
            res.body.clear();
            res.content_type = event_stream_content_type;
            res.stream = std::move(ctx.streaming);
        }
    } catch (const api_error& e) {
        set_error(res, e);
    } catch (const std::exception& e) {
        logger()->error("request {} failed: {}", res.request_id, e.what());
        set_error(res, api_error::internal_failure());
    }
    if (!res.commits.empty() && res.status == 200)
        res.unfinished.emplace(std::move(observed));  // counted once the fsync ended
    else
        observed.finish(res.status, res.error_type, res.request_id);
    return res;
}

}  // namespace kinesd::http
