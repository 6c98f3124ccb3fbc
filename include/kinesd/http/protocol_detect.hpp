#pragma once
// Which protocol a new connection speaks, from its first bytes. One port serves HTTP/1.1,
// HTTP/2 with prior knowledge (h2c: the connection opens with the HTTP/2 client preface) and,
// where TLS is on, TLS (a handshake record). Pure; unit-tested.
#include <cstddef>
#include <string_view>

namespace kinesd::http {

// The 24-byte client connection preface of RFC 9113 section 3.4.
inline constexpr std::string_view http2_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class wire_protocol {
    need_more,  // the bytes so far are a proper prefix of the HTTP/2 preface: read more
    http2,      // the HTTP/2 client preface
    tls,        // a TLS handshake record (content type 22)
    http1,      // anything else; the HTTP/1.1 parser decides whether it is valid
};

// `first` is everything read from the connection so far (may be empty: need_more).
wire_protocol detect_protocol(std::string_view first);

// ALPN: the protocol the server picks from the client's list (wire format: length-prefixed
// names), preferring h2 over http/1.1. Empty when the lists share nothing.
std::string_view select_alpn(std::string_view client_protocols);

}  // namespace kinesd::http
