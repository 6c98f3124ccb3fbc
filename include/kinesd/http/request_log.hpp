#pragma once
// Observes each Kinesis API request for operators: counts it in the request metrics
// (kinesd_requests_total, kinesd_request_duration_seconds) and, at debug level, writes one
// structured line per request (logger "request"):
//   request_id=... operation=PutRecord stream=orders status=200 error=- latency_ms=0.412
// Record payloads are never logged. Transport-independent: the HTTP/1.1 and HTTP/2 front ends
// both call it. Costs two clock reads and a few relaxed atomic adds when debug is off.
#include <chrono>
#include <string>
#include <string_view>

#include "kinesd/metrics/request_metrics.hpp"

namespace kinesd::http {

// The process-wide request metrics, with one slot per operation of the API model.
metrics::request_metrics& api_request_metrics();

// One per request, kept by the code that answers it until the answer is settled (after its
// fsync with --fsync always). Not thread-safe (one request at a time).
class request_observer {
public:
    request_observer();  // notes the start time

    // The operation from X-Amz-Target, once known (unknown or absent: operation="unknown").
    void set_operation(std::string_view operation);

    // Where the handler writes the stream name for the debug line (api::context::log_stream);
    // nullptr when debug logging is off, so that the data path does no work for it.
    std::string* stream_slot() { return debug_ ? &stream_ : nullptr; }

    // Counts the request and logs its line. error_type: the x-amzn-ErrorType, empty on success.
    void finish(int http_status, std::string_view error_type, std::string_view request_id);

private:
    std::chrono::steady_clock::time_point start_;
    std::string_view operation_;
    std::size_t operation_index_;
    bool debug_;
    std::string stream_;
};

}  // namespace kinesd::http
