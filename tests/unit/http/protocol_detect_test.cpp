#include "kinesd/http/protocol_detect.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace kinesd::http;

TEST(protocol_detect, the_http2_preface_is_http2_once_complete) {
    EXPECT_EQ(detect_protocol(""), wire_protocol::need_more);
    for (std::size_t n = 1; n < http2_preface.size(); ++n)
        EXPECT_EQ(detect_protocol(http2_preface.substr(0, n)), wire_protocol::need_more) << n;
    EXPECT_EQ(detect_protocol(http2_preface), wire_protocol::http2);
    // A SETTINGS frame usually follows in the same read.
    EXPECT_EQ(detect_protocol(std::string(http2_preface) + std::string("\0\0\0\4\0\0\0\0\0", 9)),
              wire_protocol::http2);
}

TEST(protocol_detect, http1_requests_are_recognised_from_the_first_differing_byte) {
    EXPECT_EQ(detect_protocol("POST / HTTP/1.1\r\n"), wire_protocol::http1);
    EXPECT_EQ(detect_protocol("G"), wire_protocol::http1);
    EXPECT_EQ(detect_protocol("PRI * HTTP/1.1"), wire_protocol::http1);  // diverges at "1.1"
    EXPECT_EQ(detect_protocol("PUT"), wire_protocol::http1);
}

TEST(protocol_detect, a_tls_handshake_record_is_tls) {
    EXPECT_EQ(detect_protocol(std::string("\x16\x03\x01\x02\x00", 5)), wire_protocol::tls);
    EXPECT_EQ(detect_protocol(std::string("\x16", 1)), wire_protocol::tls);
}

TEST(protocol_detect, alpn_prefers_h2_then_http11) {
    using namespace std::string_literals;
    EXPECT_EQ(select_alpn("\x08http/1.1\x02h2"s), "h2");
    EXPECT_EQ(select_alpn("\x02h2\x08http/1.1"s), "h2");
    EXPECT_EQ(select_alpn("\x08http/1.1"s), "http/1.1");
    EXPECT_EQ(select_alpn("\x06spdy/3\x08http/1.1"s), "http/1.1");
    EXPECT_EQ(select_alpn("\x06spdy/3"s), "");
    EXPECT_EQ(select_alpn(""), "");
    // Malformed lists (a length past the end, a zero length) select nothing past the fault.
    EXPECT_EQ(select_alpn("\x09h2"s), "");
    EXPECT_EQ(select_alpn("\x00\x02h2"s), "");
}
