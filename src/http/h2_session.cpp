// HTTP/2 on a plain (h2c: prior knowledge or Upgrade) or TLS (ALPN h2) stream, with nghttp2
// doing the framing, HPACK, flow control and stream state; this file moves bytes between the
// socket and nghttp2's memory interface and turns each complete request into a call of
// handle_request() on the thread pool; answers return to the session's strand, so the streams
// of one connection are served in parallel and answered as they finish.
//
// Memory: a request body is appended straight from the DATA frames into the stream's one
// buffer (reserved from content-length) and refused past --max-request-bytes; a response body is
// framed from the string the handler returned into a bounded send buffer, as flow control allows.
//
// Streaming responses (SubscribeToShard): the body is a deferred data provider. The stream's
// subscription frames events into `pending` when woken (records appended: the shard's waker
// posts to the strand) or when its timer is due (heartbeat, end); nghttp2 is then resumed and
// sends them as DATA frames, flushed at once. Nothing more is polled until `pending` has gone
// out, so a slow reader holds at most one event batch; one that reads nothing for read_timeout
// is reset. The client resetting the stream or closing the connection, GOAWAY (server stop,
// idle) and the subscription's own end finish it; the subscription is released then.
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "connection.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/api/subscription.hpp"
#include "kinesd/common/logging.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/http/answer_hold.hpp"
#include "kinesd/http/request_handler.hpp"

namespace kinesd::http::detail {
namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("http");
    return l;
}

constexpr std::size_t send_buffer_bytes = 64 * 1024;
constexpr std::int32_t stream_window = 1 << 20;        // SETTINGS_INITIAL_WINDOW_SIZE
constexpr std::int32_t connection_window = 16 << 20;   // the connection-level receive window
constexpr auto goaway_grace = std::chrono::seconds(5); // after GOAWAY: time to finish streams

struct h2_stream {
    std::string method, path, amz_target, content_type, authorization;
    std::string body;
    std::size_t header_bytes = 0;
    bool too_large = false;  // content-length above the limit: refused when the headers end
    bool answered = false;   // a response is submitted (complete request, or refused early)
    response res;
    std::size_t sent = 0;  // bytes of res.body handed to nghttp2
    // Streaming responses only (res.stream set while the subscription runs).
    std::unique_ptr<asio::steady_timer> timer;  // next poll due, or a stalled reader
    bool timer_armed = false;     // a wait is pending on `timer`
    std::string pending;          // framed events not yet handed to nghttp2
    std::size_t pending_sent = 0; // bytes of `pending` handed to nghttp2
    bool stream_done = false;     // the subscription ended: EOF once `pending` is out
    std::uint64_t batches = 0;    // times `pending` was filled (tells a stalled reader)
};

struct nghttp2_callbacks_deleter {
    void operator()(nghttp2_session_callbacks* p) const { nghttp2_session_callbacks_del(p); }
};
struct nghttp2_option_deleter {
    void operator()(nghttp2_option* p) const { nghttp2_option_del(p); }
};

nghttp2_nv make_nv(std::string_view name, std::string_view value) {
    return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
            reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
            NGHTTP2_NV_FLAG_NONE};
}

template <class Stream>
class h2_session final : public connection_base {
public:
    h2_session(Stream stream, std::shared_ptr<server_core> core)
        : connection_base(std::move(core)), stream_(std::move(stream)), timer_(stream_.get_executor()) {}

    ~h2_session() override {
        if (session_) nghttp2_session_del(session_);
    }

    void start(beast::flat_buffer preread, std::unique_ptr<h2_upgrade> upgrade) {
        asio::dispatch(stream_.get_executor(), [self = self<h2_session>(), preread = std::move(preread),
                                                upgrade = std::move(upgrade)]() mutable {
            self->begin(std::move(preread), std::move(upgrade));
        });
    }

    void request_shutdown() override {
        asio::post(stream_.get_executor(), [self = self<h2_session>()] { self->go_away(); });
    }

private:
    // --- set-up ---------------------------------------------------------------------------

    void begin(beast::flat_buffer preread, std::unique_ptr<h2_upgrade> upgrade) {
        if (!create_session()) return close_stream(stream_);
        const nghttp2_settings_entry settings[] = {
            {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, h2_max_concurrent_streams},
            {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(stream_window)},
            {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(max_header_bytes)},
        };
        nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
        nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, connection_window);
        if (upgrade) {
            auto* p = reinterpret_cast<const uint8_t*>(upgrade->settings.data());
            if (nghttp2_session_upgrade2(session_, p, upgrade->settings.size(), upgrade->head_request,
                                         nullptr) != 0)
                return close_stream(stream_);
            // The upgraded request is stream 1, complete (half-closed remote): answer it.
            h2_stream& s = streams_[1];
            s.method = std::move(upgrade->method);
            s.path = std::move(upgrade->target);
            s.amz_target = std::move(upgrade->amz_target);
            s.content_type = std::move(upgrade->content_type);
            s.authorization = std::move(upgrade->authorization);
            s.body = std::move(upgrade->body);
            answer_request(1, s);
        }
        if (preread.size() > 0 && !receive(preread.data())) return;
        if (core_->stopping()) return go_away();  // started mid-stop: finish what came, no more
        flush();
        read();
    }

    bool create_session() {
        nghttp2_session_callbacks* cbs_raw = nullptr;
        if (nghttp2_session_callbacks_new(&cbs_raw) != 0) return false;
        std::unique_ptr<nghttp2_session_callbacks, nghttp2_callbacks_deleter> cbs(cbs_raw);
        nghttp2_session_callbacks_set_on_begin_headers_callback(cbs.get(), &h2_session::on_begin_headers);
        nghttp2_session_callbacks_set_on_header_callback(cbs.get(), &h2_session::on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs.get(), &h2_session::on_data_chunk);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs.get(), &h2_session::on_frame_recv);
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs.get(), &h2_session::on_stream_close);
        nghttp2_option* opt_raw = nullptr;
        if (nghttp2_option_new(&opt_raw) != 0) return false;
        std::unique_ptr<nghttp2_option, nghttp2_option_deleter> opt(opt_raw);
        // Bound what a peer can make us queue: SETTINGS and PING acks, and (by count) streams.
        nghttp2_option_set_max_outbound_ack(opt.get(), 1000);
        nghttp2_option_set_max_settings(opt.get(), 32);
        return nghttp2_session_server_new2(&session_, cbs.get(), this, opt.get()) == 0;
    }

    // --- nghttp2 callbacks (run inside nghttp2_session_mem_recv, on the strand) ----------

    static h2_session& me(void* user_data) { return *static_cast<h2_session*>(user_data); }

    h2_stream* find(std::int32_t id) {
        auto it = streams_.find(id);
        return it == streams_.end() ? nullptr : &it->second;
    }

    static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
        if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
            me(ud).streams_.try_emplace(frame->hd.stream_id);
        return 0;
    }

    static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                         size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* ud) {
        auto& self = me(ud);
        h2_stream* s = self.find(frame->hd.stream_id);
        if (!s) return 0;
        s->header_bytes += namelen + valuelen + 32;  // as SETTINGS_MAX_HEADER_LIST_SIZE counts
        if (s->header_bytes > max_header_bytes) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // RST_STREAM
        if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers: not used
        std::string_view n(reinterpret_cast<const char*>(name), namelen);
        std::string_view v(reinterpret_cast<const char*>(value), valuelen);
        // nghttp2 has checked the names (lowercase, no connection-specific fields).
        if (n == ":method") s->method = v;
        else if (n == ":path") s->path = v;
        else if (n == "x-amz-target") s->amz_target = v;
        else if (n == "content-type") s->content_type = v;
        else if (n == "authorization") s->authorization = v;
        else if (n == "content-length") {
            std::uint64_t len = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), len);
            if (ec == std::errc{} && p == v.data() + v.size()) {
                if (len > self.core_->state.cfg.max_request_bytes) {
                    s->too_large = true;
                } else {
                    s->body.reserve(len + api::fast_path_padding);
                }
            }
        }
        return 0;
    }

    static int on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                             size_t len, void* ud) {
        auto& self = me(ud);
        h2_stream* s = self.find(stream_id);
        if (!s || s->answered) return 0;  // refused already: the data is dropped as it comes
        if (s->body.size() + len > self.core_->state.cfg.max_request_bytes) {
            self.refuse_too_large(stream_id, *s);
            return 0;
        }
        s->body.append(reinterpret_cast<const char*>(data), len);
        return 0;
    }

    static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
        auto& self = me(ud);
        if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
        h2_stream* s = self.find(frame->hd.stream_id);
        if (!s || s->answered) return 0;
        if (s->too_large) self.refuse_too_large(frame->hd.stream_id, *s);
        else if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) self.answer_request(frame->hd.stream_id, *s);
        return 0;
    }

    static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* ud) {
        // Releases a subscription too (its waker is unregistered before the erase returns).
        me(ud).streams_.erase(stream_id);
        me(ud).arm_timer();
        return 0;
    }

    static ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                             uint32_t* data_flags, nghttp2_data_source* source, void*) {
        auto* s = static_cast<h2_stream*>(source->ptr);
        const std::size_t n = std::min(length, s->res.body.size() - s->sent);
        std::memcpy(buf, s->res.body.data() + s->sent, n);
        s->sent += n;
        if (s->sent == s->res.body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
    }

    // The body of a streaming response: what the subscription framed, as it comes.
    static ssize_t read_stream(nghttp2_session*, int32_t id, uint8_t* buf, size_t length,
                               uint32_t* data_flags, nghttp2_data_source* source, void* ud) {
        auto* s = static_cast<h2_stream*>(source->ptr);
        const std::size_t n = std::min(length, s->pending.size() - s->pending_sent);
        if (n == 0 && !s->stream_done) return NGHTTP2_ERR_DEFERRED;  // resumed by pump_stream
        std::memcpy(buf, s->pending.data() + s->pending_sent, n);
        s->pending_sent += n;
        if (s->pending_sent == s->pending.size()) {
            s->pending.clear();
            s->pending_sent = 0;
            if (s->stream_done) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
            else if (s->timer_armed) s->timer->cancel();  // the stall watch: its handler pumps
            else me(ud).schedule_stream(id, *s);          // all out: the next poll when due
        }
        return static_cast<ssize_t>(n);
    }

    // --- requests ---------------------------------------------------------------------------

    void refuse_too_large(std::int32_t id, h2_stream& s) {
        std::string().swap(s.body);
        // nghttp2 resets the stream (NO_ERROR) once the response is out, which stops the upload.
        submit(id, s, error_response(body_too_large(core_->state.cfg.max_request_bytes)));
    }

    // Runs the handler on the thread pool, so that a slow request (a large GetRecords, injected
    // latency) does not hold up the other streams; the answer comes back to the strand. The
    // request moves into the job: the stream may be reset (and erased) while the handler runs.
    void answer_request(std::int32_t id, h2_stream& s) {
        s.answered = true;
        arm_timer();  // no read timeout while the handler runs
        auto job = std::make_shared<h2_stream>(std::move(s));
        asio::post(core_->ios.next(), [self = self<h2_session>(), job, id]() mutable {
            request_head head{job->method, job->path, job->amz_target, job->content_type, job->authorization};
            response res =
                handle_request(self->core_->state, head, job->body, spare_capacity(job->body));
            job.reset();  // the request body is no longer needed
            auto ex = self->stream_.get_executor();
            asio::post(ex, [self = std::move(self), id, res = std::move(res)]() mutable {
                if (!res.held()) return self->on_answered(id, std::move(res));
                // Its fsync (--fsync always) or injected latency: no thread waits.
                auto ex = self->stream_.get_executor();
                send_when_ready(std::move(res), ex,
                                [self, id](response r) { self->on_answered(id, std::move(r)); });
            });
        });
    }

    void on_answered(std::int32_t id, response res) {
        if (closed_) return;
        h2_stream* s = find(id);
        if (!s) return;  // reset by the client meanwhile
        submit(id, *s, std::move(res));
        flush();
    }

    void submit(std::int32_t id, h2_stream& s, response res) {
        if (res.stream) return submit_stream(id, s, std::move(res));
        s.answered = true;
        s.res = std::move(res);
        s.sent = 0;
        const std::string status = std::to_string(s.res.status);
        const std::string length = std::to_string(s.res.body.size());
        std::array<nghttp2_nv, 6> nva{make_nv(":status", status),
                                      make_nv("content-type", s.res.content_type),
                                      make_nv("content-length", length),
                                      make_nv("x-amzn-requestid", s.res.request_id),
                                      make_nv("server", "kinesd"),
                                      make_nv("x-amzn-errortype", s.res.error_type)};
        const std::size_t n = s.res.error_type.empty() ? 5 : 6;
        nghttp2_data_provider body;
        body.source.ptr = &s;
        body.read_callback = &h2_session::read_body;
        if (nghttp2_submit_response(session_, id, nva.data(), n, &body) != 0)
            nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
    }

    // --- streaming responses ---------------------------------------------------------------

    // Sends the head (no content-length: the body ends with the subscription) and starts the
    // subscription: its waker posts to the strand, holding the session weakly (the subscription
    // lives in the session, so a strong reference would be a cycle).
    void submit_stream(std::int32_t id, h2_stream& s, response res) {
        s.answered = true;
        s.res = std::move(res);
        s.timer = std::make_unique<asio::steady_timer>(stream_.get_executor());
        std::array<nghttp2_nv, 4> nva{make_nv(":status", "200"),
                                      make_nv("content-type", s.res.content_type),
                                      make_nv("x-amzn-requestid", s.res.request_id),
                                      make_nv("server", "kinesd")};
        nghttp2_data_provider body;
        body.source.ptr = &s;
        body.read_callback = &h2_session::read_stream;
        if (nghttp2_submit_response(session_, id, nva.data(), nva.size(), &body) != 0) {
            s.res.stream.reset();
            nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
            return;
        }
        s.res.stream->set_waker([weak = std::weak_ptr<h2_session>(self<h2_session>()),
                                 ex = stream_.get_executor(), id] {
            asio::post(ex, [weak, id] {
                if (auto self = weak.lock()) self->wake_stream(id);
            });
        });
        if (closing_) return end_stream(id, s);  // GOAWAY already sent: just the end
        pump_stream(id);
    }

    // Records appended: poll now (if a poll is already due or events are still going out,
    // that one or the next schedule_stream() sees the wake).
    void wake_stream(std::int32_t id) {
        h2_stream* s = find(id);
        if (s && s->res.stream && s->timer_armed && s->pending.empty()) s->timer->cancel();
    }

    // Polls the subscription into `pending` and hands it to nghttp2, or waits until due.
    void pump_stream(std::int32_t id) {
        h2_stream* s = find(id);
        if (!s || !s->res.stream || closed_) return;
        if (!s->pending.empty()) return;  // still going out; read_stream schedules the next
        const bool more = !core_->stopping() &&
                          s->res.stream->poll(core_->state.time.now_ms(), s->pending);
        if (!more) {
            end_stream(id, *s);
            return;
        }
        if (s->pending.empty()) return schedule_stream(id, *s);
        ++s->batches;
        nghttp2_session_resume_data(session_, id);
        watch_stall(id, *s);
        flush();
    }

    // Arms the stream's timer for the subscription's next deadline (0: woken meanwhile, or a
    // backlog to continue). Only while nothing is pending, so one wait at most.
    void schedule_stream(std::int32_t id, h2_stream& s) {
        if (!s.res.stream || s.timer_armed) return;
        s.timer_armed = true;
        s.timer->expires_after(
            std::chrono::milliseconds(s.res.stream->next_deadline_in(core_->state.time.now_ms())));
        s.timer->async_wait([weak = std::weak_ptr<h2_session>(self<h2_session>()), id](beast::error_code) {
            auto self = weak.lock();
            if (!self) return;
            h2_stream* st = self->find(id);
            if (!st) return;  // closed meanwhile (the timer went with it)
            st->timer_armed = false;
            self->pump_stream(id);
        });
    }

    // Events are pending: a reader that takes none of them for read_timeout is reset, so a
    // stuck client cannot hold the subscription (and its memory) for good.
    void watch_stall(std::int32_t id, h2_stream& s) {
        if (s.timer_armed) return;
        s.timer_armed = true;
        s.timer->expires_after(read_timeout);
        s.timer->async_wait([weak = std::weak_ptr<h2_session>(self<h2_session>()), id,
                             mark = s.batches](beast::error_code) {
            auto self = weak.lock();
            if (!self) return;
            h2_stream* st = self->find(id);
            if (!st) return;
            st->timer_armed = false;
            if (st->pending.empty()) return self->pump_stream(id);  // drained: poll when due
            if (st->pending_sent == 0 && st->batches == mark && !self->closed_) {
                logger()->debug("HTTP/2 stream {}: reader stalled; resetting the subscription", id);
                st->res.stream.reset();
                nghttp2_submit_rst_stream(self->session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
                return self->flush();
            }
            self->watch_stall(id, *st);
        });
    }

    // The subscription is over (its end, server stop, GOAWAY): releases it; the body ends
    // (END_STREAM) once what is pending has gone out.
    void end_stream(std::int32_t id, h2_stream& s) {
        s.res.stream.reset();
        s.stream_done = true;
        if (s.timer) s.timer->cancel();
        nghttp2_session_resume_data(session_, id);
        flush();
    }

    // --- I/O --------------------------------------------------------------------------------

    // Feeds bytes to nghttp2; false (and the connection is closing) on a fatal protocol error.
    bool receive(asio::const_buffer in) {
        auto rv = nghttp2_session_mem_recv(session_, static_cast<const uint8_t*>(in.data()), in.size());
        if (rv < 0) {
            logger()->debug("HTTP/2 connection closed: {}", nghttp2_strerror(static_cast<int>(rv)));
            // nghttp2 has queued a GOAWAY for protocol errors; send it, then close.
            fatal_ = true;
            flush();
            if (!writing_) close();
            return false;
        }
        return true;
    }

    void read() {
        if (reading_ || closed_) return;
        if (!nghttp2_session_want_read(session_)) return maybe_close();
        reading_ = true;
        arm_timer();
        stream_.async_read_some(asio::buffer(read_buf_),
                                [self = self<h2_session>()](beast::error_code ec, std::size_t n) {
                                    self->reading_ = false;
                                    if (ec || self->closed_) return self->close();
                                    if (!self->receive(asio::buffer(self->read_buf_.data(), n))) return;
                                    self->flush();
                                    self->read();
                                });
    }

    // Writes what nghttp2 has to send, a bounded buffer at a time.
    void flush() {
        if (writing_ || closed_) return;
        out_.clear();
        while (out_.size() < send_buffer_bytes) {
            const uint8_t* data = nullptr;
            auto n = nghttp2_session_mem_send(session_, &data);
            if (n < 0) return close();
            if (n == 0) break;
            out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
        }
        if (out_.empty()) return maybe_close();
        writing_ = true;
        asio::async_write(stream_, asio::buffer(out_),
                          [self = self<h2_session>()](beast::error_code ec, std::size_t) {
                              self->writing_ = false;
                              if (ec || self->fatal_) return self->close();
                              self->flush();
                              self->read();
                          });
    }

    void maybe_close() {
        if (!writing_ && !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_))
            close();
    }

    // What the connection waits for sets its timer, re-armed whenever that changes (a read, a
    // request complete, a stream closed): a request still arriving gets read_timeout for its
    // next byte; with no stream at all the connection is idle (--idle-timeout-ms); while only
    // handlers run or responses go out there is none. On expiry: GOAWAY, then goaway_grace to
    // finish, then close.
    void arm_timer() {
        if (closed_) return;
        std::chrono::milliseconds wait;
        if (closing_) {
            wait = std::chrono::duration_cast<std::chrono::milliseconds>(goaway_grace);
        } else if (streams_.empty()) {
            wait = core_->idle_timeout();
        } else if (std::any_of(streams_.begin(), streams_.end(),
                               [](const auto& s) { return !s.second.answered; })) {
            wait = std::chrono::duration_cast<std::chrono::milliseconds>(read_timeout);
        } else {
            timer_.cancel();
            return;
        }
        timer_.expires_after(wait);
        timer_.async_wait([self = self<h2_session>()](beast::error_code ec) {
            if (ec || self->closed_) return;
            if (self->closing_) return self->close();
            self->go_away();
        });
    }

    // Graceful GOAWAY: streams already started are answered; new ones are refused.
    // Subscriptions end at once (AWS ends them too; the client subscribes again elsewhere).
    void go_away() {
        if (closed_ || closing_ || !session_) return;
        closing_ = true;
        nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                              nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                              nullptr, 0);
        // By id: ending one flushes, which may close (erase) streams.
        std::vector<std::int32_t> subscribed;
        for (auto& [id, st] : streams_)
            if (st.res.stream) subscribed.push_back(id);
        for (auto id : subscribed)
            if (h2_stream* st = find(id)) end_stream(id, *st);
        arm_timer();
        flush();
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        timer_.cancel();
        for (auto& [id, st] : streams_) {  // subscriptions end with the connection, not later
            st.res.stream.reset();
            if (st.timer) st.timer->cancel();
        }
        close_stream(stream_);
    }

    Stream stream_;
    asio::steady_timer timer_;
    nghttp2_session* session_ = nullptr;
    std::unordered_map<std::int32_t, h2_stream> streams_;  // node-based: references stay valid
    std::array<char, 64 * 1024> read_buf_;
    std::string out_;
    bool reading_ = false, writing_ = false;
    bool closing_ = false;  // GOAWAY submitted
    bool fatal_ = false;    // protocol error: close once the GOAWAY nghttp2 queued is out
    bool closed_ = false;
};

}  // namespace

template <class Stream>
void start_http2(Stream stream, beast::flat_buffer buffer, std::shared_ptr<server_core> core,
                 std::unique_ptr<h2_upgrade> upgrade) {
    std::make_shared<h2_session<Stream>>(std::move(stream), std::move(core))
        ->start(std::move(buffer), std::move(upgrade));
}

template void start_http2<plain_stream>(plain_stream, beast::flat_buffer, std::shared_ptr<server_core>,
                                        std::unique_ptr<h2_upgrade>);
template void start_http2<tls_stream>(tls_stream, beast::flat_buffer, std::shared_ptr<server_core>,
                                      std::unique_ptr<h2_upgrade>);

}  // namespace kinesd::http::detail
