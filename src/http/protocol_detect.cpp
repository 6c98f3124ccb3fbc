#include "kinesd/http/protocol_detect.hpp"

#include <algorithm>

namespace kinesd::http {

wire_protocol detect_protocol(std::string_view first) {
    if (first.empty()) return wire_protocol::need_more;
    if (static_cast<unsigned char>(first[0]) == 0x16) return wire_protocol::tls;
    const auto n = std::min(first.size(), http2_preface.size());
    if (first.substr(0, n) != http2_preface.substr(0, n)) return wire_protocol::http1;
    return n == http2_preface.size() ? wire_protocol::http2 : wire_protocol::need_more;
}

std::string_view select_alpn(std::string_view client) {
    for (std::string_view wanted : {std::string_view("h2"), std::string_view("http/1.1")}) {
        std::string_view rest = client;
        while (!rest.empty()) {
            const auto len = static_cast<unsigned char>(rest[0]);
            if (len == 0 || len + 1u > rest.size()) break;  // malformed list: stop reading it
            if (rest.substr(1, len) == wanted) return rest.substr(1, len);
            rest.remove_prefix(len + 1u);
        }
    }
    return {};
}

}  // namespace kinesd::http
