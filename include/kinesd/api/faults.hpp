#pragma once
// Fault injection, for testing the unhappy paths that real throttling rarely hits: the admin API
// (POST /_kinesd/faults, see docs/admin.md) registers faults; requests draw from them.
//
// A fault matches an operation (and, optionally, one stream) and fires at a rate in 0..1,
// deterministically: of its first n draws, exactly floor(n * rate) fire, spread evenly (an error
// accumulator, not a random number), so a test can count on it. A fired fault answers its
// error type and/or waits latencyMs first. PutRecords draws once per entry: an injected
// ProvisionedThroughputExceededException or InternalFailure fails that entry, as AWS would.
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kinesd/api/error.hpp"

namespace kinesd::api {

struct fault_spec {
    std::string operation;    // an operation of the API model, e.g. "PutRecords"
    std::string stream_name;  // empty: any stream (or a request that names none)
    std::string error_type;   // empty: latency only
    double rate = 1.0;        // 0..1
    std::int64_t latency_ms = 0;
};

// What drawing the faults of one request (or PutRecords entry) gave.
struct fault_outcome {
    std::string error_type;  // empty: no error to inject
    std::int64_t latency_ms = 0;
};

// Thread-safe. Drawing costs one relaxed load while no fault is registered; with faults, a
// mutex (a test control: never on a production path).
class fault_registry {
public:
    // Validates an admin request body ({"operation", "streamName"?, "errorType"?, "rate"?,
    // "latencyMs"?}); throws api_error InvalidArgumentException / SerializationException.
    static fault_spec parse(const nlohmann::json& body);

    std::uint64_t add(fault_spec spec);  // returns the new fault's id
    bool remove(std::uint64_t id);       // false when there is no such fault
    void clear();
    // [{"id", "operation", "streamName"?, "errorType"?, "rate", "latencyMs", "draws", "fired"}]
    nlohmann::json list() const;

    bool active() const { return count_.load(std::memory_order_relaxed) != 0; }

    // Draws every fault matching the operation and stream once. The error is the first fired
    // fault's (in id order); the latency the largest of the fired faults'.
    fault_outcome draw(std::string_view operation, std::string_view stream);

private:
    struct entry {
        std::uint64_t id;
        fault_spec spec;
        std::uint64_t draws = 0;  // guarded by mu_
        std::uint64_t fired = 0;  // guarded by mu_
    };
    mutable std::mutex mu_;
    std::vector<entry> entries_;  // guarded by mu_, by id
    std::uint64_t next_id_ = 1;   // guarded by mu_
    std::atomic<std::size_t> count_{0};
};

// The server's registry, which the admin API edits and every request consults.
fault_registry& faults();

// The error a fired fault answers for a request about `stream` (empty when none):
// AWS's wording for ProvisionedThroughputExceededException, LimitExceededException and
// InternalFailure (500); ServiceUnavailable is a 503; any other type says it was injected.
api_error injected_error(std::string_view type, std::string_view stream, std::string_view account);

}  // namespace kinesd::api
