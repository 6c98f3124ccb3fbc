#include "kinesd/api/event_stream.hpp"

#include <array>
#include <stdexcept>

#include "kinesd/api/request.hpp"

namespace kinesd::api::event_stream {
namespace {

constexpr std::array<std::uint32_t, 256> make_crc_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}
constexpr auto crc_table = make_crc_table();

constexpr std::uint8_t string_header_type = 7;
constexpr std::size_t prelude_bytes = 12;
constexpr std::size_t max_payload_bytes = 16u << 20;

void put_u32(std::string& out, std::size_t at, std::uint32_t v) {
    out[at] = static_cast<char>(v >> 24);
    out[at + 1] = static_cast<char>(v >> 16);
    out[at + 2] = static_cast<char>(v >> 8);
    out[at + 3] = static_cast<char>(v);
}

void append_u32(std::string& out, std::uint32_t v) {
    out.append(4, '\0');
    put_u32(out, out.size() - 4, v);
}

}  // namespace

std::uint32_t crc32(std::string_view data, std::uint32_t crc) {
    crc = ~crc;
    for (unsigned char b : data) crc = crc_table[(crc ^ b) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

void append_message(std::string& out, std::span<const header> headers, std::string_view payload) {
    if (payload.size() > max_payload_bytes) throw std::length_error("event-stream payload too large");
    const std::size_t start = out.size();
    out.append(prelude_bytes, '\0');
    for (const auto& h : headers) {
        if (h.name.size() > 255 || h.value.size() > 65535)
            throw std::length_error("event-stream header too large");
        out.push_back(static_cast<char>(h.name.size()));
        out.append(h.name);
        out.push_back(static_cast<char>(string_header_type));
        out.push_back(static_cast<char>(h.value.size() >> 8));
        out.push_back(static_cast<char>(h.value.size() & 0xFF));
        out.append(h.value);
    }
    const std::size_t headers_len = out.size() - start - prelude_bytes;
    out.append(payload);
    const std::size_t total = out.size() - start + 4;
    put_u32(out, start, static_cast<std::uint32_t>(total));
    put_u32(out, start + 4, static_cast<std::uint32_t>(headers_len));
    put_u32(out, start + 8, crc32(std::string_view(out).substr(start, 8)));
    append_u32(out, crc32(std::string_view(out).substr(start)));
}

void append_event(std::string& out, std::string_view type, std::string_view json_payload) {
    const header headers[] = {{":event-type", type},
                              {":content-type", "application/json"},
                              {":message-type", "event"}};
    append_message(out, headers, json_payload);
}

void append_exception(std::string& out, std::string_view type, std::string_view message) {
    std::string payload = R"({"message":)";
    append_json_string(payload, message);
    payload += '}';
    const header headers[] = {{":exception-type", type},
                              {":content-type", "application/json"},
                              {":message-type", "exception"}};
    append_message(out, headers, payload);
}

}  // namespace kinesd::api::event_stream
