#pragma once
// The transport-independent part of a request: HTTP/1.1 and HTTP/2 both reduce a request to a
// request_head and a body, call handle_request(), and write the response it returns. So both
// transports reach the one dispatcher with the same inputs, and errors look identical on both.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kinesd/api/fast_path.hpp"
#include "kinesd/http/request_log.hpp"
#include "kinesd/shard/pending_commit.hpp"

namespace kinesd {
struct api_error;
}
namespace kinesd::api {
class subscription;
}

namespace kinesd::http {

struct server_state;

// Views into the transport's own buffers; valid for the duration of handle_request().
struct request_head {
    std::string_view method;         // "POST"
    std::string_view target;         // request target (HTTP/2 :path): "/" or "/_kinesd/..."
    std::string_view amz_target;     // X-Amz-Target, empty when absent
    std::string_view content_type;   // Content-Type, empty when absent
    std::string_view authorization;  // Authorization, empty when absent
};

struct response {
    int status = 200;
    std::string_view content_type;  // static string
    std::string request_id;         // x-amzn-RequestId
    std::string error_type;         // x-amzn-ErrorType; empty unless an API error
    std::string body;
    // Set for a streaming response (SubscribeToShard, 200 application/vnd.amazon.eventstream):
    // `body` is empty and the transport sends what stream->poll() frames, message by message,
    // until it returns false, the client goes away or the server stops.
    std::shared_ptr<api::subscription> stream;
    // Injected latency (fault injection): the transport sends the answer this much later, on a
    // timer (no thread waits). Set on error answers too.
    std::int64_t delay_ms = 0;
    // --fsync always: the fsyncs the answer waits for (send_when_ready(), answer_hold.hpp).
    std::vector<pending_commit> commits;
    // Set while the request is not counted yet (it waits for `commits`): send_when_ready()
    // finishes it once the answer is settled, so that metrics and the request log see the
    // status sent and the time the fsync took.
    std::optional<request_observer> unfinished;

    // Whether the answer must wait (for commits or injected latency) before it goes out.
    bool held() const { return delay_ms > 0 || !commits.empty(); }
};

// Makes `res` the AWS-shaped error answer for `e` (status, type header, JSON body); keeps its
// request id, delay and observer.
void set_error(response& res, const api_error& e);

// Answers one request: the health and admin paths, else a Kinesis operation through
// api::dispatch. Never throws: API errors become their 4xx response, anything else is logged
// with the request id and answered 500 InternalFailure. Thread-safe (state is shared).
// `readable_past_end`: bytes the transport's buffer holds after the body (see api::dispatch).
response handle_request(server_state& state, const request_head& head, std::string_view body,
                        std::size_t readable_past_end = 0);

// The body's buffer past its text (spare capacity): what handle_request may read after it.
// Transports reserve api::fast_path_padding after a body of known length, so that the hot
// operations parse it in place.
inline std::size_t spare_capacity(const std::string& body) { return body.capacity() - body.size(); }

// The response for an error raised by the transport itself (e.g. a body over the limit).
response error_response(const api_error& e);

// The SerializationException both transports answer for a body above --max-request-bytes.
api_error body_too_large(std::uint64_t limit);

// AWS-style request id (UUID v4 shape).
std::string new_request_id();

}  // namespace kinesd::http
