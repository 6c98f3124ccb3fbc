#include "kinesd/http/tls_cert.hpp"
#include "support/api_test.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

using namespace kinesd::http;
namespace fs = std::filesystem;

namespace {

constexpr std::time_t t0 = 1'800'000'000;  // 2027-01-15
constexpr std::time_t day = 86400;

using kinesd::test_support::temp_dir;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;

x509_ptr load_cert(const fs::path& p) {
    FILE* f = std::fopen(p.c_str(), "r");
    X509* c = f ? PEM_read_X509(f, nullptr, nullptr, nullptr) : nullptr;
    if (f) std::fclose(f);
    return {c, &X509_free};
}

// Verifies the server certificate against the CA file at `when`, for host `host` (or IP).
int verify(const tls_files& f, std::time_t when, const char* host, const char* ip) {
    auto leaf = load_cert(f.cert), ca = load_cert(f.ca);
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca.get());
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf.get(), nullptr);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, when);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    if (host) X509_VERIFY_PARAM_set1_host(param, host, 0);
    if (ip) X509_VERIFY_PARAM_set1_ip_asc(param, ip);
    int ok = X509_verify_cert(ctx);
    int err = X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok == 1 ? X509_V_OK : (err ? err : -1);
}

}  // namespace

TEST(tls_cert, made_at_first_start_and_valid_for_localhost_and_loopback) {
    temp_dir dir;
    auto f = ensure_self_signed(dir.path() / "tls", t0);
    EXPECT_TRUE(f.generated);
    EXPECT_TRUE(fs::exists(f.cert) && fs::exists(f.key) && fs::exists(f.ca));
    EXPECT_EQ(verify(f, t0, "localhost", nullptr), X509_V_OK);
    EXPECT_EQ(verify(f, t0, nullptr, "127.0.0.1"), X509_V_OK);
    EXPECT_EQ(verify(f, t0, nullptr, "::1"), X509_V_OK);
    EXPECT_NE(verify(f, t0, "example.com", nullptr), X509_V_OK);
    EXPECT_NE(verify(f, t0 + 900 * day, "localhost", nullptr), X509_V_OK);  // 825 days
    struct stat st {};
    ASSERT_EQ(::stat(f.key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // The CA's private key is not kept: only the server key is in the directory.
    EXPECT_EQ(slurp(f.ca).find("PRIVATE KEY"), std::string::npos);
    EXPECT_EQ(slurp(f.cert).find("PRIVATE KEY"), std::string::npos);
}

// A temporary file a crash left behind, readable by all, does not lend the key its permissions.
TEST(tls_cert, the_key_is_private_even_over_a_leftover_temporary_file) {
    temp_dir dir;
    const auto tls = dir.path() / "tls";
    fs::create_directories(tls);
    std::ofstream(tls / "key.pem.tmp") << "stale";
    fs::permissions(tls / "key.pem.tmp", fs::perms(0666));
    auto f = ensure_self_signed(tls, t0);
    ASSERT_EQ(f.key, tls / "key.pem");
    struct stat st {};
    ASSERT_EQ(::stat(f.key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(tls_cert, reused_while_valid_and_made_anew_when_expiring_or_damaged) {
    temp_dir dir;
    auto first = ensure_self_signed(dir.path(), t0);
    const auto cert = slurp(first.cert);
    auto again = ensure_self_signed(dir.path(), t0 + 30 * day);
    EXPECT_FALSE(again.generated);
    EXPECT_EQ(slurp(again.cert), cert);

    auto renewed = ensure_self_signed(dir.path(), t0 + 825 * day);  // less than a day left
    EXPECT_TRUE(renewed.generated);
    EXPECT_NE(slurp(renewed.cert), cert);
    EXPECT_EQ(verify(renewed, t0 + 825 * day, "localhost", nullptr), X509_V_OK);

    std::ofstream(renewed.key, std::ios::trunc) << "garbage";
    auto repaired = ensure_self_signed(dir.path(), t0 + 826 * day);
    EXPECT_TRUE(repaired.generated);
    EXPECT_EQ(verify(repaired, t0 + 826 * day, "localhost", nullptr), X509_V_OK);
}
