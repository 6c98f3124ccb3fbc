#pragma once
// SubscribeToShard (enhanced fan-out): the validated subscription and the events it produces.
// Transport-independent: the handler (subscribe.cpp) checks the request and leaves a
// `subscription` in context::streaming; the transport then calls poll() whenever it may have
// something to send and writes what poll() framed. It learns when that is from set_waker()
// (records appended, the shard closed) and next_deadline_in() (a heartbeat or the end due, a
// throttled or oversized backlog to continue), never by polling on a timer.
//
// AWS behaviour kept here: the first message is an `initial-response` event ({}); then a
// SubscribeToShardEvent whenever records arrive and at least every 5 s when there are none;
// the subscription ends 5 minutes (of server time) after it began, or with a last event that
// carries ChildShards (and no ContinuationSequenceNumber) when a closed shard's end is reached.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kinesd/common/clock.hpp"
#include "kinesd/common/uint128.hpp"
#include "kinesd/throttle/token_bucket.hpp"

namespace kinesd {
class stream;
class shard;
}

namespace kinesd::api {

// Heartbeat: an empty event at least this often when nothing new arrives.
constexpr std::int64_t subscription_heartbeat_ms = 5'000;
// A subscription ends this long after it began.
constexpr std::int64_t subscription_lifetime_ms = 5 * 60'000;
// A consumer may not subscribe to the same shard again within this long (ResourceInUse).
constexpr std::int64_t resubscribe_interval_ms = 5'000;
// Most record data in one event.
constexpr std::size_t max_event_bytes = 2 << 20;
// Read throughput of one consumer on one shard (--throttle on), its own budget apart from the
// shard's shared GetRecords one: 2 MiB/s, one second's burst.
constexpr double subscription_bytes_per_second = 2 << 20;

// Not thread-safe: one transport drives one subscription (on its strand), except the waker,
// which the shard calls from appending threads. It reads the shard's log like GetRecords does
// (lock-free, never waits for a writer).
class subscription {
public:
    subscription(std::shared_ptr<stream> s, std::shared_ptr<const shard> source, uint128 after_seq,
                 epoch_ms min_arrival_ms, uint128 continuation_floor, epoch_ms started_ms,
                 bool metered = false);
    ~subscription();
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;

    // Appends to `out` the framed messages due at `now` (the initial response on the first
    // call, then at most one SubscribeToShardEvent: records after the position, or a
    // heartbeat when the last event is 5 s old, or the closing ChildShards event).
    // Returns false once the subscription has ended: `out` then holds its last messages (if
    // any) and further calls append nothing.
    bool poll(epoch_ms now, std::string& out);

    // Milliseconds from `now` until poll() must be called even if the waker is not called: 0
    // when woken since the last poll() or when records are left to send (an event was full;
    // with the throttle, when the budget has refilled), else the heartbeat or the end, >= 0.
    std::int64_t next_deadline_in(epoch_ms now) const;

    // Registers `wake` with the shard: it is called (on an appending thread, so it must only
    // post to the transport's executor) once after records are appended or the shard closes,
    // and not again until the next poll(). Replaces an earlier waker; the destructor removes it
    // and returns only once it is not running. Call it before the first poll() so nothing
    // appended in between is missed.
    void set_waker(std::function<void()> wake);

    bool ended() const { return ended_; }

private:
    std::shared_ptr<stream> stream_;
    std::shared_ptr<const shard> source_;
    std::uint32_t shard_index_;
    uint128 after_seq_;          // records with a greater sequence number are next
    epoch_ms min_arrival_ms_;    // AT_TIMESTAMP until the first record is sent
    uint128 continuation_floor_; // ContinuationSequenceNumber before any record was sent
    epoch_ms started_ms_;
    epoch_ms last_event_ms_;
    bool metered_;                     // --throttle on: records wait for the bucket
    throttle::token_bucket bytes_out_;  // 2 MiB/s of record data
    bool initial_sent_ = false;
    bool ended_ = false;
    bool backlog_ = false;  // the last poll() stopped at a limit, not at the end of the log
    std::function<void()> wake_;
    std::uint64_t waker_id_ = 0;            // registration with source_->appended(), 0: none
    std::atomic<bool> wake_pending_{false};  // woken since the last poll()
};

}  // namespace kinesd::api
