#include "kinesd/storage/shard_log.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "kinesd/storage/record_frame.hpp"

namespace kinesd::storage {
namespace {

std::span<const std::byte> as_bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

std::string as_string(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Decodes frame i of a batch after stamping it.
record_view decode_stamped(append_batch& batch, std::size_t i, seqno seq) {
    const auto f = batch.frames()[i];
    auto frame = batch.buffer().subspan(f.offset, f.length);
    stamp_frame(frame, seq, 77);
    record_view out;
    std::size_t used = 0;
    EXPECT_EQ(decode_frame(frame, out, used), frame_status::ok);
    EXPECT_EQ(used, f.length);
    return out;
}

TEST(append_batch, frames_are_contiguous_and_decode) {
    append_batch batch;
    batch.add_copy("k1", {}, as_bytes("one"));
    std::array<std::byte, 16> ehk{};
    ehk[15] = std::byte{1};
    batch.add_copy("key-2", ehk, as_bytes("two!"));
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch.frames()[0].offset, 0u);
    EXPECT_EQ(batch.frames()[1].offset, batch.frames()[0].length);
    EXPECT_EQ(batch.byte_size(), batch.frames()[0].length + batch.frames()[1].length);

    auto a = decode_stamped(batch, 0, 5);
    EXPECT_EQ(a.partition_key, "k1");
    EXPECT_EQ(as_string(a.data), "one");
    EXPECT_TRUE(a.explicit_hash_key.empty());
    auto b = decode_stamped(batch, 1, 6);
    EXPECT_EQ(b.partition_key, "key-2");
    EXPECT_EQ(as_string(b.data), "two!");
    EXPECT_EQ(b.explicit_hash_key.size(), 16u);
    EXPECT_EQ(b.explicit_hash_key[15], std::byte{1});
}

TEST(append_batch, commit_shrinks_the_frame_to_the_data_written) {
    append_batch batch;
    auto out = batch.add("pk", {}, 1000);
    ASSERT_EQ(out.size(), 1000u);
    std::memcpy(out.data(), "abc", 3);
    batch.commit_data(3);
    EXPECT_EQ(batch.byte_size(), frame_size(2, 0, 3));
    batch.add_copy("pk2", {}, as_bytes("defg"));
    EXPECT_EQ(as_string(decode_stamped(batch, 0, 1).data), "abc");
    EXPECT_EQ(as_string(decode_stamped(batch, 1, 2).data), "defg");
}

TEST(append_batch, an_open_frame_is_committed_with_its_capacity) {
    append_batch batch;
    auto out = batch.add("pk", {}, 4);
    std::memcpy(out.data(), "wxyz", 4);
    batch.add_copy("pk", {}, as_bytes("next"));  // no commit_data() before it
    EXPECT_EQ(as_string(decode_stamped(batch, 0, 1).data), "wxyz");
    out = batch.add("pk", {}, 2);
    std::memcpy(out.data(), "zz", 2);
    batch.finish();
    EXPECT_EQ(as_string(decode_stamped(batch, 2, 3).data), "zz");
}

TEST(append_batch, clear_and_reuse) {
    append_batch batch;
    batch.reserve(4, 4096);
    batch.add_copy("a", {}, as_bytes("1"));
    batch.clear();
    EXPECT_TRUE(batch.empty());
    EXPECT_EQ(batch.byte_size(), 0u);
    batch.add_copy("b", {}, as_bytes("2"));
    EXPECT_EQ(batch.size(), 1u);
    EXPECT_EQ(decode_stamped(batch, 0, 1).partition_key, "b");
}

TEST(append_batch, rejects_what_the_format_cannot_hold) {
    append_batch batch;
    const std::string long_key(70000, 'k');
    EXPECT_THROW(batch.add(long_key, {}, 1), std::length_error);
    std::array<std::byte, 8> short_ehk{};
    EXPECT_THROW(batch.add("k", short_ehk, 1), std::invalid_argument);
    EXPECT_THROW(batch.add("k", {}, std::size_t{2} << 30), std::length_error);
    EXPECT_TRUE(batch.empty());
}

TEST(storage_errc, category_and_messages) {
    std::error_code ec = storage_errc::no_space;
    EXPECT_EQ(ec.category(), storage_category());
    EXPECT_STREQ(storage_category().name(), "kinesd.storage");
    EXPECT_EQ(ec, make_error_code(storage_errc::no_space));
    EXPECT_NE(ec, make_error_code(storage_errc::io_error));
    for (auto e : {storage_errc::io_error, storage_errc::no_space, storage_errc::corrupt_segment,
                   storage_errc::closed})
        EXPECT_FALSE(make_error_code(e).message().empty());
    EXPECT_TRUE(static_cast<bool>(make_error_code(storage_errc::closed)));
}

}  // namespace
}  // namespace kinesd::storage
