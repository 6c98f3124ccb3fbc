#include "kinesd/common/base64.hpp"

#include <gtest/gtest.h>

using namespace kinesd;

TEST(base64, encodes_rfc4648_vectors) {
    EXPECT_EQ(base64::encode(""), "");
    EXPECT_EQ(base64::encode("f"), "Zg==");
    EXPECT_EQ(base64::encode("fo"), "Zm8=");
    EXPECT_EQ(base64::encode("foo"), "Zm9v");
    EXPECT_EQ(base64::encode("foob"), "Zm9vYg==");
    EXPECT_EQ(base64::encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64::encode("foobar"), "Zm9vYmFy");
}

TEST(base64, round_trips_every_byte_value) {
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    for (std::size_t len = 0; len <= all.size(); len += 37) {
        auto part = all.substr(0, len);
        EXPECT_EQ(base64::decode(base64::encode(part)), part);
    }
}

TEST(base64, rejects_malformed_input) {
    EXPECT_FALSE(base64::decode("Zg="));     // length not a multiple of 4
    EXPECT_FALSE(base64::decode("Z!=="));    // character outside the alphabet
    EXPECT_FALSE(base64::decode("Zg==Zg==")); // padding in the middle
    EXPECT_FALSE(base64::decode("===="));
    EXPECT_FALSE(base64::decode("Zm9v\n"));
}
