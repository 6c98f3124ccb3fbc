#include "kinesd/config/stream_spec.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace kinesd;

TEST(stream_spec, parses_the_documented_forms) {
    auto specs = parse_stream_specs("orders:4,clicks:1:ON_DEMAND, audit ,lazy::on_demand,p:2:provisioned");
    ASSERT_EQ(specs.size(), 5u);
    EXPECT_EQ(specs[0], (stream_spec{"orders", 4, false}));
    EXPECT_EQ(specs[1], (stream_spec{"clicks", 1, true}));
    EXPECT_EQ(specs[2], (stream_spec{"audit", 1, false}));
    EXPECT_EQ(specs[3], (stream_spec{"lazy", 4, true}));  // ON_DEMAND starts with 4, as CreateStream
    EXPECT_EQ(specs[4], (stream_spec{"p", 2, false}));
}

TEST(stream_spec, empty_text_is_no_streams) {
    EXPECT_TRUE(parse_stream_specs("").empty());
    EXPECT_TRUE(parse_stream_specs("  ").empty());
}

TEST(stream_spec, bad_entries_are_refused_with_the_entry_named) {
    for (const char* bad : {"orders:0", "orders:-1", "orders:x", "orders:4:FAST", "or ders", "a,,b", "a,",
                            ":4", "a:1:ON_DEMAND:x", "orders:100001", "a,a:2", "bad/name"}) {
        EXPECT_THROW(parse_stream_specs(bad), std::invalid_argument) << bad;
    }
    try {
        parse_stream_specs("orders:4,clicks:many");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("clicks:many"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(parse_stream_specs(std::string(128, 'a')));
    EXPECT_THROW(parse_stream_specs(std::string(129, 'a')), std::invalid_argument);
}
