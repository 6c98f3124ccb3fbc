#include "kinesd/http/server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>

#include <ctime>

#include "connection.hpp"
#include "kinesd/common/logging.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/http/protocol_detect.hpp"
#include "kinesd/http/tls_cert.hpp"

namespace kinesd::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("http");
    return l;
}

int select_alpn_cb(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                   unsigned int inlen, void*) {
    auto chosen = select_alpn({reinterpret_cast<const char*>(in), inlen});
    if (chosen.empty()) return SSL_TLSEXT_ERR_NOACK;  // no ALPN: HTTP/1.1 (or sniffed h2)
    *out = reinterpret_cast<const unsigned char*>(chosen.data());  // points into `in`
    *outlen = static_cast<unsigned char>(chosen.size());
    return SSL_TLSEXT_ERR_OK;
}

// The TLS context: the user's pair, else the generated one (made at first start).
std::shared_ptr<asio::ssl::context> make_tls_context(const config& cfg) {
    std::filesystem::path cert = cfg.tls_cert, key = cfg.tls_key;
    if (cert.empty() != key.empty())
        throw std::runtime_error("--tls-cert and --tls-key must be given together");
    if (cert.empty()) {
        auto files = ensure_self_signed(cfg.data_dir / "tls", std::time(nullptr));
        cert = files.cert;
        key = files.key;
        logger()->info("TLS: {} certificate for localhost, 127.0.0.1 and ::1; trust its CA {}",
                       files.generated ? "made a" : "using the", std::filesystem::absolute(files.ca).string());
    }
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    try {
        ctx->use_certificate_chain_file(cert.string());
        ctx->use_private_key_file(key.string(), asio::ssl::context::pem);
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error(fmt::format("cannot load TLS certificate {} and key {}: {}", cert.string(),
                                             key.string(), e.what()));
    }
    SSL_CTX_set_alpn_select_cb(ctx->native_handle(), &select_alpn_cb, nullptr);
    return ctx;
}

// One listening socket; each accepted connection starts in the sniffer.
struct listener : std::enable_shared_from_this<listener> {
    listener(io_pool& ios, const tcp::endpoint& endpoint, std::shared_ptr<detail::server_core> core,
             detail::listener_mode mode)
        : ios_(ios), acceptor_(asio::make_strand(ios.main())), core_(std::move(core)), mode_(mode) {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(asio::socket_base::max_listen_connections);
    }

    void accept() {
        // The connection lives on the pool's next context for its lifetime.
        acceptor_.async_accept(
            ios_.connection_executor(),
            [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                self->on_accept(ec, std::move(socket));
            });
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
            if (core_->live() >= core_->state.cfg.max_connections) {
                // Closing at once tells the client to back off; leaving it in the backlog
                // would look like a hang.
                logger()->debug("refused a connection: --max-connections {} reached",
                                core_->state.cfg.max_connections);
                socket.close(ec);
            } else {
                socket.set_option(tcp::no_delay(true), ec);
                detail::start_sniffer(detail::plain_stream(std::move(socket)), beast::flat_buffer{}, core_, mode_);
            }
        }
        accept();
    }

    void close() {
        asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
            beast::error_code ignored;
            self->acceptor_.close(ignored);
        });
    }

    io_pool& ios_;
    tcp::acceptor acceptor_;
    std::shared_ptr<detail::server_core> core_;
    detail::listener_mode mode_;
};

}  // namespace

// --- server_core ------------------------------------------------------------------------------

namespace detail {

std::chrono::milliseconds server_core::idle_timeout() const {
    return std::chrono::milliseconds(state.cfg.idle_timeout_ms);
}

void server_core::add(connection_base* c) {
    std::lock_guard lock(mu_);
    live_.insert(c);
    state.open_connections.store(static_cast<std::int64_t>(live_.size()), std::memory_order_relaxed);
}

void server_core::remove(connection_base* c) {
    std::function<void()> drained;
    {
        std::lock_guard lock(mu_);
        live_.erase(c);
        state.open_connections.store(static_cast<std::int64_t>(live_.size()), std::memory_order_relaxed);
        if (stopping_ && live_.empty()) drained = std::move(drained_);
    }
    if (drained) drained();
}

std::size_t server_core::live() const {
    std::lock_guard lock(mu_);
    return live_.size();
}

void server_core::begin_stop(std::function<void()> drained) {
    std::vector<std::shared_ptr<connection_base>> open;
    bool none_open = false;
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        stopping_flag_.store(true, std::memory_order_release);
        none_open = live_.empty();
        if (!none_open) drained_ = std::move(drained);
        // A connection whose last reference is going is skipped: it is closing anyway.
        for (auto* c : live_)
            if (auto p = c->weak_from_this().lock()) open.push_back(std::move(p));
    }
    if (none_open) return drained();  // outside the lock: it may do anything
    for (auto& c : open) c->request_shutdown();
}

bool server_core::force_drained() {
    std::function<void()> drained;
    {
        std::lock_guard lock(mu_);
        drained = std::move(drained_);
        drained_ = nullptr;
    }
    if (!drained) return false;
    drained();
    return true;
}

}  // namespace detail

// --- server -------------------------------------------------------------------------------------

struct server::impl {
    impl(io_pool& ios, const tcp::endpoint& endpoint, server_state& st) : drain_timer_(ios.main()) {
        const config& cfg = st.cfg;
        std::shared_ptr<asio::ssl::context> tls;
        if (cfg.tls || cfg.tls_port != 0) tls = make_tls_context(cfg);
        core_ = std::make_shared<detail::server_core>(st, std::move(tls), ios);
        main_ = std::make_shared<listener>(
            ios, endpoint, core_,
            cfg.tls ? detail::listener_mode::plain_or_tls : detail::listener_mode::plain);
        if (cfg.tls_port != 0) {
            tls_ = std::make_shared<listener>(ios, tcp::endpoint(endpoint.address(), cfg.tls_port),
                                              core_, detail::listener_mode::tls_only);
            logger()->info("TLS-only port {}", tls_->acceptor_.local_endpoint().port());
        }
    }

    asio::steady_timer drain_timer_;
    std::shared_ptr<detail::server_core> core_;
    std::shared_ptr<listener> main_, tls_;
};

server::server(io_pool& ios, const tcp::endpoint& endpoint, server_state& state)
    : impl_(std::make_shared<impl>(ios, endpoint, state)) {}

server::~server() = default;

void server::start() {
    impl_->main_->accept();
    if (impl_->tls_) impl_->tls_->accept();
}

void server::stop(std::function<void()> drained) {
    impl_->main_->close();
    if (impl_->tls_) impl_->tls_->close();
    // The bounded wait: runs `drained` unless the last connection has already done so.
    impl_->drain_timer_.expires_after(detail::drain_timeout);
    impl_->drain_timer_.async_wait([core = impl_->core_](beast::error_code ec) {
        const auto open = core->live();
        if (!ec && core->force_drained())
            logger()->warn("stopping: {} connections still open after {} s; closing anyway", open,
                           std::chrono::duration_cast<std::chrono::seconds>(detail::drain_timeout).count());
    });
    impl_->core_->begin_stop(drained ? std::move(drained) : [] {});
}

tcp::endpoint server::local_endpoint() const { return impl_->main_->acceptor_.local_endpoint(); }

}  // namespace kinesd::http
