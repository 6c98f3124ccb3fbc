#include "kinesd/http/metrics_endpoint.hpp"

#include "kinesd/http/request_log.hpp"
#include "kinesd/http/server.hpp"
#include "kinesd/metrics/prometheus.hpp"
#include "kinesd/metrics/storage_metrics.hpp"
#include "kinesd/metrics/stream_metrics.hpp"

namespace kinesd::http {

bool is_metrics_target(std::string_view target) {
    constexpr std::string_view path = "/metrics";
    return target.substr(0, path.size()) == path && (target.size() == path.size() || target[path.size()] == '?');
}

std::string render_metrics(const server_state& state) {
    std::string out;
    out.reserve(16 * 1024);
    metrics::write_family(out, "kinesd_build_info", "gauge", "Always 1; the version label says which kinesd.");
    metrics::write_sample(out, "kinesd_build_info", {{"version", KINESD_VERSION}}, std::uint64_t{1});
    metrics::write_family(out, "kinesd_ready", "gauge",
                          "1 once data is recovered and bootstrap streams exist (GET /_kinesd/ready).");
    metrics::write_sample(out, "kinesd_ready", {}, std::uint64_t{state.ready.load() ? 1u : 0u});
    metrics::write_family(out, "kinesd_open_connections", "gauge", "Client connections open now.");
    metrics::write_sample(out, "kinesd_open_connections", {},
                          state.open_connections.load(std::memory_order_relaxed));
    api_request_metrics().render(out);
    metrics::render_stream_metrics(state.streams, out);
    metrics::render_storage_metrics(out);
    return out;
}

}  // namespace kinesd::http
