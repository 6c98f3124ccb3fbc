#include "kinesd/storage/record_frame.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "kinesd/storage/crc32c.hpp"
#include "kinesd/storage/endian.hpp"

namespace kinesd::storage {
namespace {

std::span<const std::byte> as_bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

std::string as_string(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

const std::array<std::byte, 16> hash_key = [] {
    std::array<std::byte, 16> k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::byte>(0xA0 + i);
    return k;
}();

record_view sample(bool with_hash_key) {
    record_view r;
    r.seq = (seqno{0x0123456789ABCDEFull} << 64) | 0xFEDCBA9876543210ull;
    r.arrival_ms = 1'700'000'123'456;
    r.partition_key = "user-42";
    if (with_hash_key) r.explicit_hash_key = hash_key;
    r.data = as_bytes("the quick brown fox");
    return r;
}

void expect_same(const record_view& a, const record_view& b) {
    EXPECT_TRUE(a.seq == b.seq);
    EXPECT_EQ(a.arrival_ms, b.arrival_ms);
    EXPECT_EQ(a.partition_key, b.partition_key);
    EXPECT_EQ(as_string(a.explicit_hash_key), as_string(b.explicit_hash_key));
    EXPECT_EQ(as_string(a.data), as_string(b.data));
}

TEST(record_frame, round_trip) {
    for (bool ehk : {false, true}) {
        std::vector<std::byte> buf;
        const record_view in = sample(ehk);
        encode_frame(buf, in);
        EXPECT_EQ(buf.size(), frame_size(in.partition_key.size(), ehk ? 16 : 0, in.data.size()));
        record_view out;
        std::size_t used = 0;
        ASSERT_EQ(decode_frame(buf, out, used), frame_status::ok);
        EXPECT_EQ(used, buf.size());
        expect_same(in, out);
    }
}

TEST(record_frame, layout_is_little_endian_as_documented) {
    std::vector<std::byte> buf;
    const record_view in = sample(true);
    encode_frame(buf, in);
    const std::byte* p = buf.data();
    EXPECT_EQ(le::load<std::uint32_t>(p), buf.size());
    EXPECT_EQ(le::load<std::uint32_t>(p + 4), crc32c(std::span(buf).subspan(8)));
    EXPECT_EQ(le::load<std::uint64_t>(p + 8), 0xFEDCBA9876543210ull);  // low half first
    EXPECT_EQ(le::load<std::uint64_t>(p + 16), 0x0123456789ABCDEFull);
    EXPECT_EQ(le::load<std::int64_t>(p + 24), in.arrival_ms);
    EXPECT_EQ(le::load<std::uint16_t>(p + 32), 7);
    EXPECT_EQ(std::memcmp(p + 34, "user-42", 7), 0);
    EXPECT_EQ(static_cast<int>(p[41]), 16);
    EXPECT_EQ(std::memcmp(p + 42, hash_key.data(), 16), 0);
    EXPECT_EQ(le::load<std::uint32_t>(p + 58), in.data.size());
    EXPECT_EQ(std::memcmp(p + 62, in.data.data(), in.data.size()), 0);
}

TEST(record_frame, empty_key_and_data) {
    std::vector<std::byte> buf;
    record_view in;
    in.seq = 1;
    encode_frame(buf, in);
    EXPECT_EQ(buf.size(), frame_layout::overhead);
    record_view out;
    std::size_t used = 0;
    ASSERT_EQ(decode_frame(buf, out, used), frame_status::ok);
    expect_same(in, out);
}

TEST(record_frame, back_to_back_frames_then_end_of_data) {
    std::vector<std::byte> buf;
    record_view a = sample(false), b = sample(true);
    b.seq = a.seq + 1;
    b.data = as_bytes("second");
    encode_frame(buf, a);
    encode_frame(buf, b);
    std::span<const std::byte> in = buf;
    record_view out;
    std::size_t used = 0;
    ASSERT_EQ(decode_frame(in, out, used), frame_status::ok);
    expect_same(a, out);
    in = in.subspan(used);
    ASSERT_EQ(decode_frame(in, out, used), frame_status::ok);
    expect_same(b, out);
    in = in.subspan(used);
    EXPECT_EQ(decode_frame(in, out, used), frame_status::end_of_data);
}

TEST(record_frame, every_truncation_is_a_torn_tail) {
    std::vector<std::byte> buf;
    encode_frame(buf, sample(true));
    record_view out;
    std::size_t used = 0;
    EXPECT_EQ(decode_frame(std::span(buf).first(0), out, used), frame_status::end_of_data);
    for (std::size_t n = 1; n < buf.size(); ++n)
        EXPECT_EQ(decode_frame(std::span(buf).first(n), out, used), frame_status::torn_tail) << n;
}

TEST(record_frame, zero_filled_tail) {
    std::vector<std::byte> buf;
    encode_frame(buf, sample(false));
    const std::size_t first = buf.size();
    buf.resize(first + 4096);  // what a crash can leave: the file extended, the data not there
    record_view out;
    std::size_t used = 0;
    ASSERT_EQ(decode_frame(buf, out, used), frame_status::ok);
    EXPECT_EQ(decode_frame(std::span(buf).subspan(first), out, used), frame_status::zero_filled);
    std::vector<std::byte> zeros(8);
    EXPECT_EQ(decode_frame(zeros, out, used), frame_status::zero_filled);
}

// Any single corrupted byte is detected: decode never says ok with content that differs.
TEST(record_frame, flipping_any_byte_is_detected) {
    for (bool ehk : {false, true}) {
        std::vector<std::byte> good;
        encode_frame(good, sample(ehk));
        // A second frame after the first, so that a longer length still lands inside the input.
        std::vector<std::byte> next;
        record_view r2 = sample(ehk);
        r2.seq += 1;
        encode_frame(next, r2);
        for (std::size_t i = 0; i < good.size(); ++i)
            for (int mask : {0x01, 0x80, 0xFF, 0x10}) {
                std::vector<std::byte> bad = good;
                bad[i] ^= static_cast<std::byte>(mask);
                bad.insert(bad.end(), next.begin(), next.end());
                record_view out;
                std::size_t used = 0;
                const frame_status st = decode_frame(bad, out, used);
                EXPECT_NE(st, frame_status::ok) << "byte " << i << " mask " << mask;
                // Without the following frame as well.
                EXPECT_NE(decode_frame(std::span(bad).first(good.size()), out, used),
                          frame_status::ok)
                    << "byte " << i << " mask " << mask;
            }
    }
}

// Without the CRC check a flipped data byte decodes (the sizing pass of GetRecords); the
// lengths are still checked.
TEST(record_frame, decoding_without_the_crc_check_only_checks_lengths) {
    std::vector<std::byte> buf;
    encode_frame(buf, sample(false));
    buf[buf.size() - 1] ^= std::byte{0x40};  // the last data byte
    record_view out;
    std::size_t used = 0;
    EXPECT_EQ(decode_frame(buf, out, used), frame_status::checksum_mismatch);
    ASSERT_EQ(decode_frame(buf, out, used, false), frame_status::ok);
    EXPECT_EQ(used, buf.size());
    EXPECT_EQ(out.data.size(), sample(false).data.size());
    EXPECT_NE(as_string(out.data), as_string(sample(false).data));
    std::vector<std::byte> short_frame(buf.begin(), buf.end() - 1);
    EXPECT_EQ(decode_frame(short_frame, out, used, false), frame_status::torn_tail);
}

TEST(record_frame, checksum_mismatch_and_malformed) {
    std::vector<std::byte> buf;
    encode_frame(buf, sample(false));
    record_view out;
    std::size_t used = 0;

    auto bad = buf;
    bad.back() ^= std::byte{1};
    EXPECT_EQ(decode_frame(bad, out, used), frame_status::checksum_mismatch);

    bad = buf;  // shorter than a minimal frame
    le::store<std::uint32_t>(bad.data(), 10);
    EXPECT_EQ(decode_frame(bad, out, used), frame_status::malformed);

    bad = buf;  // absurdly long
    le::store<std::uint32_t>(bad.data(), 0xFFFFFFF0u);
    EXPECT_EQ(decode_frame(bad, out, used), frame_status::malformed);

    bad = buf;  // inner lengths that do not add up, under a valid CRC
    le::store<std::uint16_t>(bad.data() + frame_layout::key_len_offset, 6);
    le::store<std::uint32_t>(bad.data() + 4, crc32c(std::span(bad).subspan(8)));
    EXPECT_EQ(decode_frame(bad, out, used), frame_status::malformed);

    bad = buf;  // a hash key length other than 0 or 16, under a valid CRC
    bad[frame_layout::key_offset + 7] = std::byte{3};
    le::store<std::uint32_t>(bad.data() + 4, crc32c(std::span(bad).subspan(8)));
    EXPECT_EQ(decode_frame(bad, out, used), frame_status::malformed);
}

TEST(record_frame, header_then_shorter_data) {
    const std::size_t cap = 100;
    std::vector<std::byte> buf(frame_size(3, 0, cap));
    std::byte* data = write_frame_header(buf.data(), "abc", {}, cap);
    std::memcpy(data, "hello", 5);
    set_frame_data_length(buf.data(), 3, 0, 5);
    buf.resize(frame_size(3, 0, 5));
    stamp_frame(buf, 9, 1234);
    record_view out;
    std::size_t used = 0;
    ASSERT_EQ(decode_frame(buf, out, used), frame_status::ok);
    EXPECT_EQ(out.partition_key, "abc");
    EXPECT_EQ(as_string(out.data), "hello");
    EXPECT_TRUE(out.seq == 9);
    EXPECT_EQ(out.arrival_ms, 1234);
}

TEST(record_frame, status_names) {
    EXPECT_STREQ(to_string(frame_status::torn_tail), "torn tail");
    EXPECT_STREQ(to_string(frame_status::checksum_mismatch), "checksum mismatch");
}

}  // namespace
}  // namespace kinesd::storage
