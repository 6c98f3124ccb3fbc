#pragma once
// Shared scaffolding of the unit tests: a temporary directory, and a fixture that drives the API
// handlers through api::dispatch (as the HTTP layer does) on a stream registry with a manual
// clock. Header-only; test code.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <atomic>
#include <string>
#include <string_view>

#include "kinesd/api/dispatch.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/common/clock.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::test_support {

// A fresh directory under the system's temp dir, named after the test (and the process, so
// that parallel ctest processes never share one), removed with its contents at destruction.
class temp_dir {
public:
    explicit temp_dir(std::string_view prefix = "kinesd-test") {
        static std::atomic<int> counter{0};
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        path_ = std::filesystem::temp_directory_path() /
                fmt::format("{}-{}-{}-{}", prefix, ::getpid(), info != nullptr ? info->name() : "none",
                            counter++);
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// CreateStream's request in the default account and region (config's defaults).
inline create_stream_request make_request(std::string name, std::uint32_t shards) {
    create_stream_request r;
    r.account = "000000000000";
    r.region = "us-east-1";
    r.name = std::move(name);
    r.shard_count = shards;
    return r;
}

// One API call as the HTTP layer makes it: the parsed answer ({} for an empty body). Throws
// api_error as the handlers do.
inline nlohmann::json call_api(const config& cfg, stream_registry& streams, const clock& time,
                               std::string_view operation, const nlohmann::json& body) {
    api::context ctx{cfg, streams, time, cfg.account_id, cfg.region, "test"};
    const auto out = api::dispatch(ctx, operation, body.dump());
    return out.empty() ? nlohmann::json::object() : nlohmann::json::parse(out);
}

// The error a call throws; type "none" when it succeeds.
inline api_error error_of_api(const config& cfg, stream_registry& streams, const clock& time,
                              std::string_view operation, const nlohmann::json& body) {
    try {
        call_api(cfg, streams, time, operation, body);
    } catch (const api_error& e) {
        return e;
    }
    return api_error("none", "");
}

// A registry on a temp dir (options' data_dir is set to it), a manual clock and a default config
// (throttling on, as kinesd's default). Members are protected so tests can move the clock and
// change the config between calls.
class api_test : public ::testing::Test {
protected:
    explicit api_test(std::string_view name, registry_options options = {})
        : dir_(std::string("kinesd-") + std::string(name)),
          streams_(with_dir(std::move(options), dir_.path()), clock_) {}

    nlohmann::json call(std::string_view operation, const nlohmann::json& body) {
        return call_api(cfg_, streams_, clock_, operation, body);
    }
    api_error error_of(std::string_view operation, const nlohmann::json& body) {
        return error_of_api(cfg_, streams_, clock_, operation, body);
    }

    temp_dir dir_;
    manual_clock clock_;
    config cfg_;
    stream_registry streams_;

private:
    static registry_options with_dir(registry_options o, const std::filesystem::path& dir) {
        o.data_dir = dir;
        return o;
    }
};

}  // namespace kinesd::test_support
