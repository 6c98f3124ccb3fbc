// kinesd-bench: a Kinesis load generator (Beast, no SDK) that measures any endpoint speaking the
// Kinesis JSON API, so kinesd and other implementations are measured with the same tool.
// Prints one machine-readable line per figure: "<scenario> <value> <unit>".
//
//   kinesd-bench --endpoint http://127.0.0.1:4567 SCENARIO [options]
//   scenarios: create-stream, put-record, put-records, fill, get-records, put-to-get, list-streams
//   run `kinesd-bench --help` for the options of each.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kinesd/common/base64.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

struct options {
    std::string host = "127.0.0.1";
    std::string port = "4567";
    std::string scenario;
    std::string stream = "bench";
    std::string label;          // scenario name printed; defaults to the scenario
    int shards = 1;
    int connections = 1;
    double seconds = 5;
    std::size_t payload = 1024;
    int batch = 500;
    std::size_t records = 100000;  // get-records: how many to drain; fill: how many to write
    int rate = 1000;               // put-to-get: records per second
    int threads = 1;               // client threads
};

[[noreturn]] void usage(int code) {
    std::cout <<
        "Usage: kinesd-bench [--endpoint http://HOST:PORT] SCENARIO [options]\n"
        "Scenarios:\n"
        "  create-stream   --stream S --shards N          create S and wait until ACTIVE\n"
        "  put-record      --stream S --connections C --seconds T --payload B\n"
        "  put-records     --stream S --connections C --seconds T --batch N --payload B\n"
        "  fill            --stream S --connections C --records N --batch N --payload B\n"
        "  get-records     --stream S --records N        drain N records from every shard, Limit 10000\n"
        "  put-to-get      --stream S --seconds T --rate R   one producer, one polling consumer\n"
        "  put-to-push     --stream S --seconds T --rate R   one producer, one SubscribeToShard consumer\n"
        "  list-streams                                  one call; exit 0 when answered\n"
        "Common: --label NAME (printed scenario name), --threads N (client threads)\n";
    std::exit(code);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        if (a == "--help" || a == "-h") usage(0);
        else if (a == "--endpoint") {
            std::string e = next();
            auto p = e.find("://");
            if (p != std::string::npos) e = e.substr(p + 3);
            auto colon = e.rfind(':');
            o.host = e.substr(0, colon);
            o.port = colon == std::string::npos ? "80" : e.substr(colon + 1);
            if (!o.port.empty() && o.port.back() == '/') o.port.pop_back();
        } else if (a == "--stream") o.stream = next();
        else if (a == "--label") o.label = next();
        else if (a == "--shards") o.shards = std::stoi(next());
        else if (a == "--connections") o.connections = std::stoi(next());
        else if (a == "--seconds") o.seconds = std::stod(next());
        else if (a == "--payload") o.payload = std::stoul(next());
        else if (a == "--batch") o.batch = std::stoi(next());
        else if (a == "--records") o.records = std::stoul(next());
        else if (a == "--rate") o.rate = std::stoi(next());
        else if (a == "--threads") o.threads = std::stoi(next());
        else if (a.rfind("--", 0) == 0) usage(2);
        else o.scenario = a;
    }
    if (o.scenario.empty()) usage(2);
    if (o.label.empty()) o.label = o.scenario;
    return o;
}

void print(const std::string& scenario, double value, const char* unit) {
    std::printf("%s %.6g %s\n", scenario.c_str(), value, unit);
    std::fflush(stdout);
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

bhttp::request<bhttp::string_body> make_request(const options& o, std::string_view op, std::string body) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/", 11};
    req.set(bhttp::field::host, o.host);
    req.set(bhttp::field::content_type, "application/x-amz-json-1.1");
    req.set("X-Amz-Target", std::string("Kinesis_20131202.") + std::string(op));
    req.set(bhttp::field::authorization,
            "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/kinesis/aws4_request, "
            "SignedHeaders=host, Signature=0");
    // kinesalite (like AWS) refuses an Authorization header without a date; kinesd ignores it.
    req.set("X-Amz-Date", "20260101T000000Z");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
}

// A blocking client for set-up calls and the sequential scenarios. It reads answers itself
// instead of with Beast's string_body parser: that parser zero-filled and then copied each
// ~14 MiB GetRecords answer in 64 KiB steps, and the drain measured the client (0.8 s of
// client CPU per 100,000 records against 0.08 s in kinesd). Here the body lands in a buffer
// kept across calls, read with large receives.
class sync_client {
public:
    explicit sync_client(const options& o) : o_(o), socket_(io_) {
        tcp::resolver r(io_);
        asio::connect(socket_, r.resolve(o.host, o.port));
        socket_.set_option(tcp::no_delay(true));
        socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20));
    }
    // Returns status and body; the body is valid until the next call.
    std::pair<int, std::string_view> call(std::string_view op, std::string body) {
        auto req = make_request(o_, op, std::move(body));
        bhttp::write(socket_, req);
        return read_response();
    }

    // A streaming call (SubscribeToShard over HTTP/1.1: a chunked body that runs as long as
    // the subscription): passes each piece of body to on_data as it arrives until on_data
    // returns false or the body ends. Returns the status.
    int stream(std::string_view op, std::string body,
               const std::function<bool(std::string_view)>& on_data) {
        auto req = make_request(o_, op, std::move(body));
        bhttp::write(socket_, req);
        std::size_t at = 0;
        int status = 0;
        for (bool first = true;; first = false) {
            const std::size_t len = line_at(at);
            std::string line(buf_.get() + begin_ + at, len);
            at += len + 2;
            if (first) status = std::stoi(line.substr(9, 3));
            else if (line.empty()) break;
        }
        begin_ += at;
        for (;;) {
            const std::size_t len = line_at(0);
            const std::size_t chunk = std::stoul(std::string(buf_.get() + begin_, len), nullptr, 16);
            begin_ += len + 2;
            if (chunk == 0) return status;
            fill_to(chunk + 2);
            const bool more = on_data(std::string_view(buf_.get() + begin_, chunk));
            begin_ += chunk + 2;
            if (!more) return status;
        }
    }

private:
    // Reads until the buffer holds [begin, begin + n) or throws at end of stream.
    void fill_to(std::size_t n) {
        if (n > capacity_) {
            const std::size_t grown = std::max({n, capacity_ * 2, std::size_t{64} << 10});
            auto bigger = std::unique_ptr<char[]>(new char[grown]);  // not zero-filled
            std::memcpy(bigger.get(), buf_.get() + begin_, end_ - begin_);
            buf_ = std::move(bigger);
            end_ -= begin_;
            begin_ = 0;
            capacity_ = grown;
        } else if (begin_ + n > capacity_) {
            std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        while (end_ - begin_ < n)
            end_ += socket_.read_some(asio::buffer(buf_.get() + end_, capacity_ - end_));
    }
    // The next line (without CRLF) starting at begin_ + at; returns its length.
    std::size_t line_at(std::size_t at) {
        for (;;) {
            std::string_view have(buf_.get() + begin_ + at, end_ - begin_ - at);
            auto p = have.find("\r\n");
            if (p != std::string_view::npos) return p;
            fill_to(end_ - begin_ + 1);
        }
    }
    std::pair<int, std::string_view> read_response() {
        // Status line and headers.
        std::size_t at = 0, content_length = 0;
        bool chunked = false;
        int status = 0;
        for (bool first = true;; first = false) {
            const std::size_t len = line_at(at);
            std::string line(buf_.get() + begin_ + at, len);
            at += len + 2;
            if (first) {
                status = std::stoi(line.substr(9, 3));  // "HTTP/1.1 200 OK"
                continue;
            }
            if (line.empty()) break;
            for (auto& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (line.rfind("content-length:", 0) == 0) content_length = std::stoul(line.substr(15));
            if (line.rfind("transfer-encoding:", 0) == 0 && line.find("chunked") != std::string::npos)
                chunked = true;
        }
        begin_ += at;
        if (!chunked) {
            fill_to(content_length);
            std::string_view body(buf_.get() + begin_, content_length);
            begin_ += content_length;
            return {status, body};
        }
        // Chunked: gather the chunks in place (each moved down over the size lines before it).
        std::size_t body_len = 0;
        at = 0;
        for (;;) {
            const std::size_t len = line_at(at);
            const std::size_t chunk = std::stoul(std::string(buf_.get() + begin_ + at, len), nullptr, 16);
            at += len + 2;
            fill_to(at + chunk + 2);
            std::memmove(buf_.get() + begin_ + body_len, buf_.get() + begin_ + at, chunk);
            body_len += chunk;
            at += chunk + 2;
            if (chunk == 0) break;
        }
        std::string_view body(buf_.get() + begin_, body_len);
        begin_ += at;
        return {status, body};
    }

    const options& o_;
    asio::io_context io_;
    tcp::socket socket_;
    std::unique_ptr<char[]> buf_;
    std::size_t capacity_ = 0, begin_ = 0, end_ = 0;  // unread bytes: [begin_, end_)
};

// Appends `"PartitionKey":"<16 random characters>","Data":"<data>"`. The bodies are built by
// appending into one reserved string: the load generator shares the cores with the server it
// measures, so every allocation it saves is CPU the server gets (PutRecords bodies are ~700 KiB,
// 500 records each).
void append_record_members(std::string& out, std::mt19937_64& rng, const std::string& data) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    char k[16];
    for (auto& c : k) c = alphabet[rng() % 36];
    out += "\"PartitionKey\":\"";
    out.append(k, sizeof k);
    out += "\",\"Data\":\"";
    out += data;
    out += '"';
}

std::string random_payload_b64(std::mt19937_64& rng, std::size_t size) {
    std::string raw(size, '\0');
    for (auto& c : raw) c = static_cast<char>(rng());
    return kinesd::base64::encode(raw);
}

// Closed-loop load: each connection sends a request, waits for the answer, records its latency
// and sends the next, until the deadline.
struct load_result {
    std::uint64_t ok = 0, errors = 0, items = 0;
    std::vector<double> latencies_ms;
    double seconds = 0;
};

class worker : public std::enable_shared_from_this<worker> {
public:
    using body_fn = std::function<std::string(std::mt19937_64&)>;
    using count_fn = std::function<std::uint64_t(int status, const std::string& body)>;

    worker(asio::io_context& io, const options& o, std::string op, body_fn make_body, count_fn count,
           steady::time_point deadline, std::uint64_t max_items, std::atomic<std::uint64_t>& items)
        : o_(o), stream_(io), op_(std::move(op)), make_body_(std::move(make_body)),
          count_(std::move(count)), deadline_(deadline), max_items_(max_items), items_(items),
          rng_(std::random_device{}()) {}

    void start(const tcp::resolver::results_type& endpoints) {
        stream_.async_connect(endpoints, [self = shared_from_this()](beast::error_code ec, auto) {
            if (ec) {
                std::cerr << "connect: " << ec.message() << "\n";
                return;
            }
            self->stream_.socket().set_option(tcp::no_delay(true));
            self->send();
        });
    }
    load_result result;

private:
    void send() {
        if (steady::now() >= deadline_ || (max_items_ && items_.load() >= max_items_)) return;
        req_ = make_request(o_, op_, make_body_(rng_));
        sent_ = steady::now();
        bhttp::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->fail(ec);
            self->parser_.emplace();
            self->parser_->body_limit(256u << 20);
            bhttp::async_read(self->stream_, self->buffer_, *self->parser_,
                              [self](beast::error_code ec2, std::size_t) {
                                  if (ec2) return self->fail(ec2);
                                  self->on_response();
                              });
        });
    }
    void on_response() {
        auto ms = std::chrono::duration<double, std::milli>(steady::now() - sent_).count();
        const auto& res = parser_->get();
        const int status = static_cast<int>(res.result_int());
        result.latencies_ms.push_back(ms);
        if (status == 200) {
            ++result.ok;
            auto n = count_(status, res.body());
            result.items += n;
            items_ += n;
        } else {
            ++result.errors;
            if (result.errors <= 3) std::cerr << "HTTP " << status << ": " << res.body().substr(0, 200) << "\n";
        }
        send();
    }
    void fail(beast::error_code ec) {
        ++result.errors;
        std::cerr << "connection error: " << ec.message() << "\n";
    }

    const options& o_;
    beast::tcp_stream stream_;
    std::string op_;
    body_fn make_body_;
    count_fn count_;
    steady::time_point deadline_;
    std::uint64_t max_items_;
    std::atomic<std::uint64_t>& items_;
    std::mt19937_64 rng_;
    bhttp::request<bhttp::string_body> req_;
    std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
    beast::flat_buffer buffer_;
    steady::time_point sent_;
};

load_result run_load(const options& o, const std::string& op, worker::body_fn body, worker::count_fn count,
                     double seconds, std::uint64_t max_items = 0) {
    asio::io_context io;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(o.host, o.port);
    std::atomic<std::uint64_t> items{0};
    const auto start = steady::now();
    const auto deadline = start + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
    std::vector<std::shared_ptr<worker>> workers;
    for (int i = 0; i < o.connections; ++i) {
        workers.push_back(std::make_shared<worker>(io, o, op, body, count, deadline, max_items, items));
        workers.back()->start(endpoints);
    }
    std::vector<std::thread> threads;
    for (int i = 1; i < o.threads; ++i) threads.emplace_back([&] { io.run(); });
    io.run();
    for (auto& t : threads) t.join();
    load_result total;
    total.seconds = std::chrono::duration<double>(steady::now() - start).count();
    for (auto& w : workers) {
        total.ok += w->result.ok;
        total.errors += w->result.errors;
        total.items += w->result.items;
        total.latencies_ms.insert(total.latencies_ms.end(), w->result.latencies_ms.begin(),
                                  w->result.latencies_ms.end());
    }
    return total;
}

std::uint64_t count_occurrences(std::string_view s, std::string_view needle) {
    std::uint64_t n = 0;
    for (auto p = s.find(needle); p != std::string::npos; p = s.find(needle, p + needle.size())) ++n;
    return n;
}

std::string json_field(std::string_view body, std::string_view key) {
    std::string pat = "\"" + std::string(key) + "\":\"";
    auto p = body.find(pat);
    if (p == std::string::npos) return {};
    p += pat.size();
    return std::string(body.substr(p, body.find('"', p) - p));
}

int create_stream(const options& o) {
    sync_client c(o);
    auto [status, body] = c.call("CreateStream", nlohmann::json{{"StreamName", o.stream}, {"ShardCount", o.shards}}.dump());
    if (status != 200 && body.find("ResourceInUseException") == std::string::npos) {
        std::cerr << "CreateStream: " << status << " " << body << "\n";
        return 1;
    }
    for (int i = 0; i < 20000; ++i) {
        auto [s2, b2] = c.call("DescribeStreamSummary", nlohmann::json{{"StreamName", o.stream}}.dump());
        if (s2 == 200 && b2.find("\"ACTIVE\"") != std::string::npos) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // waiting for a server, not a race
    }
    std::cerr << "stream never became ACTIVE\n";
    return 1;
}

void report_load(const options& o, const load_result& r, double items_per_unit, const char* rate_unit,
                 double bytes_per_item = 0) {
    auto lat = r.latencies_ms;
    print(o.label + ".rate", r.items / r.seconds / items_per_unit, rate_unit);
    if (bytes_per_item > 0) print(o.label + ".payload", r.items * bytes_per_item / r.seconds / (1 << 20), "MiB/s");
    print(o.label + ".p50", percentile(lat, 0.50), "ms");
    print(o.label + ".p99", percentile(lat, 0.99), "ms");
    print(o.label + ".errors", static_cast<double>(r.errors), "requests");
}

std::vector<std::string> shard_ids(const options& o) {
    sync_client c(o);
    auto [status, body] = c.call("ListShards", nlohmann::json{{"StreamName", o.stream}}.dump());
    std::vector<std::string> ids;
    if (status != 200) return ids;
    const auto doc = nlohmann::json::parse(body);  // kept alive for the loop below
    for (const auto& s : doc["Shards"]) ids.push_back(s["ShardId"]);
    return ids;
}

int get_records(const options& o) {
    sync_client c(o);
    std::uint64_t records = 0, calls = 0;
    const auto start = steady::now();
    std::vector<double> lat;
    for (const auto& shard : shard_ids(o)) {
        auto [s, b] = c.call("GetShardIterator", nlohmann::json{{"StreamName", o.stream}, {"ShardId", shard},
                                                                {"ShardIteratorType", "TRIM_HORIZON"}}.dump());
        std::string it = json_field(b, "ShardIterator");
        while (records < o.records && !it.empty()) {
            auto t0 = steady::now();
            auto [status, body] = c.call("GetRecords", "{\"ShardIterator\":\"" + it + "\",\"Limit\":10000}");
            lat.push_back(std::chrono::duration<double, std::milli>(steady::now() - t0).count());
            ++calls;
            if (status != 200) {
                std::cerr << "GetRecords: " << status << " " << body.substr(0, 200) << "\n";
                return 1;
            }
            auto n = count_occurrences(body, "\"SequenceNumber\"");
            records += n;
            if (n == 0) break;
            it = json_field(body, "NextShardIterator");
        }
    }
    const double secs = std::chrono::duration<double>(steady::now() - start).count();
    print(o.label + ".rate", records / secs, "records/s");
    print(o.label + ".payload", records * static_cast<double>(o.payload) / secs / (1 << 20), "MiB/s");
    print(o.label + ".p50", percentile(lat, 0.5), "ms");
    print(o.label + ".records", static_cast<double>(records), "records");
    return records >= o.records ? 0 : 1;
}

// The latency scenarios: one producer puts records whose data is their send time (steady_clock
// nanoseconds, decimal), one consumer measures how late each arrives.
void put_stamped(sync_client& producer, const options& o) {
    const std::string stamp = std::to_string(steady::now().time_since_epoch().count());
    producer.call("PutRecord", "{\"StreamName\":\"" + o.stream + "\",\"PartitionKey\":\"k\",\"Data\":\"" +
                                   kinesd::base64::encode(stamp) + "\"}");
}

// `rate` stamped records per second for `seconds`.
void run_paced_producer(const options& o) {
    sync_client producer(o);
    const auto interval = std::chrono::nanoseconds(1'000'000'000LL / std::max(1, o.rate));
    const auto end = steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(o.seconds));
    auto next = steady::now();
    while (steady::now() < end) {
        put_stamped(producer, o);
        next += interval;
        std::this_thread::sleep_until(next);  // pacing the producer is the scenario, not a race
    }
}

// Adds the latency of each record of `records` (a Records array) received at `now`, in ms.
void add_latencies(const nlohmann::json& records, steady::rep now, std::vector<double>& lat) {
    for (const auto& r : records) {
        auto raw = kinesd::base64::decode(r["Data"].get<std::string>());
        if (raw) lat.push_back((now - std::stoll(*raw)) / 1e6);
    }
}

int report_latencies(const options& o, std::vector<double>& lat) {
    print(o.label + ".samples", static_cast<double>(lat.size()), "records");
    print(o.label + ".p50", percentile(lat, 0.5), "ms");
    print(o.label + ".p99", percentile(lat, 0.99), "ms");
    return lat.empty() ? 1 : 0;
}

int put_to_get(const options& o) {
    // Consumer: a tight GetRecords loop on the (single) shard from LATEST.
    auto shards = shard_ids(o);
    if (shards.empty()) return 1;
    std::atomic<bool> stop{false};
    std::vector<double> lat;
    std::thread consumer([&] {
        sync_client c(o);
        auto [s, b] = c.call("GetShardIterator", nlohmann::json{{"StreamName", o.stream}, {"ShardId", shards[0]},
                                                                {"ShardIteratorType", "LATEST"}}.dump());
        std::string it = json_field(b, "ShardIterator");
        while (!stop.load() && !it.empty()) {
            auto [status, body] = c.call("GetRecords", "{\"ShardIterator\":\"" + it + "\"}");
            if (status != 200) break;
            const auto now = steady::now().time_since_epoch().count();
            auto doc = nlohmann::json::parse(body);
            add_latencies(doc["Records"], now, lat);
            it = doc.value("NextShardIterator", "");
        }
    });
    run_paced_producer(o);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the last records' polls
    stop = true;
    consumer.join();
    return report_latencies(o, lat);
}

// Splits the event-stream messages (total_len:u32 | headers_len:u32 | prelude_crc:u32 |
// headers | payload | crc:u32, big-endian) out of `pending`, passing each payload to on_payload.
void take_event_payloads(std::string& pending, const std::function<void(std::string_view)>& on_payload) {
    auto be32 = [&](std::size_t at) {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(pending[at + i]);
        return v;
    };
    std::size_t at = 0;
    while (pending.size() - at >= 12) {
        const std::uint32_t total = be32(at), headers = be32(at + 4);
        if (total < 16 || pending.size() - at < total) break;
        on_payload(std::string_view(pending).substr(at + 12 + headers, total - 16 - headers));
        at += total;
    }
    pending.erase(0, at);
}

int put_to_push(const options& o) {
    // Consumer: an enhanced fan-out consumer subscribed to the (single) shard from LATEST, over
    // HTTP/1.1 (a chunked event stream).
    auto shards = shard_ids(o);
    if (shards.empty()) return 1;
    sync_client setup(o);
    const std::string stream_arn =
        json_field(setup.call("DescribeStreamSummary", nlohmann::json{{"StreamName", o.stream}}.dump()).second,
                   "StreamARN");
    auto [rs, rb] = setup.call("RegisterStreamConsumer",
                               nlohmann::json{{"StreamARN", stream_arn}, {"ConsumerName", o.label}}.dump());
    const std::string consumer_arn = json_field(rb, "ConsumerARN");
    if (rs != 200 || consumer_arn.empty()) {
        std::cerr << "RegisterStreamConsumer: " << rs << " " << rb << "\n";
        return 1;
    }
    bool active = false;
    for (int i = 0; i < 20000 && !active; ++i) {
        auto [s2, b2] = setup.call("DescribeStreamConsumer", nlohmann::json{{"ConsumerARN", consumer_arn}}.dump());
        active = s2 == 200 && b2.find("\"ACTIVE\"") != std::string::npos;
        if (!active) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // waiting for a server
    }
    if (!active) return 1;

    std::atomic<bool> stop{false}, subscribed{false};
    std::vector<double> lat;
    std::thread consumer([&] {
        sync_client c(o);
        std::string pending;
        c.stream("SubscribeToShard",
                 nlohmann::json{{"ConsumerARN", consumer_arn},
                                {"ShardId", shards[0]},
                                {"StartingPosition", {{"Type", "LATEST"}}}}.dump(),
                 [&](std::string_view data) {
                     if (stop.load()) return false;  // the wake-up record below is not a sample
                     const auto now = steady::now().time_since_epoch().count();
                     subscribed = true;
                     pending.append(data);
                     take_event_payloads(pending, [&](std::string_view payload) {
                         auto doc = nlohmann::json::parse(payload, nullptr, false);
                         if (doc.is_object() && doc.contains("Records")) add_latencies(doc["Records"], now, lat);
                     });
                     return true;
                 });
    });
    for (int i = 0; i < 20000 && !subscribed.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the first event: subscribed
    run_paced_producer(o);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the last records' events
    stop = true;
    sync_client waker(o);
    put_stamped(waker, o);  // the consumer returns at its next event
    consumer.join();
    return report_latencies(o, lat);
}

}  // namespace

int main(int argc, char** argv) {
    options o = parse(argc, argv);
    try {
        if (o.scenario == "list-streams") {
            sync_client c(o);
            return c.call("ListStreams", "{}").first == 200 ? 0 : 1;
        }
        if (o.scenario == "create-stream") return create_stream(o);
        if (o.scenario == "put-record") {
            std::mt19937_64 seed_rng{42};
            std::vector<std::string> payloads;
            for (int i = 0; i < 16; ++i) payloads.push_back(random_payload_b64(seed_rng, o.payload));
            auto r = run_load(
                o, "PutRecord",
                [&](std::mt19937_64& rng) {
                    const std::string& data = payloads[rng() % payloads.size()];
                    std::string b;
                    b.reserve(o.stream.size() + data.size() + 64);
                    b += "{\"StreamName\":\"";
                    b += o.stream;
                    b += "\",";
                    append_record_members(b, rng, data);
                    b += '}';
                    return b;
                },
                [](int, const std::string&) { return std::uint64_t{1}; }, o.seconds);
            report_load(o, r, 1, "records/s");
            return r.errors ? 1 : 0;
        }
        if (o.scenario == "put-records" || o.scenario == "fill") {
            std::mt19937_64 seed_rng{7};
            std::vector<std::string> payloads;
            for (int i = 0; i < 16; ++i) payloads.push_back(random_payload_b64(seed_rng, o.payload));
            const std::size_t body_bytes =
                o.stream.size() + 64 +
                static_cast<std::size_t>(o.batch) * (payloads[0].size() + 48);
            auto body = [&](std::mt19937_64& rng) {
                std::string b;
                b.reserve(body_bytes);
                b += "{\"StreamName\":\"";
                b += o.stream;
                b += "\",\"Records\":[";
                for (int i = 0; i < o.batch; ++i) {
                    if (i) b += ',';
                    b += '{';
                    append_record_members(b, rng, payloads[rng() % payloads.size()]);
                    b += '}';
                }
                b += "]}";
                return b;
            };
            auto count = [&](int, const std::string& res) {
                // Records accepted = batch size minus FailedRecordCount.
                auto p = res.find("\"FailedRecordCount\":");
                std::uint64_t failed = p == std::string::npos ? 0 : std::stoull(res.substr(p + 20));
                return static_cast<std::uint64_t>(o.batch) - failed;
            };
            const bool fill = o.scenario == "fill";
            auto r = run_load(o, "PutRecords", body, count, fill ? 3600 : o.seconds, fill ? o.records : 0);
            report_load(o, r, 1, "records/s", static_cast<double>(o.payload));
            return r.errors ? 1 : 0;
        }
        if (o.scenario == "get-records") return get_records(o);
        if (o.scenario == "put-to-get") return put_to_get(o);
        if (o.scenario == "put-to-push") return put_to_push(o);
    } catch (const std::exception& e) {
        std::cerr << "kinesd-bench: " << e.what() << "\n";
        return 1;
    }
    usage(2);
}
