// The transport-independent request path that HTTP/1.1 and HTTP/2 share: routing by path and
// X-Amz-Target, the region from SigV4, and one error shape for every failure.
#include "kinesd/http/request_handler.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>

#include "kinesd/api/error.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/http/server.hpp"
#include "kinesd/shard/stream_registry.hpp"

using namespace kinesd;
using namespace kinesd::http;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

class request_handler_test : public ::testing::Test {
protected:
    request_handler_test()
        : dir_(fs::temp_directory_path() / ("kinesd_request_handler_test_" + std::to_string(std::random_device{}()))),
          streams_(make_options(dir_), clock_),
          state_{cfg_, streams_, clock_} {}
    ~request_handler_test() override { fs::remove_all(dir_); }

    static registry_options make_options(const fs::path& dir) {
        registry_options o;
        o.data_dir = dir;
        return o;
    }

    response post(std::string_view op, std::string_view body, std::string_view auth = {}) {
        const std::string target = "Kinesis_20131202." + std::string(op);
        return handle_request(state_, {"POST", "/", target, "application/x-amz-json-1.1", auth}, body);
    }

    fs::path dir_;
    adjustable_clock clock_;
    config cfg_;
    stream_registry streams_;
    server_state state_;
};

}  // namespace

TEST_F(request_handler_test, an_operation_is_dispatched_and_answered_as_json) {
    auto res = post("CreateStream", R"({"StreamName":"s","ShardCount":1})");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.content_type, "application/x-amz-json-1.1");
    EXPECT_TRUE(res.error_type.empty());
    EXPECT_EQ(res.request_id.size(), 36u);
    res = post("ListStreams", "{}");
    EXPECT_EQ(json::parse(res.body)["StreamNames"], json::array({"s"}));
}

TEST(request_id, is_a_version_4_uuid_and_differs_each_time) {
    const std::regex uuid_v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    std::set<std::string> seen;
    std::array<int, 16> digit_counts{};  // of the fully random last group
    for (int i = 0; i < 2000; ++i) {
        const auto id = new_request_id();
        ASSERT_TRUE(std::regex_match(id, uuid_v4)) << id;
        seen.insert(id);
        for (char c : id.substr(24))
            ++digit_counts[static_cast<std::size_t>(std::isdigit(c) ? c - '0' : c - 'a' + 10)];
    }
    EXPECT_EQ(seen.size(), 2000u);
    for (int n : digit_counts) EXPECT_GT(n, 1000);  // 24,000 digits: ~1,500 of each
}

TEST_F(request_handler_test, the_region_comes_from_the_sigv4_scope) {
    post("CreateStream", R"({"StreamName":"w","ShardCount":1})",
         "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-west-2/kinesis/aws4_request, Signature=x");
    EXPECT_EQ(json::parse(post("ListStreams", "{}").body)["StreamNames"], json::array());
    auto west = post("ListStreams", "{}", "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-west-2/kinesis/aws4_request");
    EXPECT_EQ(json::parse(west.body)["StreamNames"], json::array({"w"}));
}

TEST_F(request_handler_test, errors_have_one_shape) {
    auto res = post("NoSuchOperation", "{}");
    EXPECT_EQ(res.status, 400);
    EXPECT_EQ(res.error_type, "UnknownOperationException");
    EXPECT_EQ(json::parse(res.body),
              (json{{"__type", "UnknownOperationException"}, {"message", "The operation is not supported by this service."}}));

    res = handle_request(state_, {"GET", "/", "Kinesis_20131202.ListStreams", "", ""}, "");
    EXPECT_EQ(res.error_type, "UnknownOperationException");
    EXPECT_EQ(json::parse(res.body)["message"], "Only POST requests are accepted by the Kinesis API.");

    res = post("ListStreams", "not json");
    EXPECT_EQ(res.error_type, "SerializationException");

    res = error_response(body_too_large(4096));
    EXPECT_EQ(res.status, 400);
    EXPECT_EQ(json::parse(res.body),
              (json{{"__type", "SerializationException"}, {"Message", "Request body is larger than the limit of 4096 bytes."}}));
}

TEST_F(request_handler_test, health_readiness_and_admin_paths) {
    auto res = handle_request(state_, {"GET", "/_kinesd/health", "", "", ""}, "");
    EXPECT_EQ(res.status, 200);
    res = handle_request(state_, {"GET", "/_kinesd/ready", "", "", ""}, "");
    EXPECT_EQ(res.status, 503);  // not ready until main says so
    state_.ready = true;
    EXPECT_EQ(handle_request(state_, {"GET", "/_kinesd/ready", "", "", ""}, "").status, 200);
    res = handle_request(state_, {"GET", "/_kinesd/clock", "", "", ""}, "");
    EXPECT_EQ(res.status, 404);  // --admin off
    cfg_.admin = true;
    EXPECT_EQ(handle_request(state_, {"GET", "/_kinesd/clock", "", "", ""}, "").status, 200);
}
