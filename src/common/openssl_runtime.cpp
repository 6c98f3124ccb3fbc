// kinesd loads OpenSSL (libssl and the libcrypto it needs) on its first call, not when the
// process starts. Mapping and relocating libcrypto at exec was about 4 ms of CPU (BIND_NOW,
// 21,000 relocations, 4,000 symbol lookups): a fifth of an empty start, and an empty start
// answers its first ListStreams without OpenSSL (docs/benchmarks.md). The first request that
// hashes a partition key, signs an iterator or shakes hands over TLS waits the ~4 ms once.
// (Loading it on a spare thread once the listener was up made the first ListStreams 1.5-2 ms
// slower on 2 cores.)
//
// This file is compiled into the `kinesd` executable only; the tests and the benchmark link
// OpenSSL as usual (kinesd_openssl in CMakeLists.txt). Each forwarder below has the name and
// signature of an OpenSSL function; the OpenSSL headers are included, so a signature that differs
// from OpenSSL's is a compile error. A call to an OpenSSL function not in the list fails the link
// of `kinesd` with an undefined reference: add it to the list. The executable does not export
// these names (no shared library it links refers to them), so libssl's own calls into libcrypto
// never land here. If the library or a function is missing (a broken installation), the first
// call logs why and ends the process with exit status 1, as the dynamic loader would have
// refused to start it.
#include <dlfcn.h>
// MD5_Init/Update/Final (shard/hash_key.cpp) are deprecated in OpenSSL 3 but kept; see there.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string>

#include "kinesd/common/logging.hpp"

#ifndef KINESD_LIBSSL_SONAME
#error "KINESD_LIBSSL_SONAME (for example \"libssl.so.3\") is set by CMakeLists.txt"
#endif

// X(return type, name, (parameters), (arguments)): every OpenSSL function kinesd calls, whether
// from kinesd's code or from the Asio/Beast TLS templates it instantiates. No variadic function
// can be forwarded (EVP_EC_gen and EVP_RSA_gen are variadic underneath).
#define KINESD_OPENSSL_FUNCTIONS(X)                                                               \
    X(long, BIO_ctrl, (BIO * b, int cmd, long larg, void* parg), (b, cmd, larg, parg))            \
    X(size_t, BIO_ctrl_pending, (BIO * b), (b))                                                   \
    X(int, BIO_free, (BIO * b), (b))                                                              \
    X(BIO*, BIO_new, (const BIO_METHOD* type), (type))                                            \
    X(int, BIO_new_bio_pair, (BIO * *bio1, size_t writebuf1, BIO** bio2, size_t writebuf2),       \
      (bio1, writebuf1, bio2, writebuf2))                                                         \
    X(BIO*, BIO_new_mem_buf, (const void* buf, int len), (buf, len))                              \
    X(int, BIO_read, (BIO * b, void* data, int dlen), (b, data, dlen))                            \
    X(const BIO_METHOD*, BIO_s_mem, (void), ())                                                   \
    X(int, BIO_write, (BIO * b, const void* data, int dlen), (b, data, dlen))                     \
    X(BIGNUM*, BN_bin2bn, (const unsigned char* s, int len, BIGNUM* ret), (s, len, ret))          \
    X(void, BN_free, (BIGNUM * a), (a))                                                           \
    X(ASN1_INTEGER*, BN_to_ASN1_INTEGER, (const BIGNUM* bn, ASN1_INTEGER* ai), (bn, ai))          \
    X(int, CRYPTO_memcmp, (const void* a, const void* b, size_t len), (a, b, len))                \
    X(void, ERR_clear_error, (void), ())                                                          \
    X(unsigned long, ERR_get_error, (void), ())                                                   \
    X(const char*, ERR_lib_error_string, (unsigned long e), (e))                                  \
    X(const char*, ERR_reason_error_string, (unsigned long e), (e))                               \
    X(void, EVP_PKEY_CTX_free, (EVP_PKEY_CTX * ctx), (ctx))                                       \
    X(EVP_PKEY_CTX*, EVP_PKEY_CTX_new_from_name,                                                  \
      (OSSL_LIB_CTX * libctx, const char* name, const char* propquery), (libctx, name, propquery)) \
    X(int, EVP_PKEY_CTX_set_group_name, (EVP_PKEY_CTX * ctx, const char* name), (ctx, name))      \
    X(void, EVP_PKEY_free, (EVP_PKEY * pkey), (pkey))                                             \
    X(int, EVP_PKEY_generate, (EVP_PKEY_CTX * ctx, EVP_PKEY** ppkey), (ctx, ppkey))               \
    X(int, EVP_PKEY_keygen_init, (EVP_PKEY_CTX * ctx), (ctx))                                     \
    X(const EVP_MD*, EVP_sha256, (void), ())                                                      \
    X(unsigned char*, HMAC,                                                                       \
      (const EVP_MD* evp_md, const void* key, int key_len, const unsigned char* data,             \
       size_t data_len, unsigned char* md, unsigned int* md_len),                                 \
      (evp_md, key, key_len, data, data_len, md, md_len))                                         \
    X(int, MD5_Final, (unsigned char* md, MD5_CTX* c), (md, c))                                   \
    X(int, MD5_Init, (MD5_CTX * c), (c))                                                          \
    X(int, MD5_Update, (MD5_CTX * c, const void* data, size_t len), (c, data, len))               \
    X(const char*, OBJ_nid2sn, (int n), (n))                                                      \
    X(void, OPENSSL_cleanse, (void* ptr, size_t len), (ptr, len))                                 \
    X(EVP_PKEY*, PEM_read_bio_PrivateKey, (BIO * bp, EVP_PKEY** x, pem_password_cb* cb, void* u), \
      (bp, x, cb, u))                                                                             \
    X(X509*, PEM_read_bio_X509, (BIO * bp, X509** x, pem_password_cb* cb, void* u),               \
      (bp, x, cb, u))                                                                             \
    X(int, PEM_write_bio_PrivateKey,                                                              \
      (BIO * bp, const EVP_PKEY* x, const EVP_CIPHER* enc, const unsigned char* kstr, int klen,   \
       pem_password_cb* cb, void* u),                                                             \
      (bp, x, enc, kstr, klen, cb, u))                                                            \
    X(int, PEM_write_bio_X509, (BIO * bp, const X509* x), (bp, x))                                \
    X(int, RAND_bytes, (unsigned char* buf, int num), (buf, num))                                 \
    X(long, SSL_CTX_ctrl, (SSL_CTX * ctx, int cmd, long larg, void* parg),                        \
      (ctx, cmd, larg, parg))                                                                     \
    X(void, SSL_CTX_free, (SSL_CTX * ctx), (ctx))                                                 \
    X(void*, SSL_CTX_get_default_passwd_cb_userdata, (SSL_CTX * ctx), (ctx))                      \
    X(void*, SSL_CTX_get_ex_data, (const SSL_CTX* ctx, int idx), (ctx, idx))                      \
    X(SSL_CTX*, SSL_CTX_new, (const SSL_METHOD* method), (method))                                \
    X(void, SSL_CTX_set_alpn_select_cb, (SSL_CTX * ctx, SSL_CTX_alpn_select_cb_func cb, void* arg), \
      (ctx, cb, arg))                                                                             \
    X(void, SSL_CTX_set_default_passwd_cb_userdata, (SSL_CTX * ctx, void* u), (ctx, u))           \
    X(int, SSL_CTX_set_ex_data, (SSL_CTX * ctx, int idx, void* data), (ctx, idx, data))           \
    X(uint64_t, SSL_CTX_set_options, (SSL_CTX * ctx, uint64_t op), (ctx, op))                     \
    X(int, SSL_CTX_use_PrivateKey_file, (SSL_CTX * ctx, const char* file, int type),              \
      (ctx, file, type))                                                                          \
    X(int, SSL_CTX_use_certificate_chain_file, (SSL_CTX * ctx, const char* file), (ctx, file))    \
    X(int, SSL_accept, (SSL * ssl), (ssl))                                                        \
    X(int, SSL_connect, (SSL * ssl), (ssl))                                                       \
    X(long, SSL_ctrl, (SSL * ssl, int cmd, long larg, void* parg), (ssl, cmd, larg, parg))        \
    X(void, SSL_free, (SSL * ssl), (ssl))                                                         \
    X(int, SSL_get_error, (const SSL* ssl, int ret_code), (ssl, ret_code))                        \
    X(void*, SSL_get_ex_data, (const SSL* ssl, int idx), (ssl, idx))                              \
    X(int, SSL_get_shutdown, (const SSL* ssl), (ssl))                                             \
    X(SSL*, SSL_new, (SSL_CTX * ctx), (ctx))                                                      \
    X(int, SSL_read, (SSL * ssl, void* buf, int num), (ssl, buf, num))                            \
    X(void, SSL_set_bio, (SSL * ssl, BIO* rbio, BIO* wbio), (ssl, rbio, wbio))                    \
    X(int, SSL_set_ex_data, (SSL * ssl, int idx, void* data), (ssl, idx, data))                   \
    X(int, SSL_write, (SSL * ssl, const void* buf, int num), (ssl, buf, num))                     \
    X(const SSL_METHOD*, TLS_client_method, (void), ())                                           \
    X(const SSL_METHOD*, TLS_method, (void), ())                                                  \
    X(const SSL_METHOD*, TLS_server_method, (void), ())                                           \
    X(X509_EXTENSION*, X509V3_EXT_conf_nid,                                                       \
      (LHASH_OF(CONF_VALUE) * conf, X509V3_CTX* ctx, int ext_nid, const char* value),             \
      (conf, ctx, ext_nid, value))                                                                \
    X(void, X509V3_set_ctx,                                                                       \
      (X509V3_CTX * ctx, X509* issuer, X509* subject, X509_REQ* req, X509_CRL* crl, int flags),   \
      (ctx, issuer, subject, req, crl, flags))                                                    \
    X(void, X509_EXTENSION_free, (X509_EXTENSION * ex), (ex))                                     \
    X(int, X509_NAME_add_entry_by_txt,                                                            \
      (X509_NAME * name, const char* field, int type, const unsigned char* bytes, int len,        \
       int loc, int set),                                                                         \
      (name, field, type, bytes, len, loc, set))                                                  \
    X(int, X509_add_ext, (X509 * x, X509_EXTENSION* ex, int loc), (x, ex, loc))                   \
    X(int, X509_check_private_key, (const X509* x, const EVP_PKEY* pkey), (x, pkey))              \
    X(int, X509_cmp_time, (const ASN1_TIME* s, time_t* t), (s, t))                                \
    X(void, X509_free, (X509 * x), (x))                                                           \
    X(const ASN1_TIME*, X509_get0_notAfter, (const X509* x), (x))                                 \
    X(const ASN1_TIME*, X509_get0_notBefore, (const X509* x), (x))                                \
    X(EVP_PKEY*, X509_get_pubkey, (X509 * x), (x))                                                \
    X(ASN1_INTEGER*, X509_get_serialNumber, (X509 * x), (x))                                      \
    X(X509_NAME*, X509_get_subject_name, (const X509* x), (x))                                    \
    X(ASN1_TIME*, X509_getm_notAfter, (const X509* x), (x))                                       \
    X(ASN1_TIME*, X509_getm_notBefore, (const X509* x), (x))                                      \
    X(X509*, X509_new, (void), ())                                                                \
    X(int, X509_set_issuer_name, (X509 * x, const X509_NAME* name), (x, name))                    \
    X(int, X509_set_pubkey, (X509 * x, EVP_PKEY* pkey), (x, pkey))                                \
    X(int, X509_set_version, (X509 * x, long version), (x, version))                              \
    X(int, X509_sign, (X509 * x, EVP_PKEY* pkey, const EVP_MD* md), (x, pkey, md))                \
    X(ASN1_TIME*, X509_time_adj_ex, (ASN1_TIME * s, int offset_day, long offset_sec, time_t* t),  \
      (s, offset_day, offset_sec, t))                                                             \
    X(int, X509_verify, (X509 * x, EVP_PKEY* pkey), (x, pkey))

namespace kinesd::openssl_runtime {
namespace {

// The resolved functions. Written once, by resolve(), before any forwarder can read it.
struct function_table {
#define KINESD_TABLE_MEMBER(ret, name, params, args) decltype(&::name) name = nullptr;
    KINESD_OPENSSL_FUNCTIONS(KINESD_TABLE_MEMBER)
#undef KINESD_TABLE_MEMBER
};

[[noreturn]] void cannot_load(const std::string& why) {
    auto log = module_logger("openssl");
    log->critical("cannot load OpenSSL ({}): {}", KINESD_LIBSSL_SONAME, why);
    log->flush();
    // Not exit(): other threads are running, and this is no orderly shutdown.
    std::_Exit(1);
}

function_table resolve() {
    // RTLD_LOCAL: OpenSSL's names stay out of the global scope; the forwarders below are the
    // process's only way in. Never closed: OpenSSL lives until the process ends.
    void* library = dlopen(KINESD_LIBSSL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) cannot_load(dlerror());
    function_table t;
    // dlsym on libssl's handle searches libssl and then its dependencies, libcrypto among them.
#define KINESD_RESOLVE(ret, name, params, args)                                \
    t.name = reinterpret_cast<decltype(&::name)>(dlsym(library, #name));       \
    if (t.name == nullptr) cannot_load(std::string{"no function "} + #name);
    KINESD_OPENSSL_FUNCTIONS(KINESD_RESOLVE)
#undef KINESD_RESOLVE
    return t;
}

// Thread-safe: a function-local static is initialized once, and every caller waits for it
// (resolve() never throws: it ends the process instead).
const function_table& functions() {
    static const function_table table = resolve();
    return table;
}

}  // namespace
}  // namespace kinesd::openssl_runtime

// The forwarders: OpenSSL's names, in the global namespace, with C linkage as declared by the
// OpenSSL headers.
#define KINESD_FORWARDER(ret, name, params, args) \
    extern "C" ret name params { return kinesd::openssl_runtime::functions().name args; }
KINESD_OPENSSL_FUNCTIONS(KINESD_FORWARDER)
#undef KINESD_FORWARDER
