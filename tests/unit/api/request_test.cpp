#include "kinesd/api/request.hpp"

#include <gtest/gtest.h>

using namespace kinesd;
using namespace kinesd::api;

TEST(request, stream_arns_are_parsed) {
    auto arn = parse_stream_arn("arn:aws:kinesis:us-west-2:123456789012:stream/orders");
    ASSERT_TRUE(arn);
    EXPECT_EQ(arn->region, "us-west-2");
    EXPECT_EQ(arn->account, "123456789012");
    EXPECT_EQ(arn->name, "orders");
    EXPECT_TRUE(parse_stream_arn("arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b-c_d"));
    EXPECT_FALSE(parse_stream_arn("arn:aws:sqs:us-west-2:123456789012:stream/orders"));
    EXPECT_FALSE(parse_stream_arn("arn:aws:kinesis:us-west-2:123456789012:table/orders"));
    EXPECT_FALSE(parse_stream_arn("arn:aws:kinesis:us-west-2:123456789012:stream/"));
    EXPECT_FALSE(parse_stream_arn(
        "arn:aws:kinesis:us-west-2:123456789012:stream/orders/consumer/c:1"));
    EXPECT_FALSE(parse_stream_arn("arn:gcp:kinesis:us-west-2:123456789012:stream/orders"));
    EXPECT_FALSE(parse_stream_arn("arn:aws:kinesis:us-west-2"));
}

TEST(request, kinesis_arns_split_at_their_first_five_colons) {
    auto arn = parse_kinesis_arn("arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/s/consumer/c:17");
    ASSERT_TRUE(arn);
    EXPECT_EQ(arn->region, "us-gov-west-1");
    EXPECT_EQ(arn->account, "123456789012");
    EXPECT_EQ(arn->resource, "stream/s/consumer/c:17");
    EXPECT_FALSE(parse_kinesis_arn("urn:aws:kinesis:r:a:stream/s"));
}

TEST(request, json_strings_are_escaped) {
    std::string out;
    append_json_string(out, "a\"b\\c\n\x01 é");
    EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001 é\"");
    EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), "a\"b\\c\n\x01 é");
}

TEST(request, epoch_seconds_keep_milliseconds) {
    std::string out;
    append_epoch_seconds(out, 1700000000123);
    EXPECT_EQ(out, "1700000000.123");
    out.clear();
    append_epoch_seconds(out, 1700000000005);
    EXPECT_EQ(out, "1700000000.005");
    out = "x";  // appends; every digit of the fraction and of the seconds
    append_epoch_seconds(out, 1700000000090);
    append_epoch_seconds(out, 999);
    append_epoch_seconds(out, 9223372036854775807);
    EXPECT_EQ(out, "x1700000000.0900.9999223372036854775.807");
    EXPECT_DOUBLE_EQ(epoch_seconds(1700000000500).get<double>(), 1700000000.5);
}

TEST(request, timestamps_read_as_epoch_milliseconds) {
    auto req = nlohmann::json::parse(R"({"A": 1700000000.25, "B": 1700000000, "C": null})");
    EXPECT_EQ(timestamp_member(req, "A"), 1700000000250);
    EXPECT_EQ(timestamp_member(req, "B"), 1700000000000);
    EXPECT_FALSE(timestamp_member(req, "C"));
    EXPECT_FALSE(timestamp_member(req, "D"));
}

TEST(request, integers_are_floored_and_clamped_as_aws_does) {
    auto req = nlohmann::json::parse(R"({"A": 1.9, "B": 100000000000, "C": -5, "D": 1e11})");
    EXPECT_EQ(int_member(req, "A"), 1);
    EXPECT_EQ(int_member(req, "B"), 2147483647);
    EXPECT_EQ(int_member(req, "C"), -5);
    EXPECT_EQ(int_member(req, "D"), 2147483647);
}
