#pragma once
// The AWS event-stream framing (application/vnd.amazon.eventstream) that SubscribeToShard's
// response is written in. Each message is
//   total_len:u32 | headers_len:u32 | prelude_crc:u32 | headers | payload | message_crc:u32
// big-endian, where prelude_crc is the CRC-32 (IEEE, as zlib) of the first 8 bytes and
// message_crc the CRC-32 of everything before it. A header is
//   name_len:u8 | name | type:u8 | value
// and kinesd only writes string headers (type 7: value_len:u16 | utf-8 bytes).
// Pure functions, thread-safe; no transport here.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kinesd::api::event_stream {

struct header {
    std::string_view name;
    std::string_view value;
};

// CRC-32 with the IEEE polynomial (reflected 0xEDB88320), continuing from `crc` (0 to start).
std::uint32_t crc32(std::string_view data, std::uint32_t crc = 0);

// Appends one framed message to `out`. Header names must be under 256 bytes and values under
// 65536; payloads up to 16 MiB (the framing's limit on what clients accept).
void append_message(std::string& out, std::span<const header> headers, std::string_view payload);

// An event of the stream: :message-type event, :event-type `type`, JSON payload.
void append_event(std::string& out, std::string_view type, std::string_view json_payload);

// An exception that ends the stream: :message-type exception, :exception-type `type`,
// payload {"message": ...} as the SDKs read it.
void append_exception(std::string& out, std::string_view type, std::string_view message);

}  // namespace kinesd::api::event_stream
