// SubscribeToShard: validates the request as AWS does before the event stream starts (plain
// JSON errors, HTTP 400), then hands the transport a `subscription` (subscription.hpp) that
// reads the shard's log and frames SubscribeToShardEvents.
#include <fmt/format.h>

#include <mutex>
#include <unordered_map>

#include "kinesd/api/error.hpp"
#include "kinesd/api/event_stream.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/request.hpp"
#include "kinesd/api/resources.hpp"
#include "kinesd/api/subscription.hpp"
#include "kinesd/common/base64.hpp"
#include "kinesd/config/config.hpp"
#include "kinesd/shard/sequence_number.hpp"
#include "kinesd/shard/stream.hpp"

namespace kinesd::api {
namespace {

// When each (consumer ARN, shard) last subscribed, for the 5-second rule. Control plane: one
// lookup per SubscribeToShard call, never on the data path.
class recent_subscriptions {
public:
    // Records a subscription at `now`; false if the same key subscribed less than 5 s ago.
    bool try_start(const std::string& key, epoch_ms now) {
        std::lock_guard lock(mu_);
        if (started_.size() > 4096) std::erase_if(started_, [&](const auto& e) {
                return now - e.second >= resubscribe_interval_ms;
            });
        auto [it, inserted] = started_.try_emplace(key, now);
        if (!inserted) {
            if (now - it->second < resubscribe_interval_ms && now >= it->second) return false;
            it->second = now;
        }
        return true;
    }

private:
    std::mutex mu_;
    std::unordered_map<std::string, epoch_ms> started_;
};

recent_subscriptions& recent() {
    static recent_subscriptions r;
    return r;
}

}  // namespace

// Read throughput of one subscription (--throttle on); debt up to one 10 MiB read.
constexpr throttle::bucket_limits subscription_limits{subscription_bytes_per_second,
                                                      subscription_bytes_per_second,
                                                      static_cast<double>(10 << 20)};

subscription::subscription(std::shared_ptr<stream> s, std::shared_ptr<const shard> source,
                           uint128 after_seq, epoch_ms min_arrival_ms, uint128 continuation_floor,
                           epoch_ms started_ms, bool metered)
    : stream_(std::move(s)),
      source_(std::move(source)),
      shard_index_(source_->info().id.index),
      after_seq_(after_seq),
      min_arrival_ms_(min_arrival_ms),
      continuation_floor_(continuation_floor),
      started_ms_(started_ms),
      last_event_ms_(started_ms),
      metered_(metered) {}

subscription::~subscription() {
    if (waker_id_) source_->appended().remove(waker_id_);
}

void subscription::set_waker(std::function<void()> wake) {
    if (waker_id_) source_->appended().remove(waker_id_);
    wake_ = std::move(wake);
    // Called on appending threads: only the flag and the transport's (posting) callback, once
    // per poll() however many appends come in between.
    waker_id_ = source_->appended().add([this] {
        if (!wake_pending_.exchange(true, std::memory_order_seq_cst)) wake_();
    });
}

std::int64_t subscription::next_deadline_in(epoch_ms now) const {
    if (ended_ || wake_pending_.load(std::memory_order_seq_cst)) return 0;
    epoch_ms due = std::min(last_event_ms_ + subscription_heartbeat_ms,
                            started_ms_ + subscription_lifetime_ms);
    if (backlog_) {
        // Records are waiting: at once, or when the bucket holds a token again.
        const double tokens = metered_ ? bytes_out_.available(subscription_limits, now) : 1.0;
        const auto refill_ms = tokens > 0 ? 0
                                          : static_cast<std::int64_t>(
                                                -tokens * 1000.0 / subscription_bytes_per_second) + 1;
        due = std::min(due, now + refill_ms);
    }
    return std::max<std::int64_t>(0, due - now);
}

bool subscription::poll(epoch_ms now, std::string& out) {
    if (ended_) return false;
    // Before reading: an append after this point wakes the transport again.
    wake_pending_.store(false, std::memory_order_seq_cst);
    if (!initial_sent_) {
        initial_sent_ = true;
        event_stream::append_event(out, "initial-response", "{}");
    }
    if (now - started_ms_ >= subscription_lifetime_ms) {
        ended_ = true;  // AWS simply ends the stream; the client subscribes again
        return false;
    }
    auto table = stream_->shards();
    if (!table->find(shard_index_) || !stream_->writable(now)) {
        ended_ = true;
        event_stream::append_exception(
            out, "ResourceNotFoundException",
            fmt::format("Shard {} in stream {} under account {} does not exist",
                        shard_id{shard_index_}.str(), stream_->name, stream_->account));
        return false;
    }
    storage::read_request read;
    read.after = after_seq_;
    read.min_arrival_ms = std::max(min_arrival_ms_, stream_->retention_cutoff_ms(now));
    read.max_records = 10'000;
    read.max_bytes = max_event_bytes;
    const auto& limits = subscription_limits;
    if (metered_) {
        // Over budget: nothing is read until the bucket refills (heartbeats still go out);
        // else at most what the bucket holds (the first record always, then debt repays it).
        const double available = bytes_out_.available(limits, now);
        read.max_records = available > 0 ? read.max_records : 0;
        read.max_bytes = std::min<std::size_t>(max_event_bytes,
                                               static_cast<std::size_t>(std::max(available, 1.0)));
    }

    std::string payload = R"({"Records":[)";
    epoch_ms last_arrival = 0;
    bool first = true;
    auto result = source_->log().read(read, [&](const storage::record_view& r) {
        if (!first) payload.push_back(',');
        first = false;
        append_record_json(payload, r);
        last_arrival = r.arrival_ms;
    });
    payload += ']';
    if (metered_ && result.data_bytes > 0) bytes_out_.charge(limits, static_cast<double>(result.data_bytes), now);
    backlog_ = !result.reached_end;
    if (result.records > 0) {
        after_seq_ = result.last_seq;
        min_arrival_ms_ = 0;
    }
    // The end of a closed shard: the last event names the children and carries no
    // ContinuationSequenceNumber (how the KCL recognises the shard's end).
    const shard_info* info = table->info(shard_index_);
    if (info && info->ending_seq && result.reached_end) {
        append_child_shards(payload, *table, shard_index_);
        payload += R"(,"MillisBehindLatest":0})";
        event_stream::append_event(out, "SubscribeToShardEvent", payload);
        ended_ = true;
        return false;
    }
    if (result.records == 0 && now - last_event_ms_ < subscription_heartbeat_ms) return true;
    last_event_ms_ = now;
    payload += R"(,"ContinuationSequenceNumber":")";
    payload += to_decimal(after_seq_ > 0 ? std::max(after_seq_, continuation_floor_) : continuation_floor_);
    payload += R"(","MillisBehindLatest":)";
    const std::int64_t behind =
        result.reached_end || result.records == 0 ? 0 : std::max<std::int64_t>(0, now - last_arrival);
    payload += std::to_string(behind);
    payload += '}';
    event_stream::append_event(out, "SubscribeToShardEvent", payload);
    return true;
}

namespace subscribe {

std::string subscribe_to_shard(context& ctx, const json& req) {
    const epoch_ms now = ctx.time.now_ms();
    const auto arn = *string_member(req, "ConsumerARN");
    auto ref = resolve_consumer_arn(ctx, arn);  // ResourceNotFound for stream or consumer
    auto& s = ref.owner;
    {
        const auto st = s->settings();
        auto index = find_consumer(st, *ref.consumer, now, ref.consumer_created_s);
        if (!index) throw consumer_not_found(*s, *ref.consumer);
        if (consumer_status(st.extra["consumers"][*index], now) != consumer_state::active)
            throw consumer_not_active(ref);
    }
    const auto shard_text = *string_member(req, "ShardId");
    auto id = shard_id::parse(shard_text);
    auto table = s->shards();
    const shard* target = id && s->writable(now) ? table->find(id->index) : nullptr;
    if (!target) throw api_error::shard_not_found(shard_text, s->name, s->account);
    const shard_info& info = target->info();
    const std::string shard_name = info.id.str();

    const json& position = req.at("StartingPosition");
    const auto type = *string_member(position, "Type");
    const auto seq_text = string_member(position, "SequenceNumber");
    const auto timestamp = timestamp_member(position, "Timestamp");
    uint128 after = 0;
    epoch_ms min_arrival = 0;
    if (type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER") {
        if (!seq_text)
            throw api_error::invalid_argument(fmt::format(
                "StartingSequenceNumber must be provided for {} StartingPosition type.", type));
        auto seq = sequence_number::parse(*seq_text);
        if (!seq || !seq->well_formed() || seq->shard_index() != info.id.index ||
            seq->value < sequence_number::first_of(info.id.index, s->created_ms).value)
            throw api_error::invalid_argument(fmt::format(
                "StartingSequenceNumber {} used in SubscribeToShard on shard {} in stream {} under "
                "account {} is invalid.",
                *seq_text, shard_name, s->name, s->account));
        after = type == "AT_SEQUENCE_NUMBER" ? seq->value - 1 : seq->value;
    } else if (type == "AT_TIMESTAMP") {
        if (!timestamp)
            throw api_error::invalid_argument(
                "Timestamp must be provided for AT_TIMESTAMP StartingPosition type.");
        if (*timestamp > now)
            throw api_error::invalid_argument(fmt::format(
                "The timestampInMillis parameter cannot be greater than the "
                "currentTimestampInMillis. timestampInMillis: {}, currentTimestampInMillis: {}",
                *timestamp, now));
        min_arrival = *timestamp;
    } else if (type == "LATEST") {
        after = target->log().last_seq();
    }  // TRIM_HORIZON: from the oldest retained record.

    // The stream directory tells incarnations (and test instances) of one ARN apart.
    const std::string key = fmt::format("{}|{}|{}", s->dir.string(), arn, shard_name);
    if (!recent().try_start(key, now))
        throw api_error("ResourceInUseException",
                        fmt::format("Another active subscription exists for this consumer: "
                                    "{}:{}:{}:{}",
                                    s->account, s->name, shard_name, *ref.consumer));
    std::shared_ptr<const shard> source;
    for (const auto& sh : table->all)
        if (sh.get() == target) source = sh;
    ctx.streaming = std::make_shared<subscription>(s, std::move(source), after, min_arrival,
                                                   info.starting_seq, now, ctx.cfg.throttle);
    return {};
}

}  // namespace subscribe
}  // namespace kinesd::api
