#pragma once
// The HTTP/1.1 front end: a Beast listener and its connections on an Asio thread pool.
// Each connection reads one request at a time (so pipelined requests are answered in order),
// with a body limit enforced before the body is buffered and a 30 s read timeout.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <memory>

#include "kinesd/common/clock.hpp"

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
    // Binds and listens immediately; throws boost::system::system_error when it cannot.
    server(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
           server_state& state);
    ~server();

    void start();  // begins accepting
    void stop();   // stops accepting; open connections finish their current request
    boost::asio::ip::tcp::endpoint local_endpoint() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace kinesd::http
