#include "kinesd/throttle/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace kinesd::throttle {
namespace {

constexpr double ns_per_s = 1e9;

// Nanoseconds it takes the bucket to refill n units.
std::int64_t refill_ns(const bucket_limits& l, double n) {
    return static_cast<std::int64_t>(std::llround(n / l.rate * ns_per_s));
}

// The full-at time to compute from: never before now (a full bucket does not bank tokens), and
// a value beyond any reachable debt means the clock went back, so it is forgotten.
std::int64_t base_of(std::int64_t full_at, std::int64_t now_ns, std::int64_t horizon_ns) {
    if (full_at > now_ns + horizon_ns) return now_ns;
    return std::max(full_at, now_ns);
}

std::int64_t horizon_of(const bucket_limits& l) { return refill_ns(l, l.burst + l.max_debt); }

}  // namespace

double token_bucket::available(const bucket_limits& l, epoch_ms now) const {
    const std::int64_t now_ns = now * 1'000'000;
    const std::int64_t base = base_of(full_at_ns_.load(std::memory_order_relaxed), now_ns, horizon_of(l));
    return l.burst - static_cast<double>(base - now_ns) * l.rate / ns_per_s;
}

bool token_bucket::try_take(const bucket_limits& l, double n, epoch_ms now) {
    const std::int64_t now_ns = now * 1'000'000;
    const std::int64_t horizon = horizon_of(l);
    const std::int64_t burst_ns = refill_ns(l, l.burst);
    const std::int64_t cost = refill_ns(l, n);
    std::int64_t full_at = full_at_ns_.load(std::memory_order_relaxed);
    for (;;) {
        const std::int64_t base = base_of(full_at, now_ns, horizon);
        // Tokens after the take = burst - (next - now) * rate; they must not go below zero,
        // except for an oversized take from a full bucket.
        const std::int64_t next = std::min(base + cost, now_ns + horizon);
        const bool fits = n <= l.burst ? base + cost - now_ns <= burst_ns : base == now_ns;
        if (!fits) return false;
        if (full_at_ns_.compare_exchange_weak(full_at, next, std::memory_order_relaxed)) return true;
    }
}

void token_bucket::charge(const bucket_limits& l, double n, epoch_ms now) {
    const std::int64_t now_ns = now * 1'000'000;
    const std::int64_t horizon = horizon_of(l);
    const std::int64_t cost = refill_ns(l, n);
    std::int64_t full_at = full_at_ns_.load(std::memory_order_relaxed);
    for (;;) {
        const std::int64_t next = std::min(base_of(full_at, now_ns, horizon) + cost, now_ns + horizon);
        if (full_at_ns_.compare_exchange_weak(full_at, next, std::memory_order_relaxed)) return;
    }
}

void token_bucket::give_back(const bucket_limits& l, double n) {
    // Moving full-at back by the cost restores exactly the tokens taken; if the bucket has
    // refilled meanwhile, base_of() clamps the result to "full".
    full_at_ns_.fetch_sub(refill_ns(l, n), std::memory_order_relaxed);
}

}  // namespace kinesd::throttle
