#include "kinesd/http/request_log.hpp"

#include "kinesd/api/model.hpp"
#include "kinesd/common/logging.hpp"

namespace kinesd::http {
namespace {

// By reference: called on every request (or throttle), no shared_ptr count traffic.
const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = module_logger("request");
    return l;
}

}  // namespace

metrics::request_metrics& api_request_metrics() {
    static metrics::request_metrics instance(api::api_model::instance().operation_names());
    return instance;
}

request_observer::request_observer()
    : start_(std::chrono::steady_clock::now()),
      operation_index_(api_request_metrics().unknown_index()),
      debug_(logger()->should_log(spdlog::level::debug)) {}

void request_observer::set_operation(std::string_view operation) {
    operation_index_ = api_request_metrics().index_of(operation);
    // Only a known operation's name is logged: X-Amz-Target is client input.
    if (operation_index_ != api_request_metrics().unknown_index()) operation_ = operation;
}

void request_observer::finish(int http_status, std::string_view error_type,
                              std::string_view request_id) {
    const auto latency = std::chrono::steady_clock::now() - start_;
    api_request_metrics().record(operation_index_, http_status, latency);
    if (!debug_) return;
    logger()->debug("request_id={} operation={} stream={} status={} error={} latency_ms={:.3f}",
                    request_id, operation_.empty() ? std::string_view("unknown") : operation_,
                    stream_.empty() ? std::string_view("-") : std::string_view(stream_),
                    http_status, error_type.empty() ? std::string_view("-") : error_type,
                    std::chrono::duration<double, std::milli>(latency).count());
}

}  // namespace kinesd::http
