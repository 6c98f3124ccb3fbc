#pragma once
// Server configuration. Every setting has one entry in option_table(): a flag `--name`, an
// environment variable `KINESD_<NAME>` and a key "name" in the JSON file given by --config.
// Precedence: flag > environment > config file > default.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kinesd/common/log_format.hpp"
#include "kinesd/config/stream_spec.hpp"
#include "kinesd/storage/fsync_policy.hpp"

namespace kinesd {

struct config {
    std::string host = "0.0.0.0";
    std::uint16_t port = 4567;
    std::filesystem::path data_dir = "./data";
    std::string region = "us-east-1";
    std::string account_id = "000000000000";
    std::string log_level = "info";
    unsigned threads = 0;  // HTTP worker threads; 0: see worker_threads()
    std::uint32_t shard_limit = 500;
    std::int64_t create_stream_ms = 0;  // how long a new stream stays CREATING
    std::int64_t delete_stream_ms = 0;  // how long a deleted stream stays DELETING
    std::int64_t update_stream_ms = 0;  // how long an updated stream stays UPDATING
    std::uint64_t max_request_bytes = 32ull << 20;  // request bodies above are refused unread
    std::uint64_t segment_bytes = 64ull << 20;      // segment files roll past this size
    bool admin = false;  // serve the admin API under /_kinesd/ (clock, faults)
    bool throttle = true;  // enforce AWS's per-shard throughput and scaling limits
    // Per-shard throughput limits (each a token bucket holding one second of its rate).
    std::uint64_t shard_write_bytes_per_sec = 1u << 20;  // data plus partition key bytes
    std::uint32_t shard_write_records_per_sec = 1000;
    std::uint64_t shard_read_bytes_per_sec = 2u << 20;
    std::uint32_t shard_read_calls_per_sec = 5;  // GetRecords calls
    bool control_plane_limits = false;  // AWS's per-operation TPS limits (LimitExceededException)
    bool on_demand_scaling = true;  // with throttle: ON_DEMAND streams double their shards when busy
    std::int64_t reaper_interval_ms = 60'000;  // period of the retention reaper's passes
    bool tls = false;            // the main port also accepts TLS (https)
    std::uint16_t tls_port = 0;  // 0: none; else a second, TLS-only port
    std::filesystem::path tls_cert;  // PEM chain; empty: a generated one in <data-dir>/tls
    std::filesystem::path tls_key;   // PEM private key of tls_cert
    std::uint32_t max_connections = 4096;  // open connections; more are closed at accept
    std::int64_t idle_timeout_ms = 120'000;  // a connection with no request in flight closes after
    kinesd::log_format log_format = kinesd::log_format::text;  // json: for log shippers
    std::vector<stream_spec> create_streams;  // created at startup when absent (before ready)
    storage::fsync_policy fsync = storage::fsync_policy::interval;  // docs/durability.md
    std::uint32_t fsync_interval_ms = 1000;  // how often --fsync interval syncs every log
};

// A bad flag, environment variable or config file value. what() is one line for the user.
struct config_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct option_spec {
    std::string name;           // flag without dashes, JSON key: "data-dir"
    std::string value_name;     // for --help: "DIR"
    std::string help;           // one line
    std::string default_text;   // the default, as the user would write it
    std::function<void(config&, const std::string&)> apply;  // throws config_error
    std::string env_name() const;  // "KINESD_DATA_DIR"
};

const std::vector<option_spec>& option_table();

struct parsed_command_line {
    config cfg;
    bool show_help = false;
    bool show_version = false;
};

// Reads defaults, then the --config file, then the environment (getenv), then the flags.
// Throws config_error on an unknown flag, a missing value, or a value that does not parse.
parsed_command_line load_config(int argc, const char* const* argv,
                                const std::function<const char*(const char*)>& getenv_fn);

std::string help_text();

// How many HTTP worker threads to run: --threads, else half the cores (at least 1). Half,
// because about half of a request's CPU is the kernel's network work and kinesd's clients
// usually share the machine (tests, CI, local development): on 2 cores with the load generator
// beside it, 1 thread answered more PutRecords than 2 (50,465 vs 40,885 records/s, 19.4 vs
// 24.4 us of server CPU each; docs/benchmarks.md). The same with --fsync always: a put waiting
// for its fsync holds no worker (docs/durability.md).
unsigned worker_threads(const config& cfg, unsigned cores);

}  // namespace kinesd
