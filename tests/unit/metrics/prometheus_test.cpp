#include "kinesd/metrics/prometheus.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace kinesd::metrics;

TEST(prometheus, family_header_and_samples) {
    std::string out;
    write_family(out, "kinesd_x_total", "counter", "Things.");
    write_sample(out, "kinesd_x_total", {{"stream", "a"}, {"shard", "shardId-000000000001"}}, std::uint64_t{42});
    write_sample(out, "kinesd_y", {}, std::int64_t{-3});
    write_sample(out, "kinesd_z", {{"le", "+Inf"}}, 0.25);
    EXPECT_EQ(out,
              "# HELP kinesd_x_total Things.\n"
              "# TYPE kinesd_x_total counter\n"
              "kinesd_x_total{stream=\"a\",shard=\"shardId-000000000001\"} 42\n"
              "kinesd_y -3\n"
              "kinesd_z{le=\"+Inf\"} 0.25\n");
}

TEST(prometheus, label_values_are_escaped) {
    std::string out;
    write_sample(out, "m", {{"k", "a\"b\\c\nd"}}, std::uint64_t{1});
    EXPECT_EQ(out, "m{k=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(prometheus, special_floats) {
    std::string out;
    write_sample(out, "m", {}, std::numeric_limits<double>::infinity());
    write_sample(out, "m", {}, std::numeric_limits<double>::quiet_NaN());
    EXPECT_EQ(out, "m +Inf\nm NaN\n");
}
