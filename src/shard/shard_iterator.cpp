#include "kinesd/shard/shard_iterator.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <stdexcept>

#include "kinesd/common/random.hpp"

namespace kinesd {

// Token layout, all integers little-endian:
//   version:u8 (=1) | stream_uid:u64 | shard_index:u32 | after_seq:u128 | min_arrival_ms:i64 |
//   issued_ms:i64 | name_len:u16 | name | mac:16
// mac is HMAC-SHA256(key, everything before it) truncated to 16 bytes. The token is that byte
// string in unpadded base64url (RFC 4648 §5), so it is URL-safe and needs no escaping in JSON.
// Only the canonical encoding is accepted: unused low bits of the last character must be zero,
// so no two texts decode to the same token and every altered character is detected.

namespace {

constexpr std::uint8_t format_version = 1;
constexpr std::size_t header_size = 1 + 8 + 4 + 16 + 8 + 8 + 2;  // up to and with name_len
constexpr std::size_t mac_size = 16;

// The API limits ShardIterator to 512 characters: 384 bytes in base64. That leaves 321 bytes
// of stream name, far above the API's 128-character limit.
constexpr std::size_t max_text_size = 512;
constexpr std::size_t max_token_size = max_text_size / 4 * 3;
constexpr std::size_t max_name_size = max_token_size - header_size - mac_size;

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// -1 for characters outside the alphabet.
struct decode_table {
    std::int8_t v[256];
    constexpr decode_table() : v{} {
        for (auto& x : v) x = -1;
        for (int i = 0; i < 64; ++i)
            v[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    }
};
constexpr decode_table decoding{};

std::string base64url_encode(const std::uint8_t* in, std::size_t n) {
    std::string out;
    out.reserve((n * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        std::uint32_t w =
            (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
        out += alphabet[w >> 18];
        out += alphabet[(w >> 12) & 63];
        out += alphabet[(w >> 6) & 63];
        out += alphabet[w & 63];
    }
    if (n - i == 1) {
        std::uint32_t w = std::uint32_t{in[i]} << 16;
        out += alphabet[w >> 18];
        out += alphabet[(w >> 12) & 63];
    } else if (n - i == 2) {
        std::uint32_t w = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8);
        out += alphabet[w >> 18];
        out += alphabet[(w >> 12) & 63];
        out += alphabet[(w >> 6) & 63];
    }
    return out;
}

// Strict decoding into out (capacity max_token_size); returns the byte count, or -1 for a
// character outside the alphabet, an impossible length (n % 4 == 1) or non-zero unused bits.
long base64url_decode(std::string_view text, std::uint8_t* out) {
    if (text.size() % 4 == 1 || text.size() > max_text_size) return -1;
    std::size_t o = 0;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        int d = decoding.v[static_cast<unsigned char>(c)];
        if (d < 0) return -1;
        acc = (acc << 6) | static_cast<std::uint32_t>(d);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = static_cast<std::uint8_t>(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) return -1;  // leftover bits (2 or 4 of them) must be zero
    return static_cast<long>(o);
}

void put_le(std::uint8_t*& p, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) *p++ = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint64_t get_le(const std::uint8_t*& p, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= std::uint64_t{*p++} << (8 * i);
    return v;
}

void compute_mac(const std::array<std::uint8_t, 32>& key, const std::uint8_t* data, std::size_t n,
                 std::uint8_t out[mac_size]) {
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data, n, full, &len) ==
            nullptr ||
        len < mac_size) {
        throw std::runtime_error("OpenSSL: HMAC-SHA256 failed");
    }
    for (std::size_t i = 0; i < mac_size; ++i) out[i] = full[i];
    OPENSSL_cleanse(full, sizeof full);
}

}  // namespace

// Throws std::length_error when the stream name is longer than 321 bytes (the text would not
// fit in 512 characters); API validation keeps names to 128.
std::string iterator_codec::encode(const iterator_position& pos) const {
    const std::string& name = pos.stream_name;
    if (name.size() > max_name_size) {
        throw std::length_error("iterator_codec: stream name too long for a shard iterator");
    }
    std::uint8_t buf[max_token_size];
    std::uint8_t* p = buf;
    *p++ = format_version;
    put_le(p, pos.stream_uid, 8);
    put_le(p, pos.shard_index, 4);
    put_le(p, static_cast<std::uint64_t>(pos.after_seq), 8);
    put_le(p, static_cast<std::uint64_t>(pos.after_seq >> 64), 8);
    put_le(p, static_cast<std::uint64_t>(pos.min_arrival_ms), 8);
    put_le(p, static_cast<std::uint64_t>(pos.issued_ms), 8);
    put_le(p, name.size(), 2);
    for (char c : name) *p++ = static_cast<std::uint8_t>(c);
    auto body_size = static_cast<std::size_t>(p - buf);
    compute_mac(key_, buf, body_size, p);
    return base64url_encode(buf, body_size + mac_size);
}

std::optional<iterator_position> iterator_codec::decode(std::string_view text) const {
    std::uint8_t buf[max_token_size];
    long n = base64url_decode(text, buf);
    if (n < static_cast<long>(header_size + mac_size)) return std::nullopt;
    auto size = static_cast<std::size_t>(n);
    if (buf[0] != format_version) return std::nullopt;
    std::size_t name_len = buf[header_size - 2] | (std::size_t{buf[header_size - 1]} << 8);
    if (size != header_size + name_len + mac_size) return std::nullopt;

    std::uint8_t expected[mac_size];
    compute_mac(key_, buf, size - mac_size, expected);
    if (CRYPTO_memcmp(expected, buf + size - mac_size, mac_size) != 0) return std::nullopt;

    iterator_position pos;
    const std::uint8_t* p = buf + 1;
    pos.stream_uid = get_le(p, 8);
    pos.shard_index = static_cast<std::uint32_t>(get_le(p, 4));
    uint128 low = get_le(p, 8);
    uint128 high = get_le(p, 8);
    pos.after_seq = (high << 64) | low;
    pos.min_arrival_ms = static_cast<epoch_ms>(get_le(p, 8));
    pos.issued_ms = static_cast<epoch_ms>(get_le(p, 8));
    p += 2;  // name_len, read above
    pos.stream_name.assign(reinterpret_cast<const char*>(p), name_len);
    return pos;
}

std::array<std::uint8_t, 32> random_iterator_key() {
    std::array<std::uint8_t, 32> key{};
    fill_random(key.data(), key.size());
    return key;
}

}  // namespace kinesd
