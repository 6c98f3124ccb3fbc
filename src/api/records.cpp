// PutRecord, PutRecords, GetShardIterator, GetRecords: the data path.
// Record data is base64-decoded straight into the frame buffer (one copy) and encoded straight
// from the mapped segment into the response (one copy); responses are written without a DOM.
#include <fmt/format.h>

#include <ctime>
#include <unordered_map>

#include "kinesd/api/error.hpp"
#include "kinesd/api/fast_path.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/request.hpp"
#include "kinesd/api/throttling.hpp"
#include "kinesd/common/base64.hpp"
#include "kinesd/common/logging.hpp"
#include "kinesd/shard/sequence_number.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::api::records {
namespace {

constexpr std::size_t max_put_records_bytes = 10u << 20;  // data + keys of one PutRecords
constexpr std::size_t max_get_records_bytes = 10u << 20;  // data of one GetRecords response
constexpr std::int64_t max_get_records_limit = 10000;

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("api");
    return l;
}

// Exact decoded size of base64 text (its validity is checked when it is decoded).
std::size_t decoded_size(std::string_view b64) {
    if (b64.size() < 4) return b64.size() * 3 / 4;
    std::size_t pad = (b64.back() == '=') + (b64[b64.size() - 2] == '=');
    return b64.size() / 4 * 3 - pad;
}

std::shared_ptr<stream> resolve_writable_stream(context& ctx, const stream_ref& ref, epoch_ms now) {
    auto s = resolve_stream(ctx, ref);
    if (!s->writable(now)) throw api_error::stream_not_found(s->name, s->account);
    return s;
}

// The hash key a record routes by: its ExplicitHashKey, else MD5 of its partition key.
// Fills ehk_bytes (16 bytes) when an explicit key is given.
uint128 record_hash(std::string_view partition_key, std::optional<std::string_view> explicit_key,
                    std::byte (&ehk_bytes)[16], bool& has_ehk) {
    has_ehk = false;
    if (!explicit_key) return hash_key::of_partition_key(partition_key).value;
    auto parsed = hash_key::parse(*explicit_key);
    if (!parsed)
        throw api_error::invalid_argument(fmt::format(
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
            "Specified value was {}",
            *explicit_key));
    parsed->to_bytes(ehk_bytes);
    has_ehk = true;
    return parsed->value;
}

// `entry` is the record's index in a PutRecords request, nullopt for PutRecord: it names the
// member in the validation message (built only when the check fails).
void check_record_size(const stream& s, std::size_t data_bytes, std::size_t key_bytes,
                       std::optional<std::size_t> entry) {
    const std::size_t limit = s.max_record_bytes();
    if (data_bytes > limit)
        throw api_error::validation(fmt::format(
            "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim={} cap={}]' at "
            "'{}' failed to satisfy constraint: Member must have length less than or equal to {}",
            data_bytes, data_bytes,
            entry ? fmt::format("records.{}.member.data", *entry + 1) : std::string("data"),
            limit));
    if (data_bytes + key_bytes > limit)
        throw api_error::invalid_argument(fmt::format(
            "The record size ({} bytes of data plus {} bytes of partition key) exceeds the "
            "stream's maximum record size of {} bytes.",
            data_bytes, key_bytes, limit));
}

// Decodes `data_b64` into a new frame of `batch`; returns the data bytes. Throws
// SerializationException if not base64.
std::size_t add_to_batch(storage::append_batch& batch, std::string_view key, bool has_ehk,
                         const std::byte (&ehk)[16], std::string_view data_b64) {
    auto span = batch.add(key, has_ehk ? std::span<const std::byte>(ehk, 16) : std::span<const std::byte>{},
                          base64::max_decoded_size(data_b64.size()));
    auto n = base64::decode_into(data_b64, span);
    if (!n) {
        batch.commit_data(0);
        throw api_error::serialization("Base64 encoded data is not valid.");
    }
    batch.commit_data(*n);
    return *n;
}

uint128 ordering_floor(std::optional<std::string_view> text, const shard& target, const stream& s,
                       epoch_ms now) {
    if (!text) return 0;
    auto seq = sequence_number::parse(*text);
    if (!seq || !seq->well_formed() || seq->time_ms() > now)
        throw api_error::invalid_argument(fmt::format(
            "ExclusiveMinimumSequenceNumber {} used in PutRecord on stream {} under account {} is "
            "invalid.",
            *text, s.name, s.account));
    // A number of another shard says nothing about this shard's order.
    return seq->shard_index() == target.info().id.index ? seq->value : 0;
}

// Time as Java's Date.toString() prints it in UTC ("Thu Jan 22 01:22:02 UTC 2015"), which is
// how AWS writes times in ExpiredIteratorException messages.
std::string java_date(epoch_ms ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S UTC %Y", &tm);
    return buf;
}

// How many times an append re-routes after finding its shard closed by resharding. One is
// enough (the new table is published before a closing shard's writes resume); more is a bug.
constexpr int max_reroutes = 8;

shard& route(const shard_table& table, uint128 hash, const stream& s) {
    shard* target = table.route(hash);
    if (!target) {
        logger()->error("stream {}: no open shard holds hash key {}", s.name, to_decimal(hash));
        throw api_error::internal_failure();
    }
    return *target;
}

}  // namespace

std::string put_record(context& ctx, const json& req) { return put_record_typed(ctx, put_record_from_json(req)); }

std::string put_record_typed(context& ctx, const put_record_input& in) {
    const epoch_ms now = ctx.time.now_ms();
    auto s = resolve_writable_stream(ctx, in.stream, now);
    const auto key = in.partition_key;
    const auto data = in.data;
    std::byte ehk[16];
    bool has_ehk = false;
    const uint128 hash = record_hash(key, in.explicit_hash_key, ehk, has_ehk);
    check_record_size(*s, decoded_size(data), key.size(), std::nullopt);
    // Decoded before anything is charged: on fast-path input, Data is first checked here.
    thread_local storage::append_batch batch;
    batch.clear();
    const std::size_t data_bytes = add_to_batch(batch, key, has_ehk, ehk, data);
    auto table = s->shards();
    shard* target = &route(*table, hash, *s);
    uint128 floor = ordering_floor(in.sequence_number_for_ordering, *target, *s, now);
    // Throughput is charged to the shard first routed to, also if resharding re-routes below.
    admit_put_record(ctx, *s, *target, decoded_size(data) + key.size(), now);
    uint128 seq = 0;
    epoch_ms arrival = 0;
    std::uint64_t commit_ticket = 0;
    for (int reroutes = 0;; ++reroutes) {
        auto ec = target->append(batch, now, floor, {&seq, 1}, arrival,
                                 ctx.commits ? &commit_ticket : nullptr);
        if (!ec) break;
        if (ec == shard_errc::closed && reroutes < max_reroutes) {
            // Resharding closed the shard after we routed: route again on the new table.
            table = s->shards();
            target = &route(*table, hash, *s);
            floor = ordering_floor(in.sequence_number_for_ordering, *target, *s, now);
            continue;
        }
        logger()->error("request {}: append to {} {} failed: {}", ctx.request_id, s->name,
                        target->info().id.str(), ec.message());
        throw ec == shard_errc::closed ? api_error::internal_failure() : to_api_error(ec);
    }
    if (commit_ticket) ctx.commits->push_back({table, target, commit_ticket});
    target->metrics().add_incoming(1, data_bytes);
    std::string out;
    out.reserve(96);
    out += R"({"ShardId":")";
    target->info().id.append_to(out);
    out += R"(","SequenceNumber":")";
    append_decimal(out, seq);
    out += "\"}";
    return out;
}

std::string put_records(context& ctx, const json& req) {
    return put_records_typed(ctx, put_records_from_json(req));
}

std::string put_records_typed(context& ctx, const put_records_input& in) {
    const epoch_ms now = ctx.time.now_ms();
    auto s = resolve_writable_stream(ctx, in.stream, now);
    const auto& records = in.records;
    const std::size_t n = records.size();

    // Route and size-check every record before writing any.
    struct routed {
        shard* target;
        std::size_t group;
        bool has_ehk;
        std::byte ehk[16];
        entry_refusal refusal;
    };
    thread_local std::vector<routed> routes;
    routes.resize(n);
    auto table = s->shards();
    std::size_t total_bytes = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& r = records[i];
        const auto key = r.partition_key;
        const auto data = r.data;
        const uint128 hash = record_hash(key, r.explicit_hash_key, routes[i].ehk, routes[i].has_ehk);
        const std::size_t data_bytes = decoded_size(data);
        check_record_size(*s, data_bytes, key.size(), i);
        total_bytes += data_bytes + key.size();
        routes[i].target = &route(*table, hash, *s);
    }
    if (total_bytes > max_put_records_bytes)
        throw api_error::invalid_argument(fmt::format(
            "Records size exceeds the limit of {} bytes: the request has {} bytes of data and "
            "partition keys.",
            max_put_records_bytes, total_bytes));

    // One batch per shard, in order of first appearance; records keep their order within it.
    // Each record is admitted (throughput, injected faults) in request order before it joins
    // its batch; a refused record is left out and answered with its ErrorCode.
    thread_local std::vector<storage::append_batch> batches;
    thread_local std::vector<shard*> group_shards;
    thread_local std::unordered_map<shard*, std::size_t> group_of;
    thread_local std::vector<char> group_blocked;  // a record of the shard was throttled
    thread_local std::vector<std::uint64_t> group_bytes;  // data bytes per group, for metrics
    group_shards.clear();
    group_of.clear();
    group_blocked.clear();
    group_bytes.clear();
    std::int64_t injected_latency_ms = 0;
    for (std::size_t i = 0; i < n; ++i) {
        auto [it, inserted] = group_of.try_emplace(routes[i].target, group_shards.size());
        if (inserted) {
            group_shards.push_back(routes[i].target);
            group_blocked.push_back(false);
            if (batches.size() < group_shards.size()) batches.emplace_back();
            batches[it->second].clear();
            group_bytes.push_back(0);
        }
        routes[i].group = it->second;
        const auto& r = records[i];
        const auto key = r.partition_key;
        const auto data = r.data;
        bool blocked = group_blocked[it->second];
        routes[i].refusal = admit_put_records_entry(ctx, *s, *routes[i].target, decoded_size(data) + key.size(),
                                                    now, blocked, injected_latency_ms);
        group_blocked[it->second] = blocked;
        if (routes[i].refusal != entry_refusal::none) continue;
        group_bytes[it->second] += add_to_batch(batches[it->second], key, routes[i].has_ehk, routes[i].ehk, data);
    }
    delay_answer(ctx, injected_latency_ms);

    thread_local std::vector<uint128> seqs;
    thread_local std::vector<std::size_t> seq_start;  // first index in seqs of each group
    thread_local std::vector<bool> group_failed;
    thread_local std::vector<int> group_reroutes;
    seqs.assign(n, 0);
    seq_start.assign(group_shards.size(), 0);
    group_failed.assign(group_shards.size(), false);
    group_reroutes.assign(group_shards.size(), 0);
    std::size_t offset = 0;
    // Groups are appended in order; a group whose shard resharding closed after we routed is
    // routed again on the new table into new groups at the end (its records keep their order).
    for (std::size_t g = 0; g < group_shards.size(); ++g) {
        seq_start[g] = offset;
        epoch_ms arrival = 0;
        auto& batch = batches[g];
        if (batch.empty()) continue;  // every record for the shard was refused
        if (seqs.size() < offset + batch.size()) seqs.resize(offset + batch.size());
        std::uint64_t commit_ticket = 0;
        auto ec =
            group_shards[g]->append(batch, now, 0, std::span(seqs).subspan(offset, batch.size()),
                                    arrival, ctx.commits ? &commit_ticket : nullptr);
        if (ec == shard_errc::closed && group_reroutes[g] < max_reroutes) {
            table = s->shards();
            group_of.clear();
            for (std::size_t i = 0; i < n; ++i) {
                // Refused records are not in the batch; admitted ones stay charged to the parent.
                if (routes[i].group != g || routes[i].refusal != entry_refusal::none) continue;
                const auto& r = records[i];
                const auto key = r.partition_key;
                const uint128 hash =
                    routes[i].has_ehk ? hash_key::from_bytes(routes[i].ehk).value
                                      : hash_key::of_partition_key(key).value;
                routes[i].target = &route(*table, hash, *s);
                auto [it, inserted] = group_of.try_emplace(routes[i].target, group_shards.size());
                if (inserted) {
                    group_shards.push_back(routes[i].target);
                    if (batches.size() < group_shards.size()) batches.emplace_back();
                    batches[it->second].clear();
                    seq_start.push_back(0);
                    group_failed.push_back(false);
                    group_reroutes.push_back(group_reroutes[g] + 1);
                    group_bytes.push_back(0);
                }
                routes[i].group = it->second;
                group_bytes[it->second] += add_to_batch(batches[it->second], key, routes[i].has_ehk,
                                                        routes[i].ehk, r.data);
            }
            continue;  // no record refers to group g any more
        }
        if (ec) {
            logger()->error("request {}: append to {} {} failed: {}", ctx.request_id, s->name,
                            group_shards[g]->info().id.str(), ec.message());
            group_failed[g] = true;
        } else {
            if (commit_ticket) ctx.commits->push_back({table, group_shards[g], commit_ticket});
            group_shards[g]->metrics().add_incoming(batch.size(), group_bytes[g]);
        }
        offset += batch.size();
    }

    std::size_t failed = 0;
    std::string out;
    out.reserve(32 + n * 96);
    out += R"({"Records":[)";
    thread_local std::vector<std::size_t> next_in_group;
    next_in_group.assign(group_shards.size(), 0);
    for (std::size_t i = 0; i < n; ++i) {
        if (i) out.push_back(',');
        const std::size_t g = routes[i].group;
        if (routes[i].refusal == entry_refusal::throttled) {
            ++failed;
            out += R"({"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":)";
            append_json_string(out, write_throttled_message(*s, *routes[i].target));
            out += '}';
            continue;
        }
        if (routes[i].refusal == entry_refusal::internal_failure) {
            ++failed;
            out += R"({"ErrorCode":"InternalFailure","ErrorMessage":"Internal service failure."})";
            continue;
        }
        const std::size_t k = seq_start[g] + next_in_group[g]++;
        if (group_failed[g]) {
            ++failed;
            out += R"({"ErrorCode":"InternalFailure","ErrorMessage":"Internal service failure."})";
            continue;
        }
        out += R"({"SequenceNumber":")";
        append_decimal(out, seqs[k]);
        out += R"(","ShardId":")";
        routes[i].target->info().id.append_to(out);
        out += "\"}";
    }
    out += R"(],"FailedRecordCount":)";
    out += std::to_string(failed);
    out += '}';
    return out;
}

std::string get_shard_iterator(context& ctx, const json& req) {
    const epoch_ms now = ctx.time.now_ms();
    auto s = resolve_stream(ctx, req);
    const auto shard_text = *string_member(req, "ShardId");
    auto id = shard_id::parse(shard_text);
    if (!id)
        throw api_error("ResourceNotFoundException",
                        fmt::format("Could not find shard {} in stream {} under account {}.",
                                    shard_text, s->name, s->account));
    auto table = s->shards();
    // A stream still CREATING (or DELETING) has no shards to iterate, as on AWS.
    const shard* target = s->writable(now) ? table->find(id->index) : nullptr;
    if (!target) throw api_error::shard_not_found(id->str(), s->name, s->account);
    const std::string shard_name = target->info().id.str();
    const auto type = *string_member(req, "ShardIteratorType");
    const auto starting = string_member(req, "StartingSequenceNumber");
    const auto timestamp = timestamp_member(req, "Timestamp");
    const bool needs_sequence = type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER";
    if (needs_sequence != starting.has_value())
        throw api_error::invalid_argument(fmt::format(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
            "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
            "Request specified {} and {} StartingSequenceNumber.",
            type, starting ? "also a" : "no"));

    iterator_position pos;
    pos.stream_name = s->name;
    pos.stream_uid = s->uid;
    pos.shard_index = target->info().id.index;
    pos.issued_ms = now;
    if (needs_sequence) {
        auto seq = sequence_number::parse(*starting);
        if (!seq || !seq->well_formed())
            throw api_error::invalid_argument(fmt::format(
                "StartingSequenceNumber {} used in GetShardIterator on shard {} in stream {} under "
                "account {} is invalid.",
                *starting, shard_name, s->name, s->account));
        if (seq->shard_index() != pos.shard_index)
            throw api_error::invalid_argument(fmt::format(
                "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a "
                "shard with {}",
                shard_id{seq->shard_index()}.str(), shard_name));
        if (seq->value < sequence_number::first_of(pos.shard_index, s->created_ms).value)
            throw api_error::invalid_argument(fmt::format(
                "StartingSequenceNumber {} used in GetShardIterator on shard {} in stream {} under "
                "account {} is invalid because it did not come from this stream.",
                *starting, shard_name, s->name, s->account));
        pos.after_seq = type == "AT_SEQUENCE_NUMBER" ? seq->value - 1 : seq->value;
    } else if (type == "AT_TIMESTAMP") {
        if (!timestamp)
            throw api_error::invalid_argument(
                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                "Current request has no timestamp parameter.");
        if (*timestamp > now)
            throw api_error::invalid_argument(fmt::format(
                "The timestampInMillis parameter cannot be greater than the "
                "currentTimestampInMillis. timestampInMillis: {}, currentTimestampInMillis: {}",
                *timestamp, now));
        pos.min_arrival_ms = *timestamp;
    } else if (type == "LATEST") {
        pos.after_seq = target->log().last_seq();
    }  // TRIM_HORIZON: from the oldest retained record.
    std::string out = R"({"ShardIterator":)";
    append_json_string(out, ctx.streams.iterators().encode(pos));
    out += '}';
    return out;
}

std::string get_records(context& ctx, const json& req) { return get_records_typed(ctx, get_records_from_json(req)); }

std::string get_records_typed(context& ctx, const get_records_input& in) {
    const epoch_ms now = ctx.time.now_ms();
    const auto text = in.shard_iterator;
    auto pos = ctx.streams.iterators().decode(text);
    if (!pos) throw api_error::invalid_argument("Invalid ShardIterator.");
    if (now - pos->issued_ms > iterator_lifetime_ms)
        throw api_error("ExpiredIteratorException",
                        fmt::format("Iterator expired. The iterator was created at time {} while "
                                    "right now it is {} which is further in the future than the "
                                    "tolerated delay of {} milliseconds.",
                                    java_date(pos->issued_ms), java_date(now), iterator_lifetime_ms));
    if (ctx.log_stream) ctx.log_stream->assign(pos->stream_name);
    auto s = ctx.streams.find(stream_key{ctx.account, ctx.region, pos->stream_name});
    auto table = s && s->uid == pos->stream_uid && s->writable(now) ? s->shards() : nullptr;
    const shard* source = table ? table->find(pos->shard_index) : nullptr;
    if (!source)
        throw api_error::shard_not_found(shard_id{pos->shard_index}.str(), pos->stream_name,
                                         ctx.account);
    admit_get_records(ctx, *s, *source, now);
    const std::int64_t limit = std::min(in.limit.value_or(max_get_records_limit),
                                        max_get_records_limit);
    // Expired records are never returned, whether or not the reaper has deleted them yet.
    const epoch_ms retention_cutoff = s->retention_cutoff_ms(now);

    storage::read_request read;
    read.after = pos->after_seq;
    read.min_arrival_ms = std::max(pos->min_arrival_ms, retention_cutoff);
    read.max_records = static_cast<std::size_t>(limit);
    read.max_bytes = max_get_records_bytes;

    // Sized before it is written: a 10,000-record answer is ~14 MiB, and growing the string
    // by doubling cost a copy and fresh page faults per step (perf: memmove and page faults
    // were over half of GetRecords). The sizing pass reads only the frame headers (no CRC:
    // checking 10 MiB of data twice was a quarter of the server's time in a drain); appends that
    // land between the passes only make `out` grow.
    // Per record besides Data and the key: 150 bytes of names, punctuation, a sequence number
    // of up to 39 digits and the timestamp; a key that needs escaping may still make it grow.
    constexpr std::size_t record_overhead = 192;
    std::size_t estimate = 256;
    storage::read_request sizing = read;
    sizing.check_crc = false;
    source->log().read(sizing, [&](const storage::record_view& r) {
        estimate += base64::encoded_size(r.data.size()) + r.partition_key.size() + record_overhead;
    });
    std::string out;
    out.reserve(estimate);
    out += R"({"Records":[)";
    epoch_ms last_arrival = 0;
    bool first = true;
    auto result = source->log().read(read, [&](const storage::record_view& r) {
        if (!first) out.push_back(',');
        first = false;
        append_record_json(out, r);
        last_arrival = r.arrival_ms;
    });
    out += "]";
    charge_get_records(ctx, *source, result.data_bytes, now);
    // Iterator age: how old the last record returned is (0 when none was).
    const epoch_ms iterator_age = result.records > 0 ? std::max<epoch_ms>(0, now - last_arrival) : 0;
    source->metrics().add_outgoing(result.records, result.data_bytes, iterator_age);

    // The end of a closed shard: no next iterator, the children instead (as AWS answers). The
    // table says closed only once no append can reach the shard, so reached_end is final.
    const shard_info* info = table->info(pos->shard_index);
    if (info && info->ending_seq && result.reached_end) {
        append_child_shards(out, *table, pos->shard_index);
        out += R"(,"MillisBehindLatest":0})";
        return out;
    }
    iterator_position next = *pos;
    next.issued_ms = now;
    if (result.records > 0) {
        next.after_seq = result.last_seq;
        next.min_arrival_ms = 0;  // the position now says where to continue
    }
    out += R"(,"NextShardIterator":)";
    append_json_string(out, ctx.streams.iterators().encode(next));
    out += R"(,"MillisBehindLatest":)";
    out += std::to_string(result.reached_end ? 0 : iterator_age);
    out += '}';
    return out;
}

}  // namespace kinesd::api::records
