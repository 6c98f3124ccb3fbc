#pragma once
// The record frame: how one record is laid out in a segment file (see docs/format.md).
//
//   offset     size  field
//   0          4     frame_len   u32  bytes in the whole frame, this field included
//   4          4     crc32c      u32  CRC32C of bytes [8, frame_len): everything after it
//   8          16    seq         u128 sequence number, low 64 bits first
//   24         8     arrival_ms  i64  milliseconds since the Unix epoch
//   32         2     key_len     u16  k
//   34         k     partition key bytes
//   34+k       1     ehk_len     u8   h: 0, or 16 when an explicit hash key follows
//   35+k       h     explicit hash key, 16 bytes big-endian (as the producer gave it)
//   35+k+h     4     data_len    u32  d
//   39+k+h     d     data
//
// Every integer is little-endian; frames are packed back to back without padding. A frame is
// valid only if frame_len == 39 + k + h + d exactly and the CRC matches, so a corrupted length
// cannot make a decoder accept a frame with other content (a length field reading 0 is how a
// zero-filled tail shows up). Recovery truncates or quarantines at the first frame that is not ok.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "kinesd/storage/shard_log.hpp"

namespace kinesd::storage {

namespace frame_layout {
inline constexpr std::size_t length_offset = 0;
inline constexpr std::size_t crc_offset = 4;
inline constexpr std::size_t seq_offset = 8;
inline constexpr std::size_t arrival_offset = 24;
inline constexpr std::size_t key_len_offset = 32;
inline constexpr std::size_t key_offset = 34;
inline constexpr std::size_t checked_from = 8;  // the CRC covers [checked_from, frame_len)
inline constexpr std::size_t explicit_hash_key_bytes = 16;
// Header and trailer bytes of a frame with an empty key, no hash key and no data.
inline constexpr std::size_t overhead = 39;
// Upper bound on frame_len accepted by the decoder and the encoder (Kinesis records are at
// most a few MiB; this only keeps a corrupt length from meaning "the rest of the file").
inline constexpr std::size_t max_frame_bytes = std::size_t{1} << 30;
}  // namespace frame_layout

// Size of a frame holding a key of key_len bytes, an explicit hash key of ehk_len (0 or 16)
// bytes and data_len bytes of data.
constexpr std::size_t frame_size(std::size_t key_len, std::size_t ehk_len, std::size_t data_len) {
    return frame_layout::overhead + key_len + ehk_len + data_len;
}

enum class frame_status {
    ok,                 // a whole, valid frame was decoded
    end_of_data,        // the input is empty: a clean end
    torn_tail,          // the input ends inside the frame (shorter than its header or length)
    zero_filled,        // the length field reads 0: unwritten (zero-filled) space
    checksum_mismatch,  // the CRC does not match the bytes it covers
    malformed,          // bad length, inconsistent inner lengths, or out of order (recovery)
};

const char* to_string(frame_status s);

// Decodes the frame at the start of `in`. On ok, `out` views into `in` and `used` is the frame
// length; on any other status `out` and `used` are unspecified. Never reads outside `in`.
// With check_crc false the checksum is not computed (nor checksum_mismatch returned): only the
// lengths are checked, so the frame's header and data may be garbage; for passes that need only
// the sizes and never serve what they read.
frame_status decode_frame(std::span<const std::byte> in, record_view& out, std::size_t& used,
                          bool check_crc = true);

// Reads the frame length of the frame at `p` without validating it (the caller has checked
// that at least 4 bytes are there).
std::uint32_t peek_frame_length(const std::byte* p);

// Writes the header of a frame (all fields but seq, arrival_ms and the CRC, which are zeroed)
// at `out`, which must have frame_size(...) bytes, and returns where the data goes.
// Preconditions: key <= 65535 bytes, ehk empty or 16 bytes, frame_size(...) <= max_frame_bytes.
std::byte* write_frame_header(std::byte* out, std::string_view partition_key,
                              std::span<const std::byte> explicit_hash_key, std::size_t data_len);

// Sets the data length (and so frame_len) of a frame whose header was written with a larger
// data_len; the bytes after the new end are no longer part of the frame.
void set_frame_data_length(std::byte* frame, std::size_t key_len, std::size_t ehk_len,
                           std::size_t data_len);

// Stamps seq and arrival_ms into a complete frame and computes its CRC, in place.
void stamp_frame(std::span<std::byte> frame, seqno seq, epoch_ms arrival_ms);

// Appends a complete, stamped frame for `r` to `out`. For tests and tools; the write path
// builds frames with append_batch.
void encode_frame(std::vector<std::byte>& out, const record_view& r);

}  // namespace kinesd::storage
