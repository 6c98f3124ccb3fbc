#include "kinesd/api/faults.hpp"

#include <gtest/gtest.h>

using namespace kinesd;
using namespace kinesd::api;
using json = nlohmann::json;

namespace {

std::string parse_error(const json& body) {
    try {
        fault_registry::parse(body);
    } catch (const api_error& e) {
        return e.type + ": " + e.what();
    }
    return "accepted";
}

}  // namespace

TEST(fault_registry, parses_the_documented_body) {
    auto spec = fault_registry::parse({{"operation", "PutRecords"},
                                       {"streamName", "orders"},
                                       {"errorType", "ProvisionedThroughputExceededException"},
                                       {"rate", 0.3},
                                       {"latencyMs", 0}});
    EXPECT_EQ(spec.operation, "PutRecords");
    EXPECT_EQ(spec.stream_name, "orders");
    EXPECT_EQ(spec.error_type, "ProvisionedThroughputExceededException");
    EXPECT_DOUBLE_EQ(spec.rate, 0.3);
    EXPECT_EQ(spec.latency_ms, 0);
    // streamName, rate and latencyMs are optional; latency alone is a fault too.
    spec = fault_registry::parse({{"operation", "ListStreams"}, {"latencyMs", 250}});
    EXPECT_EQ(spec.stream_name, "");
    EXPECT_EQ(spec.error_type, "");
    EXPECT_DOUBLE_EQ(spec.rate, 1.0);
    EXPECT_EQ(spec.latency_ms, 250);
}

TEST(fault_registry, refuses_bad_bodies) {
    EXPECT_EQ(parse_error(json::array()), "SerializationException: The body must be a JSON object.");
    EXPECT_NE(parse_error({{"errorType", "LimitExceededException"}}).find("operation is required"), std::string::npos);
    EXPECT_EQ(parse_error({{"operation", "PutRecordz"}, {"errorType", "InternalFailure"}}),
              "InvalidArgumentException: Unknown operation PutRecordz.");
    EXPECT_NE(parse_error({{"operation", "PutRecords"}, {"errorType", "InternalFailure"}, {"rate", 1.5}})
                  .find("rate must be a number from 0 to 1"),
              std::string::npos);
    EXPECT_NE(parse_error({{"operation", "PutRecords"}, {"errorType", "InternalFailure"}, {"rate", "0.5"}})
                  .find("rate must be"),
              std::string::npos);
    EXPECT_NE(parse_error({{"operation", "PutRecords"}, {"latencyMs", -1}}).find("latencyMs must be"),
              std::string::npos);
    EXPECT_NE(parse_error({{"operation", "PutRecords"}, {"latencyMs", 600000}}).find("latencyMs must be"),
              std::string::npos);
    EXPECT_NE(parse_error({{"operation", "PutRecords"}}).find("Give an errorType"), std::string::npos);
    // Only errors the model lists for the operation (plus InternalFailure, ServiceUnavailable).
    EXPECT_NE(parse_error({{"operation", "ListStreams"}, {"errorType", "ProvisionedThroughputExceededException"}})
                  .find("cannot be injected into ListStreams"),
              std::string::npos);
    EXPECT_EQ(parse_error({{"operation", "ListStreams"}, {"errorType", "ServiceUnavailable"}}), "accepted");
    EXPECT_EQ(parse_error({{"operation", "GetRecords"}, {"errorType", "ExpiredIteratorException"}}), "accepted");
}

TEST(fault_registry, a_rate_fires_exactly_that_share_of_draws_evenly) {
    fault_registry r;
    r.add({"PutRecord", "", "InternalFailure", 0.25, 0});
    std::string pattern;
    for (int i = 0; i < 12; ++i) pattern += r.draw("PutRecord", "s").error_type.empty() ? '.' : 'X';
    EXPECT_EQ(pattern, "...X...X...X");
    r.clear();
    r.add({"PutRecord", "", "InternalFailure", 1.0, 0});
    r.add({"GetRecords", "", "InternalFailure", 0.0, 0});
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(r.draw("PutRecord", "s").error_type, "InternalFailure");
        EXPECT_EQ(r.draw("GetRecords", "s").error_type, "");
    }
}

TEST(fault_registry, matches_operation_and_stream) {
    fault_registry r;
    EXPECT_FALSE(r.active());
    r.add({"PutRecords", "orders", "ProvisionedThroughputExceededException", 1.0, 0});
    EXPECT_TRUE(r.active());
    EXPECT_EQ(r.draw("PutRecords", "orders").error_type, "ProvisionedThroughputExceededException");
    EXPECT_EQ(r.draw("PutRecords", "clicks").error_type, "");
    EXPECT_EQ(r.draw("PutRecord", "orders").error_type, "");
}

TEST(fault_registry, first_fired_error_wins_and_latency_is_the_largest) {
    fault_registry r;
    r.add({"PutRecord", "", "", 1.0, 100});
    r.add({"PutRecord", "", "InternalFailure", 1.0, 20});
    r.add({"PutRecord", "", "ServiceUnavailable", 1.0, 0});
    auto out = r.draw("PutRecord", "s");
    EXPECT_EQ(out.error_type, "InternalFailure");
    EXPECT_EQ(out.latency_ms, 100);
}

TEST(fault_registry, lists_and_removes_by_id) {
    fault_registry r;
    const auto a = r.add({"PutRecords", "orders", "ProvisionedThroughputExceededException", 0.5, 0});
    const auto b = r.add({"GetRecords", "", "", 1.0, 10});
    EXPECT_NE(a, b);
    r.draw("PutRecords", "orders");
    r.draw("PutRecords", "orders");
    auto list = r.list();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0]["id"], a);
    EXPECT_EQ(list[0]["streamName"], "orders");
    EXPECT_EQ(list[0]["draws"], 2);
    EXPECT_EQ(list[0]["fired"], 1);
    EXPECT_FALSE(list[1].contains("errorType"));
    EXPECT_FALSE(list[1].contains("streamName"));
    EXPECT_TRUE(r.remove(a));
    EXPECT_FALSE(r.remove(a));
    EXPECT_EQ(r.list().size(), 1u);
    r.clear();
    EXPECT_FALSE(r.active());
    EXPECT_EQ(r.list().size(), 0u);
}

TEST(fault_registry, injected_errors_use_aws_wording_and_status) {
    auto e = injected_error("ProvisionedThroughputExceededException", "orders", "000000000000");
    EXPECT_STREQ(e.what(), "Rate exceeded for stream orders under account 000000000000.");
    EXPECT_EQ(e.status, 400);
    e = injected_error("LimitExceededException", "", "000000000000");
    EXPECT_STREQ(e.what(), "Rate exceeded for account 000000000000.");
    EXPECT_EQ(injected_error("InternalFailure", "", "0").status, 500);
    EXPECT_EQ(injected_error("ServiceUnavailable", "", "0").status, 503);
    EXPECT_EQ(injected_error("ResourceNotFoundException", "", "0").type, "ResourceNotFoundException");
}
