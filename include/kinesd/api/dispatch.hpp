#pragma once
// The one entry point from http/ into the API: an operation name and its body in, a response
// body out. Transport-independent, so HTTP/1.1 and (later) HTTP/2 share it.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kinesd/common/clock.hpp"
#include "kinesd/shard/pending_commit.hpp"

namespace kinesd {
class stream_registry;
struct config;
}  // namespace kinesd

namespace kinesd::api {

class subscription;

// Everything a handler may use. Lives for one request; not shared between threads.
struct context {
    const config& cfg;
    stream_registry& streams;
    const clock& time;
    std::string_view account;  // the caller's account (from --account-id)
    std::string_view region;   // from the SigV4 credential scope, else --region
    std::string_view request_id;
    // Set by http/ only when the per-request debug line is logged: handlers write the name of
    // the stream the request resolved to here (never a payload). nullptr: nobody wants it.
    std::string* log_stream = nullptr;
    // Where injected latency goes (delay_answer, throttling.hpp): the transport holds the answer
    // back that many milliseconds. nullptr: none is applied.
    std::int64_t* answer_delay_ms = nullptr;
    // Where appends leave their fsync wait (--fsync always): the transport answers once every
    // commit here has ended, and answers 500 InternalFailure if one failed. nullptr: appends
    // wait in the handler.
    std::vector<pending_commit>* commits = nullptr;
    // A streaming response: SubscribeToShard leaves its validated subscription here (its body is
    // then unused) and the transport pushes what it frames. Null for every other operation.
    std::shared_ptr<subscription> streaming = nullptr;
};

using handler = std::string (*)(context&, const nlohmann::json& request);

// The handler of an operation, nullptr when the operation does not exist.
handler find_handler(std::string_view operation);

// Decodes the body, validates it against the API model and runs the operation's handler.
// Returns the response body (JSON). Throws api_error for every client error; any other
// exception is a fault for the caller to turn into InternalFailure.
// `readable_past_end`: bytes after body's end that may be read (never written); with at least
// fast_path_padding (fast_path.hpp) the hot operations parse the body without copying it.
std::string dispatch(context& ctx, std::string_view operation, std::string_view body,
                     std::size_t readable_past_end = 0);

}  // namespace kinesd::api
