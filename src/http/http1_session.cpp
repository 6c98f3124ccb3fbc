// HTTP/1.1 on a plain or TLS stream: one request at a time (so pipelined requests are answered in
// order), the body limit enforced before the body is buffered, an idle timeout between requests
// and a read timeout within one. `Upgrade: h2c` on a plain connection switches to HTTP/2.
#include <fmt/format.h>

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <string>

#include "connection.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/api/subscription.hpp"
#include "kinesd/common/base64.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/http/answer_hold.hpp"
#include "kinesd/http/request_handler.hpp"

namespace kinesd::http::detail {
namespace {

namespace bhttp = beast::http;

// What the session needs of a request, in strings it reuses from one request to the next.
struct request_fields {
    bhttp::verb method = bhttp::verb::unknown;
    unsigned version = 11;
    std::string method_string, target, amz_target, content_type, authorization;
    std::string upgrade, connection, http2_settings;  // for Upgrade: h2c
    bool has_http2_settings = false;
    std::string body;

    void clear() {
        method = bhttp::verb::unknown;
        version = 11;
        for (auto* s : {&method_string, &target, &amz_target, &content_type, &authorization,
                        &upgrade, &connection, &http2_settings, &body})
            s->clear();  // keeps the capacity
        has_http2_settings = false;
    }
};

// A connection keeps at most this much body buffer between requests (a PutRecords body can be
// megabytes; most requests are a few KiB).
constexpr std::size_t kept_body_capacity = 64 * 1024;

// Beast's request parser (request line, fields, Content-Length or chunked body, the header and
// body limits) writing into request_fields: only the fields kinesd reads are kept, into reused
// strings. Beast's request_parser<string_body> allocated every field of every request and a new
// body string. As with that parser's message, a field given twice counts once: the first.
// Single use, like every Beast parser: one per request.
class request_reader final : public bhttp::basic_parser<true> {
  public:
    explicit request_reader(request_fields& out) : out_(out) { out_.clear(); }

  private:
    static void set_once(std::string& to, beast::string_view value, bool& seen) {
        if (seen) return;
        to.assign(value.data(), value.size());
        seen = true;
    }

    void on_request_impl(bhttp::verb method, beast::string_view method_str,
                         beast::string_view target, int version, beast::error_code&) override {
        out_.method = method;
        out_.method_string.assign(method_str.data(), method_str.size());
        out_.target.assign(target.data(), target.size());
        out_.version = static_cast<unsigned>(version);
    }

    void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}

    void on_field_impl(bhttp::field name, beast::string_view name_string, beast::string_view value,
                       beast::error_code&) override {
        switch (name) {
            case bhttp::field::content_type:
                return set_once(out_.content_type, value, seen_.content_type);
            case bhttp::field::authorization:
                return set_once(out_.authorization, value, seen_.authorization);
            case bhttp::field::upgrade:
                return set_once(out_.upgrade, value, seen_.upgrade);
            case bhttp::field::connection:
                return set_once(out_.connection, value, seen_.connection);
            case bhttp::field::http2_settings:
                return set_once(out_.http2_settings, value, out_.has_http2_settings);
            default:
                if (beast::iequals(name_string, "X-Amz-Target"))
                    set_once(out_.amz_target, value, seen_.amz_target);
        }
    }

    void on_header_impl(beast::error_code&) override {}

    // The body of known length is reserved by the session once the header is read.
    void on_body_init_impl(const boost::optional<std::uint64_t>&, beast::error_code&) override {}

    std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
        out_.body.append(body.data(), body.size());
        return body.size();
    }

    void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}

    std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                   beast::error_code&) override {
        out_.body.append(body.data(), body.size());
        return body.size();
    }

    void on_finish_impl(beast::error_code&) override {}

    request_fields& out_;
    struct {
        bool content_type = false, authorization = false, upgrade = false, connection = false,
             amz_target = false;
    } seen_;
};

// The status line and headers of an answer, written by hand: Beast's serializer cost ~20,000
// instructions per PutRecord answer (callgrind, whole process), more than the PutRecord itself.
// A complete answer has a Content-Length, and Connection only where it differs from the
// version's default. A streaming one (r.stream) is chunked on HTTP/1.1, runs to the end of the
// connection on HTTP/1.0, and closes the connection after it in both.
std::string response_head(const response& r, unsigned version, bool keep_alive) {
    const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
    std::string head;
    head.reserve(160 + r.request_id.size() + r.content_type.size() + r.error_type.size());
    head += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    head += std::to_string(r.status);
    head += ' ';
    head.append(reason.data(), reason.size());
    head += "\r\nServer: kinesd\r\nx-amzn-RequestId: ";
    head += r.request_id;
    head += "\r\nContent-Type: ";
    head += r.content_type;
    if (!r.error_type.empty()) {
        head += "\r\nx-amzn-ErrorType: ";
        head += r.error_type;
    }
    if (r.stream) {
        if (version != 10) head += "\r\nTransfer-Encoding: chunked";
        head += "\r\nConnection: close";
    } else {
        head += "\r\nContent-Length: ";
        head += std::to_string(r.body.size());
        if (version == 10 && keep_alive) head += "\r\nConnection: keep-alive";
        if (version != 10 && !keep_alive) head += "\r\nConnection: close";
    }
    head += "\r\n\r\n";
    return head;
}

bool has_token(std::string_view list, std::string_view token) {
    // Comma-separated, case-insensitive tokens (Connection, Upgrade).
    while (!list.empty()) {
        auto comma = list.find(',');
        auto item = list.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (beast::iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

// The HTTP2-Settings payload (base64url, no padding), or nullopt when it does not decode.
std::optional<std::string> decode_settings(std::string_view v) {
    std::string b64(v);
    for (char& c : b64) {
        if (c == '-') c = '+';
        else if (c == '_') c = '/';
    }
    while (b64.size() % 4) b64.push_back('=');
    auto out = base64::decode(b64);
    if (!out || out->size() % 6) return std::nullopt;  // SETTINGS entries are 6 bytes each
    return out;
}

template <class Stream>
class http1_session final : public connection_base {
public:
    http1_session(Stream stream, beast::flat_buffer buffer, std::shared_ptr<server_core> core)
        : connection_base(std::move(core)),
          stream_(std::move(stream)),
          buffer_(std::move(buffer)),
          timer_(stream_.get_executor()) {}

    void start() {
        asio::dispatch(stream_.get_executor(), [self = self<http1_session>()] { self->next_request(); });
    }

    void request_shutdown() override {
        asio::post(stream_.get_executor(), [self = self<http1_session>()] {
            self->stopping_ = true;
            if (self->idle_) close_stream(self->stream_);  // between requests: nothing to finish
            if (self->sub_) self->timer_.cancel();        // streaming: end it now
        });
    }

private:
    // Waits (up to the idle timeout) for the first byte of the next request, unless one is
    // already buffered, then reads the request within the read timeout.
    void next_request() {
        if (stopping_ || core_->stopping()) return close_stream(stream_);
        if (buffer_.size() > 0) return read_request();
        idle_ = true;
        beast::get_lowest_layer(stream_).expires_after(core_->idle_timeout());
        stream_.async_read_some(buffer_.prepare(16 * 1024),
                                [self = self<http1_session>()](beast::error_code ec, std::size_t n) {
                                    self->idle_ = false;
                                    if (ec) return close_stream(self->stream_);
                                    self->buffer_.commit(n);
                                    self->read_request();
                                });
    }

    void read_request() {
        parser_.emplace(req_);
        parser_->body_limit(core_->state.cfg.max_request_bytes);
        parser_->header_limit(max_header_bytes);
        beast::get_lowest_layer(stream_).expires_after(read_timeout);  // header and body
        bhttp::async_read_header(stream_, buffer_, *parser_,
                                 [self = self<http1_session>()](beast::error_code ec, std::size_t) {
                                     self->on_header(ec);
                                 });
    }

    // A body of known length is read straight into req_.body: what the buffer already holds
    // goes through the parser, the rest with reads into the body itself, each as large as what
    // has arrived. Through the 16 KiB connection buffer, a 700 KiB PutRecords took 45 recvmsg
    // calls and one more copy of the body.
    void on_header(beast::error_code ec) {
        if (ec) return on_read(ec);
        // Within body_limit: the parser refused a larger Content-Length with the header.
        const auto length = parser_->content_length();
        if (length) req_.body.reserve(static_cast<std::size_t>(*length) + api::fast_path_padding);
        if (!parser_->is_done() && buffer_.size() > 0) {
            buffer_.consume(parser_->put(buffer_.data(), ec));
            if (ec) return on_read(ec);
        }
        if (parser_->is_done()) return on_read(ec);
        if (!length) {  // chunked: through the parser and the buffer
            return bhttp::async_read(
                stream_, buffer_, *parser_,
                [self = self<http1_session>()](beast::error_code ec2, std::size_t) {
                    self->on_read(ec2);
                });
        }
        // The parser never sees these bytes: it stays short of done, and on_read only asks it
        // for keep_alive(), which the header decides.
        const std::size_t have = req_.body.size();
        req_.body.resize(static_cast<std::size_t>(*length));  // within the capacity reserved above
        asio::async_read(stream_, asio::buffer(req_.body.data() + have, req_.body.size() - have),
                         [self = self<http1_session>()](beast::error_code ec2, std::size_t) {
                             self->on_read(ec2);
                         });
    }

    void on_read(beast::error_code ec) {
        if (ec == bhttp::error::body_limit) {
            // Refused before the body is read; the connection cannot be reused after that. The
            // request line was parsed (the limit applies to the body): answer in its version.
            const auto limit = core_->state.cfg.max_request_bytes;
            return write(error_response(body_too_large(limit)), req_.version, false);
        }
        if (ec) return close_stream(stream_);  // timeout, reset, malformed HTTP: nothing to answer
        const bool keep_alive = parser_->keep_alive();
        parser_.reset();
        if constexpr (std::is_same_v<Stream, plain_stream>) {
            if (auto up = upgrade_request()) return switch_to_h2(std::move(up));
        }
        const request_head head{req_.method_string, req_.target, req_.amz_target, req_.content_type,
                                req_.authorization};
        response answer = handle_request(core_->state, head, req_.body, spare_capacity(req_.body));
        if (req_.body.capacity() > kept_body_capacity) std::string().swap(req_.body);
        const unsigned version = req_.version;
        if (answer.held()) {  // its fsync (--fsync always) or injected latency: no thread waits
            return send_when_ready(std::move(answer), stream_.get_executor(),
                                   [self = self<http1_session>(), version, keep_alive](response r) {
                                       self->deliver(std::move(r), version, keep_alive);
                                   });
        }
        deliver(std::move(answer), version, keep_alive);
    }

    void deliver(response answer, unsigned version, bool keep_alive_asked) {
        if (answer.stream) return start_streaming(std::move(answer), version);
        write(std::move(answer), version, keep_alive_asked && !stopping_ && !core_->stopping());
    }

    // The upgrade to h2c (RFC 7540 section 3.2) when the request asks for it properly.
    std::unique_ptr<h2_upgrade> upgrade_request() {
        if (stopping_ || req_.version != 11) return nullptr;
        if (!has_token(req_.upgrade, "h2c") || !req_.has_http2_settings ||
            !has_token(req_.connection, "Upgrade") || !has_token(req_.connection, "HTTP2-Settings"))
            return nullptr;
        auto payload = decode_settings(req_.http2_settings);
        if (!payload) return nullptr;  // serve it as HTTP/1.1
        auto up = std::make_unique<h2_upgrade>();
        up->settings = std::move(*payload);
        up->head_request = req_.method == bhttp::verb::head;
        up->method = req_.method_string;
        up->target = req_.target;
        up->amz_target = req_.amz_target;
        up->content_type = req_.content_type;
        up->authorization = req_.authorization;
        up->body = std::move(req_.body);
        return up;
    }

    void switch_to_h2(std::unique_ptr<h2_upgrade> up) {
        static constexpr std::string_view switching =
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
        beast::get_lowest_layer(stream_).expires_after(read_timeout);
        asio::async_write(stream_, asio::buffer(switching.data(), switching.size()),
                          [self = self<http1_session>(), up = std::move(up)](beast::error_code ec,
                                                                             std::size_t) mutable {
                              if (ec) return close_stream(self->stream_);
                              beast::get_lowest_layer(self->stream_).expires_never();
                              start_http2(std::move(self->stream_), std::move(self->buffer_),
                                          self->core_, std::move(up));
                          });
    }

    void write(response answer, unsigned version, bool keep_alive) {
        out_ = response_head(answer, version, keep_alive);
        body_ = std::move(answer.body);
        keep_alive_ = keep_alive;
        beast::get_lowest_layer(stream_).expires_after(read_timeout);
        const std::array<asio::const_buffer, 2> buffers{asio::buffer(out_), asio::buffer(body_)};
        asio::async_write(stream_, buffers,
                          [self = self<http1_session>()](beast::error_code ec, std::size_t) {
                              if (ec || !self->keep_alive_) return close_stream(self->stream_);
                              self->out_.clear();
                              self->body_ = {};  // a large answer's memory goes back now
                              self->next_request();
                          });
    }

    // --- streaming responses (SubscribeToShard) ---------------------------------------------
    // The head, then each batch of event-stream messages as one chunk (HTTP/1.0: raw bytes),
    // flushed as soon as poll() framed it. The shard wakes us (through the strand) when records
    // are appended; the timer covers the heartbeat and the end. Meanwhile one read watches for
    // the client going away. The connection closes after the subscription (Connection: close),
    // so that read never competes with the next request's.

    void start_streaming(response r, unsigned version) {
        out_ = response_head(r, version, false);
        sub_ = std::move(r.stream);
        chunked_ = version != 10;
        // Weak: the subscription (owned by this session) holds the waker.
        sub_->set_waker([weak = std::weak_ptr<http1_session>(self<http1_session>()),
                         ex = stream_.get_executor()] {
            asio::post(ex, [weak] {
                if (auto self = weak.lock()) self->timer_.cancel();  // wait() -> pump()
            });
        });
        watch_peer();
        pump(true);
    }

    void watch_peer() {
        stream_.async_read_some(buffer_.prepare(4096),
                                [self = self<http1_session>()](beast::error_code ec, std::size_t n) {
                                    if (ec) {  // the client closed (or the socket was closed)
                                        self->peer_gone_ = true;
                                        self->timer_.cancel();
                                        return;
                                    }
                                    self->buffer_.consume(n);  // nothing more is read here
                                    self->watch_peer();
                                });
    }

    // Polls the subscription and writes what it framed (plus anything in out_ already).
    void pump(bool head_pending = false) {
        if (!sub_) return;
        if (peer_gone_) return finish_streaming();
        std::string events;
        const bool more = !stopping_ && !core_->stopping() &&
                          sub_->poll(core_->state.time.now_ms(), events);
        if (!head_pending) out_.clear();
        if (!events.empty()) {
            if (chunked_) out_ += fmt::format("{:x}\r\n", events.size());
            out_ += events;
            if (chunked_) out_ += "\r\n";
        }
        if (!more && chunked_) out_ += "0\r\n\r\n";
        if (out_.empty()) return wait(more);
        beast::get_lowest_layer(stream_).expires_after(read_timeout);  // a reader that stalls
        asio::async_write(stream_, asio::buffer(out_),
                          [self = self<http1_session>(), more](beast::error_code ec, std::size_t) {
                              if (ec) return self->finish_streaming();
                              self->wait(more);
                          });
    }

    // Until poll() is worth calling again: the waker cancels the timer (records appended), else
    // the heartbeat/end deadline. A wake that came while writing shows in next_deadline_in (0).
    void wait(bool more) {
        if (!more || peer_gone_) return finish_streaming();
        beast::get_lowest_layer(stream_).expires_never();
        const auto ms = sub_->next_deadline_in(core_->state.time.now_ms());
        timer_.expires_after(std::chrono::milliseconds(ms));
        timer_.async_wait([self = self<http1_session>()](beast::error_code) { self->pump(); });
    }

    void finish_streaming() {
        sub_.reset();
        timer_.cancel();
        close_stream(stream_);
    }

    Stream stream_;
    beast::flat_buffer buffer_;
    asio::steady_timer timer_;
    std::shared_ptr<api::subscription> sub_;
    std::string out_;  // bytes being written: an answer's head, or framed events
    bool chunked_ = true;
    bool peer_gone_ = false;
    std::optional<request_reader> parser_;  // the request being read
    request_fields req_;                    // what it read (reused by the next request)
    std::string body_;         // the answer being written (after out_, its head)
    bool keep_alive_ = false;  // of the answer being written
    bool idle_ = false;      // waiting for the first byte of a request
    bool stopping_ = false;  // server stopping: answer what is in flight, then close
};

}  // namespace

template <class Stream>
void start_http1(Stream stream, beast::flat_buffer buffer, std::shared_ptr<server_core> core) {
    std::make_shared<http1_session<Stream>>(std::move(stream), std::move(buffer), std::move(core))
        ->start();
}

template void start_http1<plain_stream>(plain_stream, beast::flat_buffer, std::shared_ptr<server_core>);
template void start_http1<tls_stream>(tls_stream, beast::flat_buffer, std::shared_ptr<server_core>);

}  // namespace kinesd::http::detail
