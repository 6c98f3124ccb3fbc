// The first stage of every connection: reads the first bytes and hands the stream to the
// session of the protocol they show (see protocol_detect.hpp). On a listener that serves TLS,
// a TLS handshake record starts the handshake; then sniffing starts again inside TLS, so ALPN
// "h2", "http/1.1" and no ALPN at all end up in the right session.
#include <boost/asio/dispatch.hpp>

#include "connection.hpp"
#include "kinesd/common/logging.hpp"
#include "kinesd/http/protocol_detect.hpp"

namespace kinesd::http::detail {
namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("http");
    return l;
}

std::string_view view(const beast::flat_buffer& b) {
    return {static_cast<const char*>(b.data().data()), b.data().size()};
}

template <class Stream>
class sniffer final : public connection_base {
public:
    sniffer(Stream stream, beast::flat_buffer buffer, std::shared_ptr<server_core> core, listener_mode mode)
        : connection_base(std::move(core)), stream_(std::move(stream)), buffer_(std::move(buffer)), mode_(mode) {}

    void start() {
        asio::dispatch(stream_.get_executor(), [self = self<sniffer>()] { self->decide(); });
    }

    void request_shutdown() override {
        asio::post(stream_.get_executor(), [self = self<sniffer>()] { close_stream(self->stream_); });
    }

private:
    void decide() {
        if (core_->stopping()) return close_stream(stream_);  // no request has begun yet
        switch (detect_protocol(view(buffer_))) {
            case wire_protocol::need_more: return read_more();
            case wire_protocol::http2:
                if (mode_ == listener_mode::tls_only) return close_stream(stream_);
                beast::get_lowest_layer(stream_).expires_never();
                return start_http2(std::move(stream_), std::move(buffer_), core_, nullptr);
            case wire_protocol::tls:
                if constexpr (std::is_same_v<Stream, plain_stream>) {
                    if (mode_ != listener_mode::plain && core_->tls) return handshake();
                }
                return close_stream(stream_);  // TLS where none is served: nothing to answer
            case wire_protocol::http1:
                if (mode_ == listener_mode::tls_only) return close_stream(stream_);
                beast::get_lowest_layer(stream_).expires_never();
                return start_http1(std::move(stream_), std::move(buffer_), core_);
        }
    }

    void read_more() {
        // A connection that says nothing is idle; once it has begun, the rest must come soon.
        beast::get_lowest_layer(stream_).expires_after(
            buffer_.size() == 0 ? core_->idle_timeout()
                                : std::chrono::duration_cast<std::chrono::milliseconds>(read_timeout));
        stream_.async_read_some(buffer_.prepare(4096),
                                [self = self<sniffer>()](beast::error_code ec, std::size_t n) {
                                    if (ec) return close_stream(self->stream_);
                                    self->buffer_.commit(n);
                                    self->decide();
                                });
    }

    void handshake() {
        if constexpr (std::is_same_v<Stream, plain_stream>) {
            auto tls = std::make_shared<tls_stream>(std::move(stream_), *core_->tls);
            beast::get_lowest_layer(*tls).expires_after(read_timeout);
            // The bytes already read are the start of the ClientHello. (The defaulted second
            // parameter satisfies Boost 1.81's over-strict constraint on this overload.)
            tls->async_handshake(asio::ssl::stream_base::server, buffer_.data(),
                                 [self = self<sniffer>(), tls](beast::error_code ec, std::size_t used = 0) {
                                     if (ec) {
                                         logger()->debug("TLS handshake failed: {}", ec.message());
                                         return close_stream(*tls);
                                     }
                                     // The ClientHello is all the client sends before the
                                     // handshake completes, so nothing read is left over.
                                     (void)used;
                                     start_sniffer(std::move(*tls), beast::flat_buffer{}, self->core_,
                                                   listener_mode::plain);
                                 });
        }
    }

    Stream stream_;
    beast::flat_buffer buffer_;
    listener_mode mode_;
};

}  // namespace

template <class Stream>
void start_sniffer(Stream stream, beast::flat_buffer buffer, std::shared_ptr<server_core> core,
                   listener_mode mode) {
    std::make_shared<sniffer<Stream>>(std::move(stream), std::move(buffer), std::move(core), mode)->start();
}

template void start_sniffer<plain_stream>(plain_stream, beast::flat_buffer, std::shared_ptr<server_core>, listener_mode);
template void start_sniffer<tls_stream>(tls_stream, beast::flat_buffer, std::shared_ptr<server_core>, listener_mode);

}  // namespace kinesd::http::detail
