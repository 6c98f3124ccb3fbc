#pragma once
// The Kinesis API model (kinesis-2013-12-02, botocore's service-2.json stripped of docs),
// compiled into the binary. It is the contract clients serialize against, so request
// validation is driven by it: types, required members, min/max, patterns and enums, with
// AWS's error types and message wording.
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kinesd::api {

// The text of src/api/model/kinesis-2013-12-02.min.json (generated at build time).
std::string_view embedded_model_text();

// Loaded once; immutable afterwards and safe to share between threads.
class api_model {
public:
    // The model compiled into the binary.
    static const api_model& instance();
    // For tests: a model from text of the same format.
    static std::unique_ptr<api_model> from_text(std::string_view text);
    ~api_model();

    bool has_operation(std::string_view operation) const;
    std::vector<std::string> operation_names() const;  // sorted
    // The error shapes the model lists for an operation. Requires has_operation(operation).
    const std::vector<std::string>& errors_of(std::string_view operation) const;

    // Checks `request` (the decoded body) against the operation's input shape, as AWS does:
    //  - a body member of the wrong JSON type -> api_error SerializationException;
    //  - then every constraint violation, collected in member order, into one
    //    ValidationException: "1 validation error detected: Value '...' at 'streamName' failed
    //    to satisfy constraint: Member must ..." ("N validation errors detected: ...; ...").
    // Unknown members are ignored, as AWS does. Blob members are checked as base64 text and
    // their decoded length against min/max. Requires has_operation(operation).
    void validate_input(std::string_view operation, const nlohmann::json& request) const;

    // One shape's own constraints, for checking single values without a JSON document (the
    // fast path of the hot operations). Handles stay valid as long as the model.
    struct shape_handle {
        const void* p = nullptr;
    };
    shape_handle shape_named(std::string_view name) const;  // throws std::out_of_range
    // True when `value` satisfies the string shape's length (code points), pattern and enum.
    bool accepts(shape_handle shape, std::string_view value) const;
    // True when `value` is within the integer/long shape's range.
    bool accepts(shape_handle shape, std::int64_t value) const;
    // The shape's max (blob bytes, list entries, string length); nullopt when unbounded.
    std::optional<std::int64_t> max_of(shape_handle shape) const;
    std::optional<std::int64_t> min_of(shape_handle shape) const;

    struct impl;

private:
    explicit api_model(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace kinesd::api
