#include "kinesd/shard/hash_key.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace kinesd {

namespace {

// Fetched once for the process (thread-safe static initialization) and never freed: it lives
// as long as OpenSSL's default library context.
const EVP_MD* md5() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "MD5", nullptr);
    if (md == nullptr) {
        // Only when the default provider is unavailable (e.g. a FIPS-only configuration).
        throw std::runtime_error("OpenSSL: MD5 digest is unavailable");
    }
    return md;
}

struct md_ctx_deleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// One context per thread, created on the thread's first call and freed at thread exit.
// Note: OpenSSL 3.0 frees and re-creates the provider's small digest state on every
// EVP_DigestInit_ex2 (measured: one allocation per call, whatever the reuse strategy: init,
// copy_ex or EVP_Digest, which makes two); reusing the context avoids the rest.
EVP_MD_CTX* thread_md_ctx() {
    thread_local std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx{EVP_MD_CTX_new()};
    if (!ctx) throw std::runtime_error("OpenSSL: EVP_MD_CTX_new failed");
    return ctx.get();
}

uint128 read_be(const unsigned char* in) {
    uint128 v = 0;
    for (int i = 0; i < 16; ++i) v = (v << 8) | in[i];
    return v;
}

}  // namespace

std::optional<hash_key> hash_key::parse(std::string_view decimal) {
    // The API's pattern is 0|([1-9]\d{0,38}): a leading zero is refused like any other
    // non-canonical text (parse_decimal_u128 itself would accept it).
    if (decimal.size() > 1 && decimal.front() == '0') return std::nullopt;
    auto v = parse_decimal_u128(decimal);
    if (!v) return std::nullopt;
    return hash_key{*v};
}

hash_key hash_key::of_partition_key(std::string_view partition_key) {
    const EVP_MD* md = md5();
    EVP_MD_CTX* ctx = thread_md_ctx();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1 ||
        EVP_DigestUpdate(ctx, partition_key.data(), partition_key.size()) != 1 ||
        EVP_DigestFinal_ex(ctx, digest, &len) != 1 || len != 16) {
        throw std::runtime_error("OpenSSL: MD5 digest failed");
    }
    return hash_key{read_be(digest)};
}

void hash_key::to_bytes(std::byte out[16]) const {
    uint128 v = value;
    for (int i = 15; i >= 0; --i) {
        out[i] = static_cast<std::byte>(v & 0xff);
        v >>= 8;
    }
}

hash_key hash_key::from_bytes(const std::byte in[16]) {
    return hash_key{read_be(reinterpret_cast<const unsigned char*>(in))};
}

std::vector<hash_range> split_evenly(std::uint32_t n) {
    if (n == 0) throw std::invalid_argument("split_evenly: n must be at least 1");
    if (n == 1) return {hash_range{0, uint128_max}};  // step would be 2^128: does not fit
    // step = floor(2^128 / n) = floor((max + 1) / n), computed without overflowing.
    uint128 step = uint128_max / n;
    if (uint128_max % n == n - 1) ++step;
    std::vector<hash_range> ranges;
    ranges.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        uint128 start = step * i;
        uint128 end = i + 1 == n ? uint128_max : start + step - 1;
        ranges.push_back(hash_range{start, end});
    }
    return ranges;
}

}  // namespace kinesd
