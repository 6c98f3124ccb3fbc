#pragma once
// Standard base64 (RFC 4648, '+' '/', '=' padding), as the AWS JSON protocol encodes blobs.
// Decoding writes straight into caller-owned memory so record data is copied once.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace kinesd::base64 {

// Upper bound of the decoded size of `encoded_size` characters.
constexpr std::size_t max_decoded_size(std::size_t encoded_size) { return encoded_size / 4 * 3 + 3; }
constexpr std::size_t encoded_size(std::size_t raw_size) { return (raw_size + 2) / 3 * 4; }

// Decodes `in` into `out` (at least max_decoded_size(in.size()) bytes) and returns the number of
// bytes written, or nullopt when `in` is not valid padded base64 (length not a multiple of 4,
// a character outside the alphabet, padding anywhere but the end, or non-zero bits after the
// last byte: AWS accepts only the canonical encoding).
std::optional<std::size_t> decode_into(std::string_view in, std::span<std::byte> out);

// Appends the encoding of `in` to `out`.
void encode_append(std::span<const std::byte> in, std::string& out);

// Conveniences for tests and cold paths.
std::string encode(std::string_view raw);
std::optional<std::string> decode(std::string_view encoded);

}  // namespace kinesd::base64
