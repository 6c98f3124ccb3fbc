#pragma once
// Errors clients can see. Thrown by handlers and the shard layer; http/ renders each one, in one
// place, as HTTP `status` with body {"__type": type, "message": what()} and x-amzn-ErrorType.
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace kinesd {

struct api_error : std::runtime_error {
    api_error(std::string error_type, const std::string& message, int http_status = 400)
        : std::runtime_error(message), type(std::move(error_type)), status(http_status) {}

    std::string type;
    int status;

    static api_error serialization(const std::string& message) {
        return {"SerializationException", message};
    }
    static api_error validation(const std::string& message) {
        return {"ValidationException", message};
    }
    static api_error invalid_argument(const std::string& message) {
        return {"InvalidArgumentException", message};
    }
    static api_error unknown_operation() {
        return {"UnknownOperationException", "The operation is not supported by this service."};
    }
    static api_error stream_not_found(std::string_view name, std::string_view account) {
        return {"ResourceNotFoundException",
                fmt::format("Stream {} under account {} not found.", name, account)};
    }
    static api_error stream_in_use(std::string_view name, std::string_view account) {
        return {"ResourceInUseException",
                fmt::format("Stream {} under account {} already exists.", name, account)};
    }
    static api_error internal_failure() { return {"InternalFailure", "Internal service failure.", 500}; }
    static api_error shard_not_found(std::string_view shard, std::string_view name,
                                     std::string_view account) {
        return {"ResourceNotFoundException",
                fmt::format("Shard {} in stream {} under account {} does not exist", shard, name,
                            account)};
    }
};

// Maps a storage error code to what the client sees (a 500 InternalFailure for faults).
api_error to_api_error(std::error_code ec);

}  // namespace kinesd
