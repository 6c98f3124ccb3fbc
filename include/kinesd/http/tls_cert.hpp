#pragma once
// The certificate kinesd serves over TLS when the user gives none (--tls-cert/--tls-key): a
// local CA and a server certificate it signs for localhost, 127.0.0.1 and ::1, made at first
// start and kept in a directory of the data dir. Users trust ca.pem (boto3 verify=, the AWS CLI's
// --ca-bundle, NODE_EXTRA_CA_CERTS); the CA's private key is discarded once it has signed, so
// trusting it cannot let anything else be impersonated. No Asio here; unit-tested.
#include <ctime>
#include <filesystem>
#include <stdexcept>

namespace kinesd::http {

struct tls_files {
    std::filesystem::path cert;  // PEM: the server certificate, then the CA (the chain)
    std::filesystem::path key;   // PEM: the server's private key (mode 0600)
    std::filesystem::path ca;    // PEM: the CA to trust; empty for a user-supplied pair
    bool generated = false;      // made by this call (else loaded as it was)
};

struct tls_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The files in `dir` (created when missing): reused while they parse, match and the server
// certificate is valid at `now` for at least another day; otherwise made anew (valid from an
// hour before `now`: 10 years for the CA, 825 days for the server certificate). Throws
// tls_error when they cannot be written.
tls_files ensure_self_signed(const std::filesystem::path& dir, std::time_t now);

}  // namespace kinesd::http
