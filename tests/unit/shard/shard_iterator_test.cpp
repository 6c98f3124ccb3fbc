#include "kinesd/shard/shard_iterator.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace kinesd {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::array<std::uint8_t, 32> key_of(std::uint8_t seed) {
    std::array<std::uint8_t, 32> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(seed + i);
    return key;
}

iterator_position sample_position() {
    iterator_position pos;
    pos.stream_name = "orders-stream_1.v2";
    pos.stream_uid = 0x0123'4567'89ab'cdefull;
    pos.shard_index = 3;
    pos.after_seq = (uint128{0x2000'0000'1234'5678ull} << 64) | 0x9abc'def0'0000'0001ull;
    pos.min_arrival_ms = 1'700'000'000'123;
    pos.issued_ms = 1'700'000'100'000;
    return pos;
}

// An independent unpadded base64url codec and HMAC, so tests can build tokens from the layout
// documented in shard_iterator.cpp.
std::string b64url_encode(const std::vector<std::uint8_t>& in) {
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (auto b : in) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += alphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0) out += alphabet[(acc << (6 - bits)) & 63];
    return out;
}

std::vector<std::uint8_t> b64url_decode(std::string_view text) {
    std::vector<std::uint8_t> out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        acc = (acc << 6) | static_cast<std::uint32_t>(alphabet.find(c));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>(acc >> bits));
        }
    }
    return out;
}

// Replaces the trailing 16-byte MAC with HMAC-SHA256(key, rest)[0..16).
void re_mac(std::vector<std::uint8_t>& token, const std::array<std::uint8_t, 32>& key) {
    ASSERT_GE(token.size(), 16u);
    const std::size_t body = token.size() - 16;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    ASSERT_NE(HMAC(EVP_sha256(), key.data(), 32, token.data(), body, mac, &len), nullptr);
    std::copy(mac, mac + 16, token.begin() + static_cast<std::ptrdiff_t>(body));
}

TEST(shard_iterator, round_trips) {
    iterator_codec codec{key_of(1)};
    auto pos = sample_position();
    auto text = codec.encode(pos);
    auto back = codec.decode(text);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, pos);
}

TEST(shard_iterator, round_trips_extreme_values) {
    iterator_codec codec{key_of(1)};
    iterator_position pos;
    pos.stream_name = "a";
    pos.stream_uid = ~std::uint64_t{0};
    pos.shard_index = 0xffff'ffff;
    pos.after_seq = uint128_max;
    pos.min_arrival_ms = -1;
    pos.issued_ms = std::numeric_limits<epoch_ms>::min();
    EXPECT_EQ(codec.decode(codec.encode(pos)), pos);

    iterator_position zero;  // empty name, all zero
    EXPECT_EQ(codec.decode(codec.encode(zero)), zero);
}

TEST(shard_iterator, decode_does_not_check_expiry) {
    iterator_codec codec{key_of(1)};
    auto pos = sample_position();
    pos.issued_ms = 0;  // long expired: the caller's check, not decode's
    EXPECT_EQ(codec.decode(codec.encode(pos)), pos);
}

TEST(shard_iterator, text_is_url_safe) {
    iterator_codec codec{key_of(1)};
    auto text = codec.encode(sample_position());
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(text.find_first_not_of(alphabet), std::string::npos) << text;
}

TEST(shard_iterator, longest_stream_name_fits_the_api_limit) {
    iterator_codec codec{key_of(1)};
    auto pos = sample_position();
    pos.stream_name = std::string(128, 'n');  // the API's longest StreamName
    auto text = codec.encode(pos);
    EXPECT_LE(text.size(), 512u);
    EXPECT_EQ(codec.decode(text), pos);

    pos.stream_name = std::string(321, 'n');  // the longest the format takes
    text = codec.encode(pos);
    EXPECT_EQ(text.size(), 512u);
    EXPECT_EQ(codec.decode(text), pos);

    pos.stream_name = std::string(322, 'n');
    EXPECT_THROW(codec.encode(pos), std::length_error);
}

TEST(shard_iterator, different_positions_give_different_text) {
    iterator_codec codec{key_of(1)};
    auto a = sample_position();
    auto b = a;
    b.after_seq += 1;
    EXPECT_NE(codec.encode(a), codec.encode(b));
}

TEST(shard_iterator, any_changed_character_is_rejected) {
    iterator_codec codec{key_of(1)};
    // Three name lengths so the token ends on each base64 boundary: no spare bits in the last
    // character, 4 spare bits, 2 spare bits. Changing only spare bits must be refused too.
    for (std::string name : {"orders-stream_1.v2", "orders-stream_1.v23", "orders-stream_1.v234"}) {
        SCOPED_TRACE(name);
        auto pos = sample_position();
        pos.stream_name = name;
        const auto text = codec.encode(pos);
        ASSERT_TRUE(codec.decode(text));
        for (std::size_t i = 0; i < text.size(); ++i) {
            for (char c : alphabet) {
                if (c == text[i]) continue;
                auto altered = text;
                altered[i] = c;
                EXPECT_EQ(codec.decode(altered), std::nullopt) << "position " << i << " -> " << c;
            }
        }
    }
}

TEST(shard_iterator, another_key_is_rejected) {
    iterator_codec mine{key_of(1)};
    iterator_codec theirs{key_of(2)};
    auto text = mine.encode(sample_position());
    EXPECT_EQ(theirs.decode(text), std::nullopt);
    EXPECT_TRUE(mine.decode(text));
}

TEST(shard_iterator, truncated_or_extended_text_is_rejected) {
    iterator_codec codec{key_of(1)};
    const auto text = codec.encode(sample_position());
    for (std::size_t n = 0; n < text.size(); ++n) {
        EXPECT_EQ(codec.decode(text.substr(0, n)), std::nullopt) << n;
        EXPECT_EQ(codec.decode(text.substr(text.size() - n)), std::nullopt) << n;
    }
    for (char c : alphabet) EXPECT_EQ(codec.decode(text + c), std::nullopt) << c;
    EXPECT_EQ(codec.decode(text + text), std::nullopt);
}

TEST(shard_iterator, non_base64url_text_is_rejected) {
    iterator_codec codec{key_of(1)};
    const auto text = codec.encode(sample_position());
    EXPECT_EQ(codec.decode(""), std::nullopt);
    EXPECT_EQ(codec.decode(text + "="), std::nullopt);
    EXPECT_EQ(codec.decode(text + "=="), std::nullopt);
    EXPECT_EQ(codec.decode(std::string(600, 'A')), std::nullopt);
    for (char c : {'+', '/', '=', ' ', '.', '\0', '\xff'}) {
        auto altered = text;
        altered[5] = c;
        EXPECT_EQ(codec.decode(altered), std::nullopt) << int(c);
    }
}

// Tokens built here from the documented layout: the format is what the comment says, and the
// checks other than the MAC hold even for a correctly signed token.
TEST(shard_iterator, follows_the_documented_layout) {
    const auto key = key_of(1);
    iterator_codec codec{key};
    auto pos = sample_position();
    auto token = b64url_decode(codec.encode(pos));
    ASSERT_EQ(token.size(), 47 + pos.stream_name.size() + 16);
    EXPECT_EQ(token[0], 1);                        // version
    EXPECT_EQ(token[1], 0xef);                     // stream_uid, little-endian
    EXPECT_EQ(token[9], 3);                        // shard_index
    EXPECT_EQ(token[13], 0x01);                    // after_seq, low byte first
    EXPECT_EQ(token[28], 0x20);                    // after_seq, high byte last
    EXPECT_EQ(token[45], pos.stream_name.size());  // name_len
    EXPECT_EQ(std::string(token.begin() + 47, token.end() - 16), pos.stream_name);

    auto signed_copy = token;
    re_mac(signed_copy, key);
    EXPECT_EQ(signed_copy, token);  // HMAC-SHA256 truncated to 16 bytes

    auto renamed = token;  // change a field and re-sign: accepted, so only the MAC protects it
    renamed[9] = 4;
    re_mac(renamed, key);
    auto decoded = codec.decode(b64url_encode(renamed));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->shard_index, 4u);
}

TEST(shard_iterator, wrong_version_is_rejected_even_when_signed) {
    const auto key = key_of(1);
    iterator_codec codec{key};
    auto token = b64url_decode(codec.encode(sample_position()));
    for (std::uint8_t version : {0, 2, 255}) {
        auto t = token;
        t[0] = version;
        re_mac(t, key);
        EXPECT_EQ(codec.decode(b64url_encode(t)), std::nullopt) << int(version);
    }
}

TEST(shard_iterator, inconsistent_name_length_is_rejected_even_when_signed) {
    const auto key = key_of(1);
    iterator_codec codec{key};
    auto token = b64url_decode(codec.encode(sample_position()));
    for (int delta : {-1, 1, 200}) {
        auto t = token;
        t[45] = static_cast<std::uint8_t>(t[45] + delta);
        re_mac(t, key);
        EXPECT_EQ(codec.decode(b64url_encode(t)), std::nullopt) << delta;
    }
    auto t = token;
    t[46] = 1;  // name_len high byte: 256 more than the bytes present
    re_mac(t, key);
    EXPECT_EQ(codec.decode(b64url_encode(t)), std::nullopt);
}

TEST(shard_iterator, codec_is_usable_from_many_threads) {
    iterator_codec codec{key_of(9)};
    std::vector<std::thread> threads;
    std::vector<int> failures(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            auto pos = sample_position();
            pos.shard_index = static_cast<std::uint32_t>(t);
            for (int i = 0; i < 500; ++i) {
                pos.after_seq = static_cast<uint128>(i);
                if (codec.decode(codec.encode(pos)) != pos) ++failures[t];
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int f : failures) EXPECT_EQ(f, 0);
}

TEST(random_iterator_key, keys_differ) {
    auto a = random_iterator_key();
    auto b = random_iterator_key();
    EXPECT_NE(a, b);
    EXPECT_NE(a, (std::array<std::uint8_t, 32>{}));
}

}  // namespace
}  // namespace kinesd
