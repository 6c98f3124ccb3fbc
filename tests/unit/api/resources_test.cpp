// Consumer ARNs and the consumer records kept in a stream's settings.
#include "kinesd/api/resources.hpp"

#include <gtest/gtest.h>

using namespace kinesd;
using namespace kinesd::api;
using json = nlohmann::json;

TEST(consumer_arn, parses_aws_shape) {
    auto arn = parse_consumer_arn(
        "arn:aws:kinesis:us-west-2:123456789012:stream/orders/consumer/app-1:1572383852");
    ASSERT_TRUE(arn);
    EXPECT_EQ(arn->region, "us-west-2");
    EXPECT_EQ(arn->account, "123456789012");
    EXPECT_EQ(arn->stream, "orders");
    EXPECT_EQ(arn->consumer, "app-1");
    EXPECT_EQ(arn->created_s, 1572383852);
}

TEST(consumer_arn, refuses_other_shapes) {
    for (const char* bad : {
             "arn:aws:kinesis:us-east-1:000000000000:stream/orders",
             "arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/app",
             "arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/app:",
             "arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/app:12x",
             "arn:aws:sqs:us-east-1:000000000000:stream/orders/consumer/app:1",
             "arn:aws:kinesis:us-east-1:000000000000:stream//consumer/app:1",
             "arn:aws:kinesis:us-east-1:000000000000:stream/a/b/consumer/app:1",
             "nonsense",
         })
        EXPECT_FALSE(parse_consumer_arn(bad)) << bad;
}

TEST(consumer_state, follows_the_clock) {
    json c{{"name", "a"}, {"created_ms", 1000}, {"status", "CREATING"}, {"status_until_ms", 5000}};
    EXPECT_EQ(consumer_status(c, 4999), consumer_state::creating);
    EXPECT_EQ(consumer_status(c, 5000), consumer_state::active);
    c["status"] = "DELETING";
    c["status_until_ms"] = 9000;
    EXPECT_EQ(consumer_status(c, 8999), consumer_state::deleting);
    EXPECT_EQ(consumer_status(c, 9000), consumer_state::gone);
}

TEST(consumer_state, gone_consumers_are_not_found_or_counted_and_get_purged) {
    stream_settings st;
    st.extra["consumers"] = json::array({
        {{"name", "a"}, {"created_ms", 1000}, {"status", "ACTIVE"}, {"status_until_ms", 0}},
        {{"name", "b"}, {"created_ms", 2000}, {"status", "DELETING"}, {"status_until_ms", 3000}},
    });
    EXPECT_EQ(live_consumer_count(st, 2500), 2u);
    EXPECT_TRUE(find_consumer(st, "b", 2500));
    EXPECT_EQ(live_consumer_count(st, 3000), 1u);
    EXPECT_FALSE(find_consumer(st, "b", 3000));
    // An ARN's timestamp must match: a same-named later consumer is another consumer.
    EXPECT_TRUE(find_consumer(st, "a", 3000, 1));
    EXPECT_FALSE(find_consumer(st, "a", 3000, 2));
    purge_gone_consumers(st, 3000);
    ASSERT_EQ(st.extra["consumers"].size(), 1u);
    EXPECT_EQ(st.extra["consumers"][0]["name"], "a");
}
