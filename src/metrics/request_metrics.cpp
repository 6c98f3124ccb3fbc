#include "kinesd/metrics/request_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kinesd/metrics/prometheus.hpp"

namespace kinesd::metrics {
namespace {

constexpr std::string_view requests_family = "kinesd_requests_total";
constexpr std::string_view duration_family = "kinesd_request_duration_seconds";

std::size_t status_slot(int status) {
    const auto& known = request_metrics::known_statuses;
    auto it = std::find(known.begin(), known.end(), status);
    return static_cast<std::size_t>(it - known.begin());  // known.size(): "other"
}

std::string bound_text(double bound) { return fmt::format("{}", bound); }

}  // namespace

request_metrics::request_metrics(const std::vector<std::string>& operations) : names_(operations) {
    names_.push_back("unknown");
    // names_ no longer changes, so views into its strings stay valid.
    for (std::size_t i = 0; i + 1 < names_.size(); ++i) index_.emplace(names_[i], i);
    slots_ = std::make_unique<slot[]>(names_.size());
}

request_metrics::~request_metrics() = default;

std::size_t request_metrics::index_of(std::string_view operation) const {
    auto it = index_.find(operation);
    return it == index_.end() ? unknown_index() : it->second;
}

void request_metrics::record(std::size_t operation, int http_status, std::chrono::nanoseconds latency) noexcept {
    if (operation >= names_.size()) operation = unknown_index();
    slot& s = slots_[operation];
    s.by_status[status_slot(http_status)].fetch_add(1, std::memory_order_relaxed);
    const double seconds = std::chrono::duration<double>(latency).count();
    auto bucket = std::lower_bound(bucket_bounds.begin(), bucket_bounds.end(), seconds) - bucket_bounds.begin();
    s.buckets[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
    s.sum_ns.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, latency.count())),
                       std::memory_order_relaxed);
}

std::uint64_t request_metrics::count(std::string_view operation, int http_status) const {
    return slots_[index_of(operation)].by_status[status_slot(http_status)].load(std::memory_order_relaxed);
}

void request_metrics::render(std::string& out) const {
    write_family(out, requests_family, "counter",
                 "Kinesis API requests answered, by operation and HTTP status code.");
    for (std::size_t op = 0; op < names_.size(); ++op) {
        const slot& s = slots_[op];
        for (std::size_t st = 0; st <= known_statuses.size(); ++st) {
            const auto n = s.by_status[st].load(std::memory_order_relaxed);
            if (n == 0) continue;
            const std::string code = st < known_statuses.size() ? std::to_string(known_statuses[st]) : "other";
            write_sample(out, requests_family, {{"operation", names_[op]}, {"code", code}}, n);
        }
    }
    write_family(out, duration_family, "histogram",
                 "Time from a request's arrival to its response, by Kinesis API operation.");
    const std::string bucket_name = std::string(duration_family) + "_bucket";
    const std::string sum_name = std::string(duration_family) + "_sum";
    const std::string count_name = std::string(duration_family) + "_count";
    for (std::size_t op = 0; op < names_.size(); ++op) {
        const slot& s = slots_[op];
        // Read the buckets once; the count is their sum, so the histogram is self-consistent.
        std::array<std::uint64_t, bucket_bounds.size() + 1> counts{};
        std::uint64_t total = 0;
        for (std::size_t b = 0; b < counts.size(); ++b) {
            counts[b] = s.buckets[b].load(std::memory_order_relaxed);
            total += counts[b];
        }
        if (total == 0) continue;
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < bucket_bounds.size(); ++b) {
            cumulative += counts[b];
            write_sample(out, bucket_name, {{"operation", names_[op]}, {"le", bound_text(bucket_bounds[b])}},
                         cumulative);
        }
        write_sample(out, bucket_name, {{"operation", names_[op]}, {"le", "+Inf"}}, total);
        write_sample(out, sum_name, {{"operation", names_[op]}},
                     static_cast<double>(s.sum_ns.load(std::memory_order_relaxed)) / 1e9);
        write_sample(out, count_name, {{"operation", names_[op]}}, total);
    }
}

}  // namespace kinesd::metrics
