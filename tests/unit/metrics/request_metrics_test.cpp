#include "kinesd/metrics/request_metrics.hpp"

#include <gtest/gtest.h>

using namespace kinesd::metrics;
using namespace std::chrono_literals;

TEST(request_metrics, counts_by_operation_and_status) {
    request_metrics m({"PutRecord", "GetRecords"});
    m.record(m.index_of("PutRecord"), 200, 1ms);
    m.record(m.index_of("PutRecord"), 200, 1ms);
    m.record(m.index_of("PutRecord"), 400, 1ms);
    m.record(m.index_of("NoSuchOp"), 400, 1ms);
    m.record(m.index_of("GetRecords"), 418, 1ms);
    EXPECT_EQ(m.count("PutRecord", 200), 2u);
    EXPECT_EQ(m.count("PutRecord", 400), 1u);
    EXPECT_EQ(m.count("GetRecords", 200), 0u);
    EXPECT_EQ(m.count("unknown", 400), 1u);
    EXPECT_EQ(m.index_of("NoSuchOp"), m.unknown_index());

    std::string out;
    m.render(out);
    EXPECT_NE(out.find("# TYPE kinesd_requests_total counter\n"), std::string::npos);
    EXPECT_NE(out.find("kinesd_requests_total{operation=\"PutRecord\",code=\"200\"} 2\n"), std::string::npos);
    EXPECT_NE(out.find("kinesd_requests_total{operation=\"PutRecord\",code=\"400\"} 1\n"), std::string::npos);
    EXPECT_NE(out.find("kinesd_requests_total{operation=\"unknown\",code=\"400\"} 1\n"), std::string::npos);
    EXPECT_NE(out.find("kinesd_requests_total{operation=\"GetRecords\",code=\"other\"} 1\n"), std::string::npos);
    // Never-seen combinations are left out.
    EXPECT_EQ(out.find("code=\"500\""), std::string::npos);
}

TEST(request_metrics, histogram_buckets_are_cumulative_and_le_inclusive) {
    request_metrics m({"PutRecord", "ListShards"});
    const auto op = m.index_of("PutRecord");
    m.record(op, 200, 400us);   // <= 0.0005
    m.record(op, 200, 500us);   // exactly on the 0.0005 bound: counted in it
    m.record(op, 200, 3ms);     // <= 0.005
    m.record(op, 200, 20s);     // beyond the last bound: +Inf only
    std::string out;
    m.render(out);
    auto has = [&](const std::string& line) { return out.find(line + "\n") != std::string::npos; };
    EXPECT_TRUE(has("# TYPE kinesd_request_duration_seconds histogram"));
    EXPECT_TRUE(has("kinesd_request_duration_seconds_bucket{operation=\"PutRecord\",le=\"0.0005\"} 2"));
    EXPECT_TRUE(has("kinesd_request_duration_seconds_bucket{operation=\"PutRecord\",le=\"0.0025\"} 2"));
    EXPECT_TRUE(has("kinesd_request_duration_seconds_bucket{operation=\"PutRecord\",le=\"0.005\"} 3"));
    EXPECT_TRUE(has("kinesd_request_duration_seconds_bucket{operation=\"PutRecord\",le=\"10\"} 3"));
    EXPECT_TRUE(has("kinesd_request_duration_seconds_bucket{operation=\"PutRecord\",le=\"+Inf\"} 4"));
    EXPECT_TRUE(has("kinesd_request_duration_seconds_count{operation=\"PutRecord\"} 4"));
    EXPECT_TRUE(has("kinesd_request_duration_seconds_sum{operation=\"PutRecord\"} 20.0039"));
    EXPECT_EQ(out.find("operation=\"ListShards\""), std::string::npos);  // never called
}
