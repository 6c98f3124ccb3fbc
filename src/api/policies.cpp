// PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy for streams and consumers.
// The policy document is stored (stream: extra["resource_policy"], consumer: its "policy") and
// returned as given; kinesd does not evaluate it (docs/compatibility.md).
#include <fmt/format.h>

#include "kinesd/api/error.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/request.hpp"
#include "kinesd/api/resources.hpp"

namespace kinesd::api {
namespace {

json& policy_holder(stream_settings& st, const resource_ref& ref, epoch_ms now) {
    return ref.is_consumer() ? consumer_entry(st, ref, now) : st.extra;
}

const char* policy_key(const resource_ref& ref) {
    return ref.is_consumer() ? "policy" : "resource_policy";
}

}  // namespace

namespace policies {

std::string put_resource_policy(context& ctx, const json& req) {
    auto ref = resolve_resource(ctx, *string_member(req, "ResourceARN"));
    const auto policy = std::string(*string_member(req, "Policy"));
    auto doc = json::parse(policy, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        throw api_error::invalid_argument("Policy is not a valid JSON policy document.");
    const epoch_ms now = ctx.time.now_ms();
    update_settings(*ref.owner, [&](stream_settings& st) {
        json& holder = policy_holder(st, ref, now);
        // AWS attaches a policy only to a consumer that has finished registering.
        if (ref.is_consumer() && consumer_status(holder, now) != consumer_state::active)
            throw consumer_not_active(ref);
        holder[policy_key(ref)] = policy;
    });
    return {};
}

std::string get_resource_policy(context& ctx, const json& req) {
    auto ref = resolve_resource(ctx, *string_member(req, "ResourceARN"));
    auto st = ref.owner->settings();
    const json& holder = policy_holder(st, ref, ctx.time.now_ms());
    // A resource without a policy has the empty policy.
    return json{{"Policy", holder.value(policy_key(ref), std::string("{}"))}}.dump();
}

std::string delete_resource_policy(context& ctx, const json& req) {
    auto ref = resolve_resource(ctx, *string_member(req, "ResourceARN"));
    const epoch_ms now = ctx.time.now_ms();
    update_settings(*ref.owner, [&](stream_settings& st) {
        json& holder = policy_holder(st, ref, now);
        if (!holder.contains(policy_key(ref)))
            throw api_error("ResourceNotFoundException",
                            fmt::format("No resource policy found for resource ARN {}.", ref.arn));
        holder.erase(policy_key(ref));
    });
    return {};
}

}  // namespace policies
}  // namespace kinesd::api
