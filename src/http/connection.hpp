#pragma once
// Private to src/http: what the listener, the protocol sniffer and the HTTP/1.1 and HTTP/2
// sessions share. A connection is served by exactly one object at a time: the sniffer reads the
// first bytes and hands the stream (and what it read) to the session of the protocol it found.
// Every object runs on its stream's strand; only request_shutdown() may be called elsewhere.
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "kinesd/http/server.hpp"

namespace kinesd::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

// A request that has not sent a byte for this long is dropped (HTTP/1.1: the whole request
// must arrive within it; HTTP/2: no frame for this long while a stream is open).
constexpr auto read_timeout = std::chrono::seconds(30);
// Largest header block accepted (HTTP/1.1 header section, HTTP/2 decoded header list).
constexpr std::size_t max_header_bytes = 64 * 1024;
// HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: clients queue further requests until one finishes.
constexpr std::uint32_t h2_max_concurrent_streams = 256;
// How long server::stop() lets requests in flight finish before it reports drained anyway.
constexpr auto drain_timeout = std::chrono::seconds(5);

class connection_base;

// What every connection of one server shares: the state, the TLS context, the set of live
// connections (for --max-connections and for draining on stop). Thread-safe.
struct server_core {
    server_core(server_state& st, std::shared_ptr<asio::ssl::context> tls_ctx, io_pool& io_threads)
        : state(st), tls(std::move(tls_ctx)), ios(io_threads) {}

    server_state& state;
    std::shared_ptr<asio::ssl::context> tls;  // null when TLS is off
    // The I/O threads: HTTP/2 runs each request's handler on ios.next() (no strand), so the
    // streams of one connection are answered in parallel.
    io_pool& ios;

    std::chrono::milliseconds idle_timeout() const;

    void add(connection_base* c);
    // True once stop has begun: a session that starts after that (handed over by a sniffer
    // mid-stop) shuts down at once rather than wait to be told.
    bool stopping() const { return stopping_flag_.load(std::memory_order_acquire); }
    void remove(connection_base* c);
    std::size_t live() const;
    // Asks every live connection to finish; `drained` runs once, when the last one is gone.
    void begin_stop(std::function<void()> drained);
    // Runs `drained` now unless it has run (the bounded wait ran out); true if it ran now.
    bool force_drained();

private:
    mutable std::mutex mu_;
    std::unordered_set<connection_base*> live_;
    bool stopping_ = false;
    std::atomic<bool> stopping_flag_{false};
    std::function<void()> drained_;
};

// A connection, whatever serves it right now. Registers itself with the core for its lifetime.
class connection_base : public std::enable_shared_from_this<connection_base> {
public:
    explicit connection_base(std::shared_ptr<server_core> core) : core_(std::move(core)) {
        core_->add(this);
    }
    virtual ~connection_base() { core_->remove(this); }
    connection_base(const connection_base&) = delete;
    connection_base& operator=(const connection_base&) = delete;

    // Any thread: finish what is in flight, take no new request, then close. Idempotent.
    virtual void request_shutdown() = 0;

protected:
    template <class Self>
    std::shared_ptr<Self> self() {
        return std::static_pointer_cast<Self>(shared_from_this());
    }
    std::shared_ptr<server_core> core_;
};

// Closes the TCP connection under `s` (no TLS close_notify: the protocol above has already
// said it is done, and the peer may be gone).
template <class Stream>
void close_stream(Stream& s) {
    beast::error_code ignored;
    auto& sock = beast::get_lowest_layer(s).socket();
    sock.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
}

// An HTTP/1.1 request upgraded to HTTP/2 (Upgrade: h2c): HTTP/2 answers it on stream 1.
struct h2_upgrade {
    std::string settings;  // decoded HTTP2-Settings payload
    bool head_request = false;
    std::string method, target, amz_target, content_type, authorization;
    std::string body;
};

// Serve a connection whose first bytes (already read) are in `buffer`.
enum class listener_mode { plain, plain_or_tls, tls_only };
template <class Stream>
void start_sniffer(Stream stream, beast::flat_buffer buffer, std::shared_ptr<server_core> core,
                   listener_mode mode);
template <class Stream>
void start_http1(Stream stream, beast::flat_buffer buffer, std::shared_ptr<server_core> core);
template <class Stream>
void start_http2(Stream stream, beast::flat_buffer buffer, std::shared_ptr<server_core> core,
                 std::unique_ptr<h2_upgrade> upgrade);

}  // namespace kinesd::http::detail
