#include "kinesd/throttle/shard_throughput.hpp"

namespace kinesd::throttle {
namespace {

constexpr double max_debt_bytes = 10.0 * (1 << 20);

}  // namespace

throughput_limits throughput_limits::per_second(double write_bytes, double write_records,
                                                double read_bytes, double read_calls) {
    return {
        .write_bytes = {write_bytes, write_bytes, max_debt_bytes},
        .write_records = {write_records, write_records, 0},
        .read_bytes = {read_bytes, read_bytes, max_debt_bytes},
        .read_calls = {read_calls, read_calls, 0},
    };
}

bool shard_throughput::admit_record(const throughput_limits& limits, std::size_t bytes, epoch_ms now) {
    if (write_records_.try_take(limits.write_records, 1, now)) {
        if (write_bytes_.try_take(limits.write_bytes, static_cast<double>(bytes), now)) return true;
        write_records_.give_back(limits.write_records, 1);
    }
    write_throttled.fetch_add(1, std::memory_order_relaxed);
    return false;
}

bool shard_throughput::admit_read(const throughput_limits& limits, epoch_ms now) {
    if (read_bytes_.available(limits.read_bytes, now) > 0 &&
        read_calls_.try_take(limits.read_calls, 1, now))
        return true;
    read_throttled.fetch_add(1, std::memory_order_relaxed);
    return false;
}

void shard_throughput::charge_read(const throughput_limits& limits, std::size_t bytes, epoch_ms now) {
    if (bytes > 0) read_bytes_.charge(limits.read_bytes, static_cast<double>(bytes), now);
}

}  // namespace kinesd::throttle
