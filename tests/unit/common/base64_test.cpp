#include "kinesd/common/base64.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

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
    EXPECT_FALSE(base64::decode("Zh=="));     // non-canonical: trailing bits set
    EXPECT_FALSE(base64::decode("Zm9="));
    EXPECT_TRUE(base64::decode("Zg=="));
}

namespace {
// Reference: the RFC 4648 definition, 3 bytes at a time.
std::string reference_encode(const std::string& raw) {
        static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string out;
        for (std::size_t i = 0; i < raw.size(); i += 3) {
            unsigned v = static_cast<unsigned char>(raw[i]) << 16;
            if (i + 1 < raw.size()) v |= static_cast<unsigned char>(raw[i + 1]) << 8;
            if (i + 2 < raw.size()) v |= static_cast<unsigned char>(raw[i + 2]);
            out += a[v >> 18];
            out += a[(v >> 12) & 63];
            out += i + 1 < raw.size() ? a[(v >> 6) & 63] : '=';
            out += i + 2 < raw.size() ? a[v & 63] : '=';
        }
        return out;
}
}  // namespace

TEST(base64, wide_encoder_matches_the_simple_definition_at_every_length) {
    auto reference = reference_encode;
    std::string raw;
    for (int len = 0; len < 100; ++len) {
        EXPECT_EQ(base64::encode(raw), reference(raw)) << len;
        raw.push_back(static_cast<char>(len * 37 + 11));
    }
}

// Lengths from 32 up take the AVX2 loop (24 bytes a step) where the CPU has it, then the scalar
// loops for the tail: every length up to several steps, bytes that reach every 6-bit value
// (including the '+' and '/' ranges), appended after existing text as GetRecords does.
TEST(base64, vector_encoder_matches_the_simple_definition_at_every_length) {
    std::uint32_t x = 12345;
    std::string raw;
    for (int len = 0; len < 300; ++len) {
        std::string out = "prefix";
        base64::encode_append(std::as_bytes(std::span(raw.data(), raw.size())), out);
        ASSERT_EQ(out, "prefix" + reference_encode(raw)) << len;
        x = x * 1103515245u + 12345u;
        raw.push_back(static_cast<char>(x >> 16));
    }
    std::string high(96, '\xff');  // '/' everywhere
    EXPECT_EQ(base64::encode(high), std::string(128, '/'));
    std::string ones;  // 0xFB 0xEF 0xBE repeated: every value 62, '+'
    for (int i = 0; i < 32; ++i) ones += "\xfb\xef\xbe";
    EXPECT_EQ(base64::encode(ones), std::string(128, '+'));
}

namespace {
// Reference: RFC 4648 decoding of unpadded-or-padded text, 6 bits at a time; nullopt for any
// character outside the alphabet before the padding (strictness of padding is tested above).
std::optional<std::string> reference_decode(const std::string& text) {
    static const std::string a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    std::size_t end = text.size();
    while (end > 0 && text[end - 1] == '=') --end;
    for (std::size_t i = 0; i < end; ++i) {
        const auto v = a.find(text[i]);
        if (v == std::string::npos) return std::nullopt;
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    return out;
}
}  // namespace

// From 48 characters up, decoding takes the AVX2 loop (32 characters a step) where the CPU has
// it: round trips at every length up to several steps, and every byte value at every position
// of the vector part must be accepted or refused exactly as the definition says.
TEST(base64, vector_decoder_matches_the_simple_definition) {
    std::uint32_t x = 777;
    std::string raw;
    for (int len = 0; len < 400; ++len) {
        const auto text = base64::encode(raw);
        ASSERT_EQ(base64::decode(text), raw) << len;
        ASSERT_EQ(reference_decode(text), raw) << len;
        x = x * 1103515245u + 12345u;
        raw.push_back(static_cast<char>(x >> 16));
    }
    const std::string good = base64::encode(raw.substr(0, 150));  // 200 characters
    for (std::size_t pos = 0; pos < 160; pos += 3) {
        for (int c = 0; c < 256; ++c) {
            std::string text = good;
            text[pos] = static_cast<char>(c);
            const auto expected = reference_decode(text);
            ASSERT_EQ(base64::decode(text), expected) << pos << " " << c;
        }
    }
}
