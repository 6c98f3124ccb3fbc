#include "kinesd/storage/shard_log.hpp"

#include <cassert>
#include <cstring>
#include <stdexcept>

#include "kinesd/storage/record_frame.hpp"

namespace kinesd::storage {

namespace {

class storage_category_impl final : public std::error_category {
  public:
    const char* name() const noexcept override { return "kinesd.storage"; }
    std::string message(int ev) const override {
        switch (static_cast<storage_errc>(ev)) {
            case storage_errc::io_error:
                return "storage I/O error";
            case storage_errc::no_space:
                return "no space left on the storage device";
            case storage_errc::corrupt_segment:
                return "corrupt segment";
            case storage_errc::closed:
                return "the log is closed";
        }
        return "unknown storage error";
    }
};

}  // namespace

const std::error_category& storage_category() {
    static const storage_category_impl category;
    return category;
}

std::error_code make_error_code(storage_errc e) {
    return {static_cast<int>(e), storage_category()};
}

std::span<std::byte> append_batch::add(std::string_view partition_key,
                                       std::span<const std::byte> explicit_hash_key,
                                       std::size_t data_capacity) {
    if (partition_key.size() > 0xFFFF)
        throw std::length_error("append_batch: partition key longer than 65535 bytes");
    if (!explicit_hash_key.empty() &&
        explicit_hash_key.size() != frame_layout::explicit_hash_key_bytes)
        throw std::invalid_argument("append_batch: explicit hash key must be 16 bytes");
    if (data_capacity > frame_layout::max_frame_bytes ||
        frame_size(partition_key.size(), explicit_hash_key.size(), data_capacity) >
            frame_layout::max_frame_bytes)
        throw std::length_error("append_batch: frame larger than 1 GiB");
    if (frame_open_) close_open_frame(open_frame_capacity_);

    const std::size_t len =
        frame_size(partition_key.size(), explicit_hash_key.size(), data_capacity);
    const std::size_t start = buffer_.size();
    buffer_.resize(start + len);  // default-initialized: no zeroing of the data capacity
    std::byte* data =
        write_frame_header(buffer_.data() + start, partition_key, explicit_hash_key, data_capacity);
    frames_.push_back({start, len});
    frame_open_ = true;
    open_frame_capacity_ = data_capacity;
    open_key_len_ = static_cast<std::uint16_t>(partition_key.size());
    open_ehk_len_ = static_cast<std::uint8_t>(explicit_hash_key.size());
    return {data, data_capacity};
}

void append_batch::commit_data(std::size_t data_size) {
    assert(frame_open_ && "commit_data() without add()");
    assert(data_size <= open_frame_capacity_ && "commit_data() beyond the capacity");
    if (!frame_open_) return;
    close_open_frame(std::min(data_size, open_frame_capacity_));
}

void append_batch::finish() {
    if (frame_open_) close_open_frame(open_frame_capacity_);
}

void append_batch::close_open_frame(std::size_t data_size) {
    frame_ref& f = frames_.back();
    if (data_size != open_frame_capacity_) {
        set_frame_data_length(buffer_.data() + f.offset, open_key_len_, open_ehk_len_, data_size);
        f.length = frame_size(open_key_len_, open_ehk_len_, data_size);
        buffer_.resize(f.offset + f.length);  // shrinking: no reallocation
    }
    frame_open_ = false;
    open_frame_capacity_ = 0;
}

void append_batch::add_copy(std::string_view partition_key,
                            std::span<const std::byte> explicit_hash_key,
                            std::span<const std::byte> data) {
    auto out = add(partition_key, explicit_hash_key, data.size());
    if (!data.empty()) std::memcpy(out.data(), data.data(), data.size());
    commit_data(data.size());
}

void append_batch::reserve(std::size_t frames, std::size_t bytes) {
    frames_.reserve(frames);
    buffer_.reserve(bytes);
}

void append_batch::clear() {
    buffer_.clear();
    frames_.clear();
    frame_open_ = false;
    open_frame_capacity_ = 0;
}

}  // namespace kinesd::storage
