#pragma once
// Per-operation request counters and latency histograms for /metrics:
// kinesd_requests_total{operation,code} and kinesd_request_duration_seconds{operation}.
// The set of operations is fixed at construction (the API model's), so recording is an index
// into preallocated relaxed atomics: no lock, no allocation. Operation names that are not in
// the set (a client's typo) are all counted as operation="unknown", so a client cannot create
// label values.
//
// Thread-safety: record() and render() may run concurrently from any thread.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kinesd::metrics {

class request_metrics {
public:
    // Upper bounds (seconds) of the latency histogram buckets; +Inf is implied.
    static constexpr std::array<double, 14> bucket_bounds = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    // HTTP statuses counted under their own code label; any other is counted as "other".
    static constexpr std::array<int, 8> known_statuses = {200, 400, 403, 404, 413, 429, 500, 503};

    explicit request_metrics(const std::vector<std::string>& operations);
    ~request_metrics();

    // The slot of an operation name; the "unknown" slot for names not given at construction.
    std::size_t index_of(std::string_view operation) const;
    std::size_t unknown_index() const { return names_.size() - 1; }

    void record(std::size_t operation, int http_status, std::chrono::nanoseconds latency) noexcept;

    // Appends the two families in Prometheus text format (0.0.4). Operations never called are
    // left out.
    void render(std::string& out) const;

    // For tests: requests counted for (operation, status).
    std::uint64_t count(std::string_view operation, int http_status) const;

private:
    struct alignas(64) slot {
        std::array<std::atomic<std::uint64_t>, known_statuses.size() + 1> by_status{};
        std::array<std::atomic<std::uint64_t>, bucket_bounds.size() + 1> buckets{};  // not cumulative
        std::atomic<std::uint64_t> sum_ns{0};
    };

    std::vector<std::string> names_;  // operation names, then "unknown"
    std::unordered_map<std::string_view, std::size_t> index_;  // views into names_
    std::unique_ptr<slot[]> slots_;
};

}  // namespace kinesd::metrics
