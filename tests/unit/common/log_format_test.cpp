#include "kinesd/common/log_format.hpp"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

using namespace kinesd;

namespace {

std::string format(log_format how, std::string_view logger, std::string_view payload,
                   spdlog::level::level_enum level = spdlog::level::info) {
    auto f = make_log_formatter(how);
    spdlog::details::log_msg msg(spdlog::string_view_t(logger.data(), logger.size()), level,
                                 spdlog::string_view_t(payload.data(), payload.size()));
    spdlog::memory_buf_t buf;
    f->format(msg, buf);
    return std::string(buf.data(), buf.size());
}

}  // namespace

TEST(log_format, json_lines_are_json_objects_even_with_awkward_messages) {
    const std::string line = format(log_format::json, "shard", "bad \"quote\" \\ and\nnewline \x01");
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["level"], "info");
    EXPECT_EQ(j["logger"], "shard");
    EXPECT_EQ(j["message"], "bad \"quote\" \\ and\nnewline \x01");
    EXPECT_EQ(j["time"].get<std::string>().back(), 'Z');
}

// A JSON line must stay valid for a strict reader (nlohmann::json::parse rejects ill-formed
// UTF-8) whatever bytes a message carries: well-formed UTF-8 is kept, every other byte becomes
// U+FFFD.
TEST(log_format, json_lines_replace_bytes_that_are_not_utf8) {
    const std::string payload =
        "kept \xc3\xa9 \xf0\x9f\x98\x80 lone \xff surrogate \xed\xa0\x80 overlong \xc0\xaf "
        "cut \xe2\x82";
    const std::string r = "\xef\xbf\xbd";  // U+FFFD in UTF-8
    auto j = nlohmann::json::parse(format(log_format::json, "http", payload));
    EXPECT_EQ(j["message"], "kept \xc3\xa9 \xf0\x9f\x98\x80 lone " + r + " surrogate " + r + r + r +
                                " overlong " + r + r + " cut " + r + r);
    auto fields = nlohmann::json::parse(
        format(log_format::json, "request", "request_id=a path=/\xfe\x80x", spdlog::level::debug));
    EXPECT_EQ(fields["path"], "/" + r + r + "x");
}

TEST(log_format, request_lines_carry_their_fields_as_members) {
    auto j = nlohmann::json::parse(format(
        log_format::json, "request",
        "request_id=abc-1 operation=PutRecord stream=orders status=200 error=- latency_ms=0.412 time=x",
        spdlog::level::debug));
    EXPECT_EQ(j["level"], "debug");
    EXPECT_EQ(j["request_id"], "abc-1");
    EXPECT_EQ(j["operation"], "PutRecord");
    EXPECT_EQ(j["stream"], "orders");
    EXPECT_EQ(j["status"], 200);
    EXPECT_EQ(j["latency_ms"], 0.412);
    EXPECT_NE(j["time"], "x") << "a field never replaces the envelope";
}

TEST(log_format, text_is_the_classic_line) {
    const auto line = format(log_format::text, "main", "hello");
    EXPECT_NE(line.find("Z info [main] hello"), std::string::npos) << line;
}

TEST(log_format, only_text_and_json_are_spelled) {
    EXPECT_EQ(parse_log_format("json"), log_format::json);
    EXPECT_EQ(parse_log_format("text"), log_format::text);
    EXPECT_EQ(parse_log_format("xml"), std::nullopt);
    EXPECT_EQ(parse_log_format("JSON"), std::nullopt);
    EXPECT_EQ(to_string(log_format::json), "json");
    EXPECT_EQ(to_string(log_format::text), "text");
}
