#pragma once
// Holds an answer back until it may go out, without a thread waiting: for the fsync of its
// records with --fsync always (response::commits; the put was written, its fsync round runs on
// the commit pipeline's thread) and for injected latency (response::delay_ms). Both transports
// use it, so that both answer alike.
#include <boost/asio/any_io_executor.hpp>
#include <functional>

#include "kinesd/http/request_handler.hpp"

namespace kinesd::http {

// Calls send(answer) once, on `ex`, when every commit of the answer has ended and its delay has
// passed (at once, before returning, if neither holds it: call it on `ex`). A failed commit
// turns the answer into 500 InternalFailure (the records were written but are not
// acknowledged: a retry may store them twice, as on AWS). Finishes answer.unfinished before
// the delay starts.
void send_when_ready(response answer, boost::asio::any_io_executor ex,
                     std::function<void(response)> send);

}  // namespace kinesd::http
