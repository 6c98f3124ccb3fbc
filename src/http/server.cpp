#include "kinesd/http/server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <random>

#include "kinesd/api/dispatch.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/common/logging.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/http/admin.hpp"
#include "kinesd/http/request_meta.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("http");
    return l;
}

constexpr auto read_timeout = std::chrono::seconds(30);
constexpr std::string_view json_content_type = "application/x-amz-json-1.1";

// AWS-style request id (UUID v4 shape), from a per-thread generator.
std::string new_request_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uint64_t a = rng(), b = rng();
    return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff,
                       a & 0xfff, ((b >> 48) & 0x3fff) | 0x8000, b & 0xffffffffffffULL);
}

using response_t = bhttp::response<bhttp::string_body>;

void set_common_headers(response_t& res, std::string_view request_id) {
    res.set(bhttp::field::server, "kinesd");
    res.set("x-amzn-RequestId", request_id);
    res.set(bhttp::field::content_type, json_content_type);
}

void render_error(response_t& res, const api_error& e, std::string_view request_id) {
    res.result(static_cast<bhttp::status>(e.status));
    set_common_headers(res, request_id);
    res.set("x-amzn-ErrorType", e.type);
    // AWS (Coral) spells the key "Message" for SerializationException only.
    nlohmann::json body{{"__type", e.type},
                        {e.type == "SerializationException" ? "Message" : "message", e.what()}};
    res.body() = body.dump();
}

class connection : public std::enable_shared_from_this<connection> {
public:
    connection(tcp::socket socket, server_state& state)
        : stream_(std::move(socket)), state_(state) {
        state_.open_connections.fetch_add(1, std::memory_order_relaxed);
    }
    ~connection() { state_.open_connections.fetch_sub(1, std::memory_order_relaxed); }

    void start() {
        asio::dispatch(stream_.get_executor(),
                       beast::bind_front_handler(&connection::read_request, shared_from_this()));
    }

private:
    void read_request() {
        parser_.emplace();
        parser_->body_limit(state_.cfg.max_request_bytes);
        parser_->header_limit(64 * 1024);
        stream_.expires_after(read_timeout);
        bhttp::async_read(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&connection::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == bhttp::error::end_of_stream) return close();
        if (ec == bhttp::error::body_limit) {
            // Refused before the body is read; the connection cannot be reused after that.
            response_t res;
            res.version(11);
            render_error(res,
                         api_error::serialization(fmt::format(
                             "Request body is larger than the limit of {} bytes.",
                             state_.cfg.max_request_bytes)),
                         new_request_id());
            res.keep_alive(false);
            return write(std::move(res));
        }
        if (ec) return close();  // timeout, reset, malformed HTTP: nothing to answer
        auto req = parser_->release();
        response_t res = handle(req);
        res.version(req.version());
        res.keep_alive(req.keep_alive());
        write(std::move(res));
    }

    response_t handle(const bhttp::request<bhttp::string_body>& req) {
        response_t res;
        const std::string request_id = new_request_id();
        const std::string_view target(req.target().data(), req.target().size());
        if (req.method() == bhttp::verb::get && (target == "/_kinesd/health" || target == "/_kinesd/ready")) {
            bool ok = target == "/_kinesd/health" || state_.ready.load();
            res.result(ok ? bhttp::status::ok : bhttp::status::service_unavailable);
            set_common_headers(res, request_id);
            res.set(bhttp::field::content_type, "application/json");
            res.body() = ok ? R"({"status":"ok"})" : R"({"status":"starting"})";
            res.prepare_payload();
            return res;
        }
        if (target.substr(0, 9) == "/_kinesd/") {
            admin_context admin{state_.cfg, state_.streams, state_.time};
            auto answer = state_.cfg.admin
                              ? handle_admin(admin, std::string_view(req.method_string().data(),
                                                                     req.method_string().size()),
                                             target, req.body())
                              : std::nullopt;
            if (!answer)
                answer = admin_response{404, R"({"__type":"NotFound","message":"No such admin path (is --admin on?)."})"};
            res.result(static_cast<bhttp::status>(answer->status));
            set_common_headers(res, request_id);
            res.set(bhttp::field::content_type, "application/json");
            res.body() = std::move(answer->body);
            res.prepare_payload();
            return res;
        }
        try {
            if (req.method() != bhttp::verb::post)
                throw api_error("UnknownOperationException",
                                "Only POST requests are accepted by the Kinesis API.");
            const auto amz_target = req["X-Amz-Target"];
            auto operation = operation_from_target({amz_target.data(), amz_target.size()});
            if (!operation) throw api_error::unknown_operation();
            auto content_type = req[bhttp::field::content_type];
            check_content_type({content_type.data(), content_type.size()});
            auto auth = req[bhttp::field::authorization];
            auto region = region_from_authorization({auth.data(), auth.size()});
            api::context ctx{state_.cfg,
                             state_.streams,
                             state_.time,
                             state_.cfg.account_id,
                             region.empty() ? std::string_view(state_.cfg.region) : region,
                             request_id};
            res.body() = api::dispatch(ctx, *operation, req.body());
            res.result(bhttp::status::ok);
            set_common_headers(res, request_id);
        } catch (const api_error& e) {
            render_error(res, e, request_id);
        } catch (const std::exception& e) {
            logger()->error("request {} failed: {}", request_id, e.what());
            render_error(res, api_error::internal_failure(), request_id);
        }
        res.prepare_payload();
        return res;
    }

    void write(response_t res) {
        res_ = std::move(res);
        bhttp::async_write(stream_, res_,
                           beast::bind_front_handler(&connection::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec) return close();
        if (!res_.keep_alive()) return close();
        res_ = {};
        read_request();
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    response_t res_;
    server_state& state_;
};

}  // namespace

struct server::impl : std::enable_shared_from_this<server::impl> {
    impl(asio::io_context& io, const tcp::endpoint& endpoint, server_state& st)
        : io_(io), acceptor_(asio::make_strand(io)), state_(st) {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(asio::socket_base::max_listen_connections);
    }

    void accept() {
        acceptor_.async_accept(asio::make_strand(io_),
                               beast::bind_front_handler(&impl::on_accept, shared_from_this()));
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
            socket.set_option(tcp::no_delay(true), ec);
            std::make_shared<connection>(std::move(socket), state_)->start();
        }
        accept();
    }

    asio::io_context& io_;
    tcp::acceptor acceptor_;
    server_state& state_;
};

server::server(asio::io_context& io, const tcp::endpoint& endpoint, server_state& state)
    : impl_(std::make_shared<impl>(io, endpoint, state)) {}

server::~server() = default;

void server::start() { impl_->accept(); }

void server::stop() {
    asio::post(impl_->acceptor_.get_executor(), [self = impl_] {
        beast::error_code ignored;
        self->acceptor_.close(ignored);
    });
}

tcp::endpoint server::local_endpoint() const { return impl_->acceptor_.local_endpoint(); }

}  // namespace kinesd::http
