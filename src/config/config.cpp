#include "kinesd/config/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

namespace kinesd {
namespace {

template <typename Int>
Int parse_int(const std::string& name, const std::string& text, Int min, Int max) {
    Int v{};
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty())
        throw config_error(fmt::format("invalid value '{}' for {}: expected an integer", text, name));
    if (v < min || v > max)
        throw config_error(
            fmt::format("invalid value '{}' for {}: must be between {} and {}", text, name, min, max));
    return v;
}

bool parse_on_off(const std::string& name, const std::string& text) {
    if (text == "on" || text == "true" || text == "1") return true;
    if (text == "off" || text == "false" || text == "0") return false;
    throw config_error(fmt::format("invalid value '{}' for {}: expected on or off", text, name));
}

void require_non_empty(const std::string& name, const std::string& text) {
    if (text.empty()) throw config_error(fmt::format("invalid value '' for {}: must not be empty", name));
}

std::vector<option_spec> make_table() {
    std::vector<option_spec> t;
    auto add = [&](std::string name, std::string value_name, std::string help, std::string def,
                   std::function<void(config&, const std::string&)> apply) {
        t.push_back({std::move(name), std::move(value_name), std::move(help), std::move(def),
                     std::move(apply)});
    };
    const config d;
    add("host", "ADDR", "address to listen on", d.host,
        [](config& c, const std::string& v) { require_non_empty("host", v); c.host = v; });
    add("port", "PORT", "TCP port to listen on (0: any free port)", std::to_string(d.port),
        [](config& c, const std::string& v) { c.port = parse_int<std::uint16_t>("port", v, 0, 65535); });
    add("data-dir", "DIR", "directory for streams and their records", d.data_dir.string(),
        [](config& c, const std::string& v) { require_non_empty("data-dir", v); c.data_dir = v; });
    add("region", "REGION", "region used when a request carries no SigV4 credential scope", d.region,
        [](config& c, const std::string& v) { require_non_empty("region", v); c.region = v; });
    add("account-id", "ID", "12-digit account id used in ARNs and messages", d.account_id,
        [](config& c, const std::string& v) {
            if (v.size() != 12 || !std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
                throw config_error(fmt::format("invalid value '{}' for account-id: expected 12 digits", v));
            c.account_id = v;
        });
    add("log-level", "LEVEL", "trace, debug, info, warn, error or off", d.log_level,
        [](config& c, const std::string& v) {
            static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
            if (std::find(std::begin(levels), std::end(levels), v) == std::end(levels))
                throw config_error(fmt::format(
                    "invalid value '{}' for log-level: expected trace, debug, info, warn, error or off", v));
            c.log_level = v;
        });
    add("threads", "N", "HTTP worker threads (0: half the cores, at least 1)",
        std::to_string(d.threads), [](config& c, const std::string& v) {
            c.threads = parse_int<unsigned>("threads", v, 0, 256);
        });
    add("shard-limit", "N", "open shards allowed per account and region", std::to_string(d.shard_limit),
        [](config& c, const std::string& v) {
            c.shard_limit = parse_int<std::uint32_t>("shard-limit", v, 1, 1'000'000);
        });
    add("create-stream-ms", "MS", "how long a new stream stays CREATING", std::to_string(d.create_stream_ms),
        [](config& c, const std::string& v) {
            c.create_stream_ms = parse_int<std::int64_t>("create-stream-ms", v, 0, 3'600'000);
        });
    add("delete-stream-ms", "MS", "how long a deleted stream stays DELETING", std::to_string(d.delete_stream_ms),
        [](config& c, const std::string& v) {
            c.delete_stream_ms = parse_int<std::int64_t>("delete-stream-ms", v, 0, 3'600'000);
        });
    add("update-stream-ms", "MS", "how long an updated stream stays UPDATING", std::to_string(d.update_stream_ms),
        [](config& c, const std::string& v) {
            c.update_stream_ms = parse_int<std::int64_t>("update-stream-ms", v, 0, 3'600'000);
        });
    add("max-request-bytes", "BYTES", "largest request body accepted", std::to_string(d.max_request_bytes),
        [](config& c, const std::string& v) {
            c.max_request_bytes = parse_int<std::uint64_t>("max-request-bytes", v, 1024, 1ull << 30);
        });
    add("segment-bytes", "BYTES", "size at which a shard's segment file rolls", std::to_string(d.segment_bytes),
        [](config& c, const std::string& v) {
            c.segment_bytes = parse_int<std::uint64_t>("segment-bytes", v, 4096, 1ull << 32);
        });
    add("admin", "on|off", "serve the admin API under /_kinesd/ (clock, fault injection)", "off",
        [](config& c, const std::string& v) { c.admin = parse_on_off("admin", v); });
    add("throttle", "on|off", "enforce AWS's per-shard throughput limits", "on",
        [](config& c, const std::string& v) { c.throttle = parse_on_off("throttle", v); });
    add("shard-write-bytes-per-sec", "BYTES", "per-shard write limit in bytes per second (data plus partition keys)",
        std::to_string(d.shard_write_bytes_per_sec), [](config& c, const std::string& v) {
            c.shard_write_bytes_per_sec =
                parse_int<std::uint64_t>("shard-write-bytes-per-sec", v, 1, 1ull << 40);
        });
    add("shard-write-records-per-sec", "N", "per-shard write limit in records per second",
        std::to_string(d.shard_write_records_per_sec), [](config& c, const std::string& v) {
            c.shard_write_records_per_sec =
                parse_int<std::uint32_t>("shard-write-records-per-sec", v, 1, 1'000'000'000);
        });
    add("shard-read-bytes-per-sec", "BYTES", "per-shard GetRecords limit in bytes per second",
        std::to_string(d.shard_read_bytes_per_sec), [](config& c, const std::string& v) {
            c.shard_read_bytes_per_sec =
                parse_int<std::uint64_t>("shard-read-bytes-per-sec", v, 1, 1ull << 40);
        });
    add("shard-read-calls-per-sec", "N", "per-shard limit of GetRecords calls per second",
        std::to_string(d.shard_read_calls_per_sec), [](config& c, const std::string& v) {
            c.shard_read_calls_per_sec =
                parse_int<std::uint32_t>("shard-read-calls-per-sec", v, 1, 1'000'000'000);
        });
    add("control-plane-limits", "on|off", "enforce AWS's per-operation rate limits (LimitExceededException)", "off",
        [](config& c, const std::string& v) { c.control_plane_limits = parse_on_off("control-plane-limits", v); });
    add("on-demand-scaling", "on|off", "ON_DEMAND streams add shards under sustained writes (with --throttle on)", "on",
        [](config& c, const std::string& v) { c.on_demand_scaling = parse_on_off("on-demand-scaling", v); });
    add("reaper-interval-ms", "MS", "period of the retention reaper, which deletes expired segments",
        std::to_string(d.reaper_interval_ms), [](config& c, const std::string& v) {
            c.reaper_interval_ms = parse_int<std::int64_t>("reaper-interval-ms", v, 10, 86'400'000);
        });
    add("tls", "on|off", "serve https on the main port too (TLS with ALPN h2 and http/1.1)", "off",
        [](config& c, const std::string& v) { c.tls = parse_on_off("tls", v); });
    add("tls-port", "PORT", "a second port that serves TLS only (0: none)", std::to_string(d.tls_port),
        [](config& c, const std::string& v) { c.tls_port = parse_int<std::uint16_t>("tls-port", v, 0, 65535); });
    add("tls-cert", "FILE", "PEM certificate chain for TLS (default: generated in DATA-DIR/tls)", "",
        [](config& c, const std::string& v) { c.tls_cert = v; });
    add("tls-key", "FILE", "PEM private key of --tls-cert", "",
        [](config& c, const std::string& v) { c.tls_key = v; });
    add("max-connections", "N", "open connections allowed; more are closed when accepted",
        std::to_string(d.max_connections), [](config& c, const std::string& v) {
            c.max_connections = parse_int<std::uint32_t>("max-connections", v, 1, 1'000'000);
        });
    add("idle-timeout-ms", "MS", "close a connection that has no request in flight for this long",
        std::to_string(d.idle_timeout_ms), [](config& c, const std::string& v) {
            c.idle_timeout_ms = parse_int<std::int64_t>("idle-timeout-ms", v, 100, 86'400'000);
        });
    add("log-format", "text|json", "log lines as text, or as one JSON object per line",
        std::string(to_string(d.log_format)), [](config& c, const std::string& v) {
            auto format = parse_log_format(v);
            if (!format)
                throw config_error(fmt::format("invalid value '{}' for log-format: expected text or json", v));
            c.log_format = *format;
        });
    add("create-streams", "SPECS",
        "streams to create at startup if absent, before ready: name[:shards[:mode]],... "
        "e.g. orders:4,clicks:1:ON_DEMAND",
        "",
        [](config& c, const std::string& v) {
            try {
                c.create_streams = parse_stream_specs(v);
            } catch (const std::invalid_argument& e) {
                throw config_error(fmt::format("invalid value '{}' for create-streams: {}", v, e.what()));
            }
        });
    add("fsync", "never|interval|always",
        "when records are fsynced: never (at shutdown only), every --fsync-interval-ms, or "
        "before each put is acknowledged",
        std::string(storage::to_string(d.fsync)), [](config& c, const std::string& v) {
            auto policy = storage::parse_fsync_policy(v);
            if (!policy)
                throw config_error(fmt::format(
                    "invalid value '{}' for fsync: expected never, interval or always", v));
            c.fsync = *policy;
        });
    add("fsync-interval-ms", "MS", "how often --fsync interval fsyncs every shard's log",
        std::to_string(d.fsync_interval_ms), [](config& c, const std::string& v) {
            c.fsync_interval_ms = parse_int<std::uint32_t>("fsync-interval-ms", v, 1, 3'600'000);
        });
    return t;
}

const option_spec* find_option(std::string_view name) {
    for (const auto& o : option_table())
        if (o.name == name) return &o;
    return nullptr;
}

void apply_config_file(config& cfg, const std::string& path) {
    std::ifstream in(path);
    if (!in) throw config_error(fmt::format("cannot read config file {}", path));
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(in, nullptr, true, /*ignore_comments=*/true);
    } catch (const nlohmann::json::exception& e) {
        throw config_error(fmt::format("config file {} is not valid JSON: {}", path, e.what()));
    }
    if (!doc.is_object()) throw config_error(fmt::format("config file {} must hold a JSON object", path));
    for (const auto& [key, value] : doc.items()) {
        const option_spec* opt = find_option(key);
        if (!opt) throw config_error(fmt::format("unknown key '{}' in config file {}", key, path));
        if (value.is_object() || value.is_array() || value.is_null())
            throw config_error(fmt::format("config file {}: '{}' must be a string or a number", path, key));
        opt->apply(cfg, value.is_string() ? value.get<std::string>() : value.dump());
    }
}

}  // namespace

std::string option_spec::env_name() const {
    std::string env = "KINESD_";
    for (char c : name) env.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
    return env;
}

const std::vector<option_spec>& option_table() {
    static const std::vector<option_spec> table = make_table();
    return table;
}

parsed_command_line load_config(int argc, const char* const* argv,
                                const std::function<const char*(const char*)>& getenv_fn) {
    parsed_command_line out;
    // Flags are read first into a list so that --config can be applied before them.
    std::vector<std::pair<const option_spec*, std::string>> flags;
    std::string config_path;
    if (const char* env_config = getenv_fn("KINESD_CONFIG")) config_path = env_config;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") { out.show_help = true; continue; }
        if (arg == "--version") { out.show_version = true; continue; }
        if (arg.rfind("--", 0) != 0) throw config_error(fmt::format("unexpected argument '{}'", arg));
        std::string name = arg.substr(2), value;
        bool has_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_value = true;
        }
        if (!has_value) {
            if (i + 1 >= argc) throw config_error(fmt::format("missing value for --{}", name));
            value = argv[++i];
        }
        if (name == "config") { config_path = value; continue; }
        const option_spec* opt = find_option(name);
        if (!opt) throw config_error(fmt::format("unknown option --{} (see --help)", name));
        flags.emplace_back(opt, value);
    }
    if (out.show_help || out.show_version) return out;
    if (!config_path.empty()) apply_config_file(out.cfg, config_path);
    for (const auto& opt : option_table())
        if (const char* v = getenv_fn(opt.env_name().c_str())) opt.apply(out.cfg, v);
    for (const auto& [opt, value] : flags) opt->apply(out.cfg, value);
    return out;
}

std::string help_text() {
    std::string out =
        "Usage: kinesd [OPTIONS]\n"
        "A standalone server that speaks the Amazon Kinesis Data Streams API.\n\n"
        "Each option can also be set by the environment variable shown, or by its name as a key\n"
        "in the JSON file given by --config FILE (KINESD_CONFIG). Flags win over the environment,\n"
        "which wins over the file.\n\n";
    // One column for the flags, wide enough for the longest (plus two spaces before the text).
    std::size_t width = std::string_view("--config FILE").size();
    for (const auto& o : option_table())
        width = std::max(width, 3 + o.name.size() + o.value_name.size());
    width += 2;
    out += fmt::format("  {:<{}}{}\n", "--config FILE", width,
                       "JSON configuration file (KINESD_CONFIG)");
    for (const auto& o : option_table()) {
        out +=
            fmt::format("  {:<{}}{} (default {}; {})\n", "--" + o.name + " " + o.value_name, width,
                        o.help, o.default_text.empty() ? "none" : o.default_text, o.env_name());
    }
    out += fmt::format("  {:<{}}{}\n", "--help", width, "show this help and exit");
    out += fmt::format("  {:<{}}{}\n", "--version", width, "show the version and exit");
    return out;
}

unsigned worker_threads(const config& cfg, unsigned cores) {
    if (cfg.threads) return cfg.threads;
    return std::max(1u, cores / 2);
}

}  // namespace kinesd
