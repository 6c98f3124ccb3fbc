#pragma once
// Throttling as clients see it. Data plane (--throttle, on by default): each shard's token
// buckets (throttle/shard_throughput.hpp) and injected faults (api/faults.hpp), checked by the
// record handlers, answering ProvisionedThroughputExceededException with AWS's wording.
// Control plane (--control-plane-limits, off by default): AWS's documented per-operation rates,
// checked by dispatch, answering LimitExceededException.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kinesd/api/dispatch.hpp"
#include "kinesd/api/error.hpp"
#include "kinesd/shard/stream.hpp"
#include "kinesd/throttle/shard_throughput.hpp"

namespace kinesd::api {

// The per-shard limits of the configuration (--shard-write-bytes-per-sec, ...).
throttle::throughput_limits shard_limits(const config& cfg);

// AWS's ProvisionedThroughputExceededException of PutRecord (and the ErrorMessage of a
// throttled PutRecords entry): "Rate exceeded for shard shardId-... in stream ... under account ...".
std::string write_throttled_message(const stream& s, const shard& target);
// GetRecords: "Rate exceeded for Shard - ACCOUNT/STREAM/shardId-...".
api_error read_throttled(const stream& s, const shard& source);

// PutRecord: an injected fault, then the shard's write buckets. Throws the injected error or
// ProvisionedThroughputExceededException; returns when the record may be written.
void admit_put_record(context& ctx, const stream& s, const shard& target, std::size_t bytes,
                      epoch_ms now);

// Why a PutRecords entry is not written.
enum class entry_refusal { none, throttled, internal_failure };

// PutRecords, called for each entry in request order (before anything is written): an injected
// fault (which fails that entry only), then the shard's write buckets. Once the buckets refuse
// an entry, `shard_blocked` (one flag per shard of the request, false at first) refuses the
// later entries for that shard too, so what is written for each shard is a prefix of the
// request's entries for it and a producer that retries the failed entries keeps their order.
// A request refused after admission (an entry's Data is not base64) keeps the tokens taken. Adds injected latency to
// latency_ms (the caller waits once per request). Throws an injected request-level error.
entry_refusal admit_put_records_entry(context& ctx, const stream& s, const shard& target,
                                      std::size_t bytes, epoch_ms now, bool& shard_blocked,
                                      std::int64_t& latency_ms);

// GetRecords: an injected fault, then the shard's read buckets (refused while 5 calls were
// made in the last second or the read budget is in debt). Throws the injected error or
// ProvisionedThroughputExceededException.
void admit_get_records(context& ctx, const stream& s, const shard& source, epoch_ms now);
// Charges what an admitted GetRecords call returned (the budget may go negative).
void charge_get_records(context& ctx, const shard& source, std::size_t bytes, epoch_ms now);

// Injected latency: the transport holds the answer back at least `ms` (the longest of the
// request's fired faults counts). No thread waits meanwhile.
void delay_answer(context& ctx, std::int64_t ms);

// AWS's per-operation rate limits, from the API reference: e.g. CreateStream 5/s per account,
// DescribeStream 10/s per account, ListShards 1000/s per stream, GetShardIterator 5/s per open
// shard. Thread-safe (one mutex: control-plane calls only, never PutRecord(s)/GetRecords).
class control_plane_limiter {
public:
    // Throws LimitExceededException (GetShardIterator: ProvisionedThroughputExceededException)
    // when `operation` is over its rate. `stream` and `shard` name what the request addresses
    // (empty when it names none). Operations without a documented limit always pass.
    void check(std::string_view operation, std::string_view account, std::string_view region,
               std::string_view stream, std::string_view shard, epoch_ms now);

    // The documented rate of an operation (calls per second), 0 when it has none.
    static double rate_of(std::string_view operation);

private:
    std::mutex mu_;
    std::unordered_map<std::string, throttle::token_bucket> buckets_;  // guarded by mu_
};

// Dispatch's hook, before the handler runs: request-level injected faults (of operations other
// than PutRecord, PutRecords and GetRecords, whose handlers draw them) and, with
// --control-plane-limits on, the operation's rate limit.
void check_request_limits(context& ctx, std::string_view operation, const nlohmann::json& req);

}  // namespace kinesd::api
