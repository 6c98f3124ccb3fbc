// AddTagsToStream, RemoveTagsFromStream, ListTagsForStream (streams by name or ARN) and
// TagResource, UntagResource, ListTagsForResource (streams and consumers by ARN).
// Stream tags live in stream_settings.extra["tags"], consumer tags in the consumer's entry;
// both are JSON objects, so tags list in key order as AWS lists them.
#include <fmt/format.h>

#include "kinesd/api/error.hpp"
#include "kinesd/api/handlers.hpp"
#include "kinesd/api/request.hpp"
#include "kinesd/api/resources.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd::api {
namespace {

enum class tag_text { ok, invalid, percent };

// Kinesis accepts Unicode letters, digits, white space and _ . / = + - @ : in tags. AWS lists
// '%' as valid, yet refuses it with a message of its own; both messages are AWS's.
tag_text classify(std::string_view s) {
    bool percent = false;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
                continue;
            if (c == '%') {
                percent = true;
                continue;
            }
            if (std::string_view("_./=+-@: ").find(static_cast<char>(c)) != std::string_view::npos)
                continue;
            return tag_text::invalid;
        }
        // A multi-byte UTF-8 sequence (the JSON parser has checked it is well formed).
        const int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (i + static_cast<std::size_t>(len) > s.size()) return tag_text::invalid;
        char32_t cp = len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        for (int k = 1; k < len; ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        i += static_cast<std::size_t>(len);
        // Letters and digits of the scripts (Latin-1 letters up to Greek extended, then the
        // ranges from Glagolitic to Hangul); symbols and punctuation blocks are refused.
        if ((cp >= 0xC0 && cp <= 0x1FFF && cp != 0xD7 && cp != 0xF7) ||
            (cp >= 0x2C00 && cp <= 0xD7FF))
            continue;
        return tag_text::invalid;
    }
    return percent ? tag_text::percent : tag_text::ok;
}

json tag_list(const json& tags) {
    json out = json::array();
    for (auto it = tags.begin(); it != tags.end(); ++it)
        out.push_back({{"Key", it.key()}, {"Value", it.value()}});
    return out;
}

std::string what_of(const resource_ref& ref) {
    return ref.is_consumer() ? fmt::format("consumer {}", *ref.consumer)
                             : fmt::format("stream {}", ref.owner->name);
}

// The tags object of a resource inside settings being changed.
json& tags_of(stream_settings& st, const resource_ref& ref, epoch_ms now) {
    json& holder = ref.is_consumer() ? consumer_entry(st, ref, now) : st.extra;
    json& tags = holder["tags"];
    if (!tags.is_object()) tags = json::object();
    return tags;
}

void add_tags(context& ctx, const resource_ref& ref, const json& tags) {
    const auto what = what_of(ref);
    check_tag_characters(tags, "add tags to", what, ref.owner->account);
    const epoch_ms now = ctx.time.now_ms();
    update_settings(*ref.owner, [&](stream_settings& st) {
        merge_tags(tags_of(st, ref, now), tags, "add tags to", what, ref.owner->account);
    });
}

void remove_tags(context& ctx, const resource_ref& ref, const json& keys) {
    check_tag_characters(keys, "remove tags from", what_of(ref), ref.owner->account);
    const epoch_ms now = ctx.time.now_ms();
    update_settings(*ref.owner, [&](stream_settings& st) {
        json& tags = tags_of(st, ref, now);
        for (const auto& key : keys) tags.erase(key.get<std::string>());
    });
}

json current_tags(context& ctx, const resource_ref& ref) {
    auto st = ref.owner->settings();
    return tags_of(st, ref, ctx.time.now_ms());
}

resource_ref stream_ref(context& ctx, const json& req) {
    auto s = resolve_stream(ctx, req);
    return {s, std::nullopt, 0, s->arn};
}

}  // namespace

void check_tag_characters(const json& keys_or_map, std::string_view verb, std::string_view what,
                          std::string_view account) {
    bool percent = false;
    auto check = [&](std::string_view text) {
        switch (classify(text)) {
            case tag_text::ok:
                break;
            case tag_text::percent:
                percent = true;
                break;
            case tag_text::invalid:
                throw api_error::invalid_argument(
                    "Some tags contain invalid characters. Valid characters: Unicode letters, "
                    "digits, "
                    "white space, _ . / = + - % @ :.");
        }
    };
    if (keys_or_map.is_object()) {
        for (auto it = keys_or_map.begin(); it != keys_or_map.end(); ++it) {
            check(it.key());
            if (it.value().is_string()) check(it.value().get_ref<const std::string&>());
        }
    } else {
        for (const auto& key : keys_or_map)
            if (key.is_string()) check(key.get_ref<const std::string&>());
    }
    if (percent)
        throw api_error::invalid_argument(fmt::format(
            "Failed to {} {} under account {} because some tags contained illegal characters. The "
            "allowed characters are Unicode letters, white-spaces, "
            "'_',',','/','=','+','-','@',':'.",
            verb, what, account));
}

void merge_tags(json& into, const json& tags, std::string_view verb, std::string_view what,
                std::string_view account) {
    json merged = into.is_object() ? into : json::object();
    for (auto it = tags.begin(); it != tags.end(); ++it)
        merged[it.key()] = it.value().is_string() ? it.value() : json("");
    if (merged.size() > max_tags_per_resource) {
        const auto kind = what.substr(0, what.find(' '));
        throw api_error::invalid_argument(fmt::format(
            "Failed to {} {} under account {} because a given {} cannot have more than {} tags "
            "associated with it.",
            verb, what, account, kind, max_tags_per_resource));
    }
    into = std::move(merged);
}

namespace tags {

std::string add_tags_to_stream(context& ctx, const json& req) {
    add_tags(ctx, stream_ref(ctx, req), req.at("Tags"));
    return {};
}

std::string remove_tags_from_stream(context& ctx, const json& req) {
    remove_tags(ctx, stream_ref(ctx, req), req.at("TagKeys"));
    return {};
}

std::string list_tags_for_stream(context& ctx, const json& req) {
    const auto tags = current_tags(ctx, stream_ref(ctx, req));
    // AWS's default page is 10 tags; the model caps Limit at 50.
    const auto limit = static_cast<std::size_t>(int_member(req, "Limit").value_or(10));
    const auto start = string_member(req, "ExclusiveStartTagKey");
    const auto& map = tags.get_ref<const json::object_t&>();
    json list = json::array();
    bool more = false;
    for (auto it = start ? map.upper_bound(std::string(*start)) : map.begin(); it != map.end();
         ++it) {
        if (list.size() == limit) {
            more = true;
            break;
        }
        list.push_back({{"Key", it->first}, {"Value", it->second}});
    }
    return json{{"Tags", std::move(list)}, {"HasMoreTags", more}}.dump();
}

std::string tag_resource(context& ctx, const json& req) {
    add_tags(ctx, resolve_resource(ctx, *string_member(req, "ResourceARN")), req.at("Tags"));
    return {};
}

std::string untag_resource(context& ctx, const json& req) {
    remove_tags(ctx, resolve_resource(ctx, *string_member(req, "ResourceARN")), req.at("TagKeys"));
    return {};
}

std::string list_tags_for_resource(context& ctx, const json& req) {
    const auto tags = current_tags(ctx, resolve_resource(ctx, *string_member(req, "ResourceARN")));
    return json{{"Tags", tag_list(tags)}}.dump();
}

}  // namespace tags
}  // namespace kinesd::api
