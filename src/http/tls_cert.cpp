#include "kinesd/http/tls_cert.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "kinesd/common/atomic_file.hpp"

namespace kinesd::http {
namespace fs = std::filesystem;
namespace {

struct pkey_free { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct pkey_ctx_free { void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); } };
struct x509_free { void operator()(X509* p) const { X509_free(p); } };
struct bio_free { void operator()(BIO* p) const { BIO_free(p); } };
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;

constexpr long hour = 3600;
constexpr long day = 24 * hour;

[[noreturn]] void fail(const std::string& what) { throw tls_error("TLS certificate: " + what); }

pkey_ptr new_key() {
    // Not EVP_EC_gen: it expands to the variadic EVP_PKEY_Q_keygen, which kinesd's run-time
    // OpenSSL binding (src/common/openssl_runtime.cpp) cannot forward.
    std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* generated = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1 ||
        EVP_PKEY_generate(ctx.get(), &generated) != 1)
        fail("cannot generate a P-256 key");
    return pkey_ptr(generated);
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext || !X509_add_ext(cert, ext, -1)) {
        X509_EXTENSION_free(ext);
        fail(fmt::format("cannot add extension {}", OBJ_nid2sn(nid)));
    }
    X509_EXTENSION_free(ext);
}

// A v3 certificate for `key` named `cn`, signed by `issuer_key` (self-signed when issuer is null).
x509_ptr make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key,
                   std::time_t now, long valid_seconds, bool is_ca) {
    x509_ptr cert(X509_new());
    if (!cert) fail("out of memory");
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;  // positive
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -hour, &now);
    X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, valid_seconds, &now);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("kinesd"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509* signer = issuer ? issuer : cert.get();
    X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
    add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
    add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
    if (is_ca) {
        add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
        add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
        add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth");
        add_ext(cert.get(), signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
    }
    if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256())) fail("cannot sign");
    return cert;
}

std::string to_pem(X509* cert) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string to_pem(EVP_PKEY* key) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return {};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// True when the files parse, the key matches the certificate, the CA signed it, and it is
// valid at `now` and for at least another day.
bool usable(const tls_files& f, std::time_t now) {
    std::string cert_pem = read_file(f.cert), key_pem = read_file(f.key), ca_pem = read_file(f.ca);
    if (cert_pem.empty() || key_pem.empty() || ca_pem.empty()) return false;
    bio_ptr cb(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
    bio_ptr kb(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
    bio_ptr ab(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
    x509_ptr cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    pkey_ptr key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    x509_ptr ca(PEM_read_bio_X509(ab.get(), nullptr, nullptr, nullptr));
    if (!cert || !key || !ca) return false;
    if (X509_check_private_key(cert.get(), key.get()) != 1) return false;
    pkey_ptr ca_pub(X509_get_pubkey(ca.get()));
    if (!ca_pub || X509_verify(cert.get(), ca_pub.get()) != 1) return false;
    std::time_t soon = now + day;
    if (X509_cmp_time(X509_get0_notBefore(cert.get()), &now) > 0) return false;
    if (X509_cmp_time(X509_get0_notAfter(cert.get()), &soon) < 0) return false;
    if (X509_cmp_time(X509_get0_notAfter(ca.get()), &soon) < 0) return false;
    return true;
}

void write(const fs::path& p, const std::string& text, unsigned mode = 0644) {
    if (auto ec = write_file_atomically(p, text, mode))
        fail(fmt::format("cannot write {}: {}", p.string(), ec.message()));
}

}  // namespace

tls_files ensure_self_signed(const fs::path& dir, std::time_t now) {
    tls_files f{dir / "cert.pem", dir / "key.pem", dir / "ca.pem", false};
    if (usable(f, now)) return f;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) fail(fmt::format("cannot create {}: {}", dir.string(), ec.message()));

    pkey_ptr ca_key = new_key();
    x509_ptr ca = make_cert(ca_key.get(), "kinesd local CA", nullptr, nullptr, now, 3650 * day, true);
    pkey_ptr key = new_key();
    x509_ptr cert = make_cert(key.get(), "localhost", ca.get(), ca_key.get(), now, 825 * day, false);
    // The key first, so that a crash in between leaves files that usable() rejects, never a
    // certificate whose key is gone. The key is private to the user running kinesd.
    write(f.key, to_pem(key.get()), 0600);
    write(f.cert, to_pem(cert.get()) + to_pem(ca.get()));
    write(f.ca, to_pem(ca.get()));
    f.generated = true;
    return f;
}

}  // namespace kinesd::http
