#include "kinesd/storage/record_frame.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "kinesd/storage/crc32c.hpp"
#include "kinesd/storage/endian.hpp"

namespace kinesd::storage {

namespace fl = frame_layout;

const char* to_string(frame_status s) {
    switch (s) {
        case frame_status::ok:
            return "ok";
        case frame_status::end_of_data:
            return "end of data";
        case frame_status::torn_tail:
            return "torn tail";
        case frame_status::zero_filled:
            return "zero-filled";
        case frame_status::checksum_mismatch:
            return "checksum mismatch";
        case frame_status::malformed:
            return "malformed frame";
    }
    return "unknown";
}

std::uint32_t peek_frame_length(const std::byte* p) { return le::load<std::uint32_t>(p); }

frame_status decode_frame(std::span<const std::byte> in, record_view& out, std::size_t& used,
                          bool check_crc) {
    if (in.empty()) return frame_status::end_of_data;
    if (in.size() < 4) return frame_status::torn_tail;
    const std::byte* p = in.data();
    const std::size_t len = le::load<std::uint32_t>(p + fl::length_offset);
    if (len == 0) return frame_status::zero_filled;
    if (len < fl::overhead || len > fl::max_frame_bytes) return frame_status::malformed;
    if (len > in.size()) return frame_status::torn_tail;

    const std::uint32_t stored_crc = le::load<std::uint32_t>(p + fl::crc_offset);
    if (check_crc && crc32c(in.subspan(fl::checked_from, len - fl::checked_from)) != stored_crc)
        return frame_status::checksum_mismatch;

    // The CRC matched; the inner lengths must still add up to exactly frame_len.
    const std::size_t key_len = le::load<std::uint16_t>(p + fl::key_len_offset);
    std::size_t pos = fl::key_offset + key_len;
    if (pos + 1 + 4 > len) return frame_status::malformed;
    const std::size_t ehk_len = static_cast<std::uint8_t>(p[pos]);
    if (ehk_len != 0 && ehk_len != fl::explicit_hash_key_bytes) return frame_status::malformed;
    const std::size_t ehk_pos = pos + 1;
    pos = ehk_pos + ehk_len;
    if (pos + 4 > len) return frame_status::malformed;
    const std::size_t data_len = le::load<std::uint32_t>(p + pos);
    pos += 4;
    if (pos + data_len != len) return frame_status::malformed;

    out.seq = le::load_u128(p + fl::seq_offset);
    out.arrival_ms = le::load<std::int64_t>(p + fl::arrival_offset);
    out.partition_key =
        std::string_view(reinterpret_cast<const char*>(p + fl::key_offset), key_len);
    out.explicit_hash_key = in.subspan(ehk_pos, ehk_len);
    out.data = in.subspan(pos, data_len);
    used = len;
    return frame_status::ok;
}

std::byte* write_frame_header(std::byte* out, std::string_view partition_key,
                              std::span<const std::byte> explicit_hash_key, std::size_t data_len) {
    assert(partition_key.size() <= 0xFFFF);
    assert(explicit_hash_key.empty() || explicit_hash_key.size() == fl::explicit_hash_key_bytes);
    const std::size_t len = frame_size(partition_key.size(), explicit_hash_key.size(), data_len);
    assert(len <= fl::max_frame_bytes);
    le::store<std::uint32_t>(out + fl::length_offset, static_cast<std::uint32_t>(len));
    std::memset(out + fl::crc_offset, 0, fl::key_len_offset - fl::crc_offset);
    le::store<std::uint16_t>(out + fl::key_len_offset,
                             static_cast<std::uint16_t>(partition_key.size()));
    std::byte* p = out + fl::key_offset;
    if (!partition_key.empty()) std::memcpy(p, partition_key.data(), partition_key.size());
    p += partition_key.size();
    *p++ = static_cast<std::byte>(explicit_hash_key.size());
    if (!explicit_hash_key.empty())
        std::memcpy(p, explicit_hash_key.data(), explicit_hash_key.size());
    p += explicit_hash_key.size();
    le::store<std::uint32_t>(p, static_cast<std::uint32_t>(data_len));
    return p + 4;
}

void set_frame_data_length(std::byte* frame, std::size_t key_len, std::size_t ehk_len,
                           std::size_t data_len) {
    le::store<std::uint32_t>(frame + fl::length_offset,
                             static_cast<std::uint32_t>(frame_size(key_len, ehk_len, data_len)));
    le::store<std::uint32_t>(frame + fl::key_offset + key_len + 1 + ehk_len,
                             static_cast<std::uint32_t>(data_len));
}

void stamp_frame(std::span<std::byte> frame, seqno seq, epoch_ms arrival_ms) {
    std::byte* p = frame.data();
    le::store_u128(p + fl::seq_offset, seq);
    le::store<std::int64_t>(p + fl::arrival_offset, arrival_ms);
    le::store<std::uint32_t>(p + fl::crc_offset, crc32c(frame.subspan(fl::checked_from)));
}

void encode_frame(std::vector<std::byte>& out, const record_view& r) {
    const std::size_t start = out.size();
    const std::size_t len =
        frame_size(r.partition_key.size(), r.explicit_hash_key.size(), r.data.size());
    out.resize(start + len);
    std::byte* data =
        write_frame_header(out.data() + start, r.partition_key, r.explicit_hash_key, r.data.size());
    if (!r.data.empty()) std::memcpy(data, r.data.data(), r.data.size());
    stamp_frame(std::span(out).subspan(start, len), r.seq, r.arrival_ms);
}

}  // namespace kinesd::storage
