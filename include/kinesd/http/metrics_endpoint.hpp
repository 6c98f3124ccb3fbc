#pragma once
// GET /metrics: every kinesd metric in the Prometheus text format (0.0.4). Needs no credentials
// and never collides with the Kinesis API (which is POST /). See docs/metrics.md.
#include <string>
#include <string_view>

namespace kinesd::http {

struct server_state;

// True for "/metrics" and "/metrics?<query>".
bool is_metrics_target(std::string_view target);

// The whole exposition: request metrics, open connections, readiness and per-stream metrics.
std::string render_metrics(const server_state& state);

}  // namespace kinesd::http
