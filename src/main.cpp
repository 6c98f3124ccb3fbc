// kinesd: wires configuration, storage recovery, the stream registry and the HTTP front end.
#include <fmt/format.h>
#include <malloc.h>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>

#include "kinesd/api/model.hpp"
#include "kinesd/common/clock.hpp"
#include "kinesd/common/log_format.hpp"
#include "kinesd/common/logging.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/http/server.hpp"
#include "kinesd/retention/reaper.hpp"
#include "kinesd/shard/bootstrap.hpp"
#include "kinesd/shard/on_demand_scaling.hpp"
#include "kinesd/shard/stream_registry.hpp"
#include "kinesd/storage/commit_journal.hpp"
#include "kinesd/storage/commit_pipeline.hpp"
#include "kinesd/storage/periodic_syncer.hpp"

namespace {

// GetRecords answers are up to ~30 MiB strings (10 MiB of data in base64 plus keys and names),
// allocated per call, and PutRecords request bodies up to ~7 MiB. glibc's defaults gave each one
// fresh pages: above its mmap threshold a string is mapped and unmapped per call, below it the
// arena's top is trimmed back after each free; either way every page of the next one faulted
// again (perf stat over 5 drains of 100,000 records: 81,156 faults and 2.04 s of server CPU;
// 12 and 0.40 s with these settings). Serving such strings from the arenas and keeping up to
// 64 MiB free at an arena's top lets the next one reuse warm pages. Bounded: at most one 64 MiB
// top per arena, whatever the data size.
void keep_large_answers_warm() {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the largest value glibc accepts
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace kinesd;
    keep_large_answers_warm();
    parsed_command_line cmd;
    try {
        cmd = load_config(argc, argv, [](const char* name) { return std::getenv(name); });
    } catch (const config_error& e) {
        std::cerr << "kinesd: " << e.what() << "\n";
        return 2;
    }
    if (cmd.show_help) {
        std::cout << help_text();
        return 0;
    }
    if (cmd.show_version) {
        std::cout << "kinesd " << KINESD_VERSION << "\n";
        return 0;
    }
    // The API model (its JSON parsed, its patterns compiled: ~5M instructions, ~1.5 ms) is
    // needed by the first request. Built on a second core while the data dir is recovered and
    // the listener set up, instead of inside the first request; joined on every way out.
    std::jthread model_warmup([] { api::api_model::instance(); });
    const config& cfg = cmd.cfg;
    init_logging(cfg.log_level);
    if (cfg.log_format != log_format::text) set_log_format(cfg.log_format);
    auto log = module_logger("main");
    const auto started = std::chrono::steady_clock::now();

    adjustable_clock clock;
    registry_options options;
    options.data_dir = cfg.data_dir;
    options.shard_limit = cfg.shard_limit;
    options.create_stream_ms = cfg.create_stream_ms;
    options.delete_stream_ms = cfg.delete_stream_ms;
    options.update_stream_ms = cfg.update_stream_ms;
    options.segments.segment_bytes = cfg.segment_bytes;
    options.segments.fsync = cfg.fsync;
    std::size_t final_sync_failures = 0;

    try {
        // --fsync always: the fsync rounds the puts wait for run on a thread of their own, so
        // that no I/O thread blocks in one (a thread blocked in fsync costs no CPU), one round
        // at a time for every shard (commit_pipeline.hpp). Declared before streams: their logs
        // hand the pipeline their waiters until they are destroyed.
        std::optional<boost::asio::thread_pool> fsync_thread;
        std::optional<storage::commit_pipeline> commit_pipeline;
        const bool always = options.segments.fsync == storage::fsync_policy::always;
        // Before any shard log is opened: the bytes a crash kept only in the commit journal go
        // back into their segment files, where recovery finds them (commit_journal.hpp).
        const auto replayed = storage::commit_journal::replay(options.data_dir, always);
        if (replayed.entries > 0)
            log->warn(
                "the last run did not stop cleanly; commit journal: {} entries replayed, "
                "{} bytes into {} segment files ({} entries for files deleted since)",
                replayed.entries, replayed.bytes, replayed.files, replayed.missing_files);
        if (always) {
            fsync_thread.emplace(1);
            commit_pipeline.emplace(storage::commit_pipeline_options{
                .runner =
                    [&pool = *fsync_thread](std::function<void()> job) {
                        boost::asio::post(pool, std::move(job));
                    },
                .dir = options.data_dir,
                .use_syncfs = std::nullopt,
                .journal_bytes = storage::commit_journal::default_capacity_bytes,
                .io = nullptr});
            options.segments.pipeline = &*commit_pipeline;
        }
        stream_registry streams(options, clock);
        // Before the listener exists, so /_kinesd/ready never answers 200 without them.
        bootstrap_streams(streams, cfg.account_id, cfg.region, cfg.create_streams);
        retention::reaper reaper(streams, clock, std::chrono::milliseconds(cfg.reaper_interval_ms));
        reaper.start();
        // Capacity only limits writes when throttling is on, so only then does it need to grow.
        std::optional<on_demand_scaling_task> scaling;
        if (cfg.throttle && cfg.on_demand_scaling) {
            on_demand_scaling_policy policy;
            policy.shard_write_bytes_per_sec = cfg.shard_write_bytes_per_sec;
            policy.shard_write_records_per_sec = cfg.shard_write_records_per_sec;
            scaling.emplace(streams, clock, policy, std::chrono::seconds(1));
            scaling->start();
        }
        // Declared after streams: stopped (and destroyed) before them.
        std::optional<storage::periodic_syncer> syncer;
        if (options.segments.fsync == storage::fsync_policy::interval)
            syncer.emplace(std::chrono::milliseconds(cfg.fsync_interval_ms),
                           [&streams] { streams.sync_all(); });
        http::server_state server_state{cfg, streams, clock};
        // After everything the connections use: handlers still pending when the bounded drain
        // gives up are destroyed with the io_pool, and may touch server_state and streams.
        http::io_pool io_threads(worker_threads(cfg, std::thread::hardware_concurrency()));
        auto address = boost::asio::ip::make_address(cfg.host);
        http::server server(io_threads, {address, cfg.port}, server_state);
        server.start();
        server_state.ready = true;
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
        auto endpoint = server.local_endpoint();
        log->info("kinesd {} listening on {}:{}, data dir {}, {} streams, ready in {} ms",
                  KINESD_VERSION, endpoint.address().to_string(), endpoint.port(),
                  cfg.data_dir.string(), streams.stream_count(), ms);

        boost::asio::signal_set signals(io_threads.main(), SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code& ec, int signo) {
            if (ec) return;
            log->info("received signal {}, shutting down", signo);
            // A second signal exits at once.
            signals.async_wait([](const boost::system::error_code& ec2, int) {
                if (!ec2) std::_Exit(1);
            });
            // Requests in flight are answered first (bounded wait), then the threads return.
            server.stop([&io_threads] { io_threads.stop(); });
        });

        io_threads.run();
        // The I/O threads no longer run handlers: give SIGINT/SIGTERM back their default
        // action, so that a second signal during the final fsync still exits at once.
        boost::system::error_code ignored;
        signals.clear(ignored);
        // Nothing appends any more: make every acknowledged record durable, whatever --fsync.
        if (syncer) syncer->stop();
        final_sync_failures = streams.sync_all();
        // The pipeline may still be answering the puts of its last round, posting to the I/O
        // threads' contexts, which are destroyed first.
        if (commit_pipeline) {
            commit_pipeline->wait_idle();
            // Not counted as a failure when it fails: the journal stays valid for the next start.
            commit_pipeline->retire_journal();
        }
        if (final_sync_failures > 0)
            log->error("stopped; {} shard logs could not be fsynced", final_sync_failures);
        else
            log->info("stopped; every shard log fsynced");
    } catch (const std::exception& e) {
        log->critical("fatal: {}", e.what());
        std::cerr << "kinesd: " << e.what() << "\n";
        return 1;
    }
    return final_sync_failures > 0 ? 1 : 0;
}
