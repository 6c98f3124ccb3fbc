#include "kinesd/api/event_stream.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kinesd::api::event_stream {
namespace {

std::string hex(std::string_view bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

std::uint32_t u32_at(std::string_view s, std::size_t at) {
    auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + i])); };
    return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

TEST(event_stream, crc32_is_the_ieee_checksum) {
    EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
    EXPECT_EQ(crc32(""), 0u);
    EXPECT_EQ(crc32("56789", crc32("1234")), crc32("123456789"));
}

TEST(event_stream, empty_message_matches_the_reference_encoding) {
    // The empty message of the AWS SDKs' event-stream test vectors (zlib computes the CRCs).
    std::string out;
    append_message(out, {}, "");
    EXPECT_EQ(hex(out), "000000100000000005c248eb7d98c8ff");
}

TEST(event_stream, string_header_and_payload_match_an_independent_encoding) {
    // Computed independently with Python's struct and zlib.crc32.
    std::string out = "prefix";
    const header h[] = {{":event-type", "abc"}};
    append_message(out, h, "{}");
    EXPECT_EQ(out.substr(0, 6), "prefix");  // appends, leaves what was there
    EXPECT_EQ(hex(std::string_view(out).substr(6)),
              "0000002400000012a2da27e50b3a6576656e742d747970650700036162637b7debd55c61");
}

TEST(event_stream, event_and_exception_carry_the_headers_sdks_dispatch_on) {
    std::string out;
    append_event(out, "SubscribeToShardEvent", R"({"Records":[]})");
    const std::size_t first = u32_at(out, 0);
    append_exception(out, "ResourceInUseException", "busy \"shard\"");
    ASSERT_GT(out.size(), first);
    std::string_view ev(out.data(), first), ex(out.data() + first, out.size() - first);
    EXPECT_NE(ev.find(":event-type"), std::string_view::npos);
    EXPECT_NE(ev.find("SubscribeToShardEvent"), std::string_view::npos);
    EXPECT_NE(ev.find("event"), std::string_view::npos);
    EXPECT_TRUE(ev.ends_with([&] {
        std::string crc(4, '\0');
        auto c = crc32(ev.substr(0, ev.size() - 4));
        for (int i = 0; i < 4; ++i) crc[i] = static_cast<char>(c >> (24 - 8 * i));
        return crc;
    }()));
    EXPECT_EQ(u32_at(ex, 0), ex.size());
    EXPECT_NE(ex.find(":exception-type"), std::string_view::npos);
    EXPECT_NE(ex.find(R"({"message":"busy \"shard\""})"), std::string_view::npos);
}

TEST(event_stream, oversized_header_values_are_refused) {
    std::string out;
    std::string big(70000, 'x');
    const header h[] = {{"n", big}};
    EXPECT_THROW(append_message(out, h, ""), std::length_error);
}

}  // namespace
}  // namespace kinesd::api::event_stream
