#pragma once
// The front end: listeners and their connections on the I/O threads (io_pool.hpp). One port serves
// HTTP/1.1 and HTTP/2 (h2c by prior knowledge or Upgrade) and, with --tls on, TLS with ALPN h2
// and http/1.1; --tls-port adds a TLS-only port. Both HTTP versions hand each request to
// handle_request() (request_handler.hpp). Limits: --max-request-bytes per body, 64 KiB of
// headers, a 30 s read timeout, --idle-timeout-ms, --max-connections, 256 streams per HTTP/2
// connection. See docs/http2.md.
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <functional>
#include <memory>

#include "kinesd/common/clock.hpp"
#include "kinesd/http/io_pool.hpp"

namespace kinesd {
struct config;
class stream_registry;
}  // namespace kinesd

namespace kinesd::http {

struct server_state {
    const config& cfg;
    stream_registry& streams;
    adjustable_clock& time;  // the one clock; the admin API may move it
    std::atomic<bool> ready{false};           // data recovered: /_kinesd/ready answers 200
    std::atomic<std::int64_t> open_connections{0};
};

class server {
public:
    // Binds and listens immediately (also on --tls-port), and with TLS on loads or makes the
    // certificate; throws boost::system::system_error or std::runtime_error when it cannot.
    // Listeners and server timers run on ios.main(); each connection on a context of its own
    // choosing (io_pool::next). `ios` outlives the server.
    server(io_pool& ios, const boost::asio::ip::tcp::endpoint& endpoint, server_state& state);
    ~server();

    void start();  // begins accepting
    // Stops accepting and drains: requests in flight are answered, HTTP/2 connections get
    // GOAWAY, idle connections close. `drained` runs once (on an I/O thread) when every
    // connection is closed, or after a bounded wait (5 s) at the latest. Any thread.
    void stop(std::function<void()> drained);
    boost::asio::ip::tcp::endpoint local_endpoint() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace kinesd::http
