#include "kinesd/api/fast_path.hpp"

#include <simdjson.h>

#include <string>

#include "kinesd/api/model.hpp"

namespace kinesd::api {
namespace {

namespace od = simdjson::ondemand;

// Model shapes the hot operations' members use, looked up once.
struct rules {
    const api_model& model = api_model::instance();
    api_model::shape_handle stream_name = model.shape_named("StreamName");
    api_model::shape_handle stream_arn = model.shape_named("StreamARN");
    api_model::shape_handle partition_key = model.shape_named("PartitionKey");
    api_model::shape_handle hash_key = model.shape_named("HashKey");
    api_model::shape_handle sequence_number = model.shape_named("SequenceNumber");
    api_model::shape_handle shard_iterator = model.shape_named("ShardIterator");
    api_model::shape_handle get_records_limit = model.shape_named("GetRecordsInputLimit");
    api_model::shape_handle entry_list = model.shape_named("PutRecordsRequestEntryList");
    std::int64_t max_data_bytes = model.max_of(model.shape_named("Data")).value_or(INT64_MAX);
};

const rules& r() {
    static const rules instance;
    return instance;
}

static_assert(fast_path_padding >= simdjson::SIMDJSON_PADDING,
              "fast_path_padding must cover what simdjson reads past the end of its input");

// The parser, and a buffer for bodies that come without simdjson's padding after them.
struct parse_state {
    od::parser parser;
    std::string padded;
    od::document doc;
};

parse_state& state() {
    thread_local parse_state s;
    return s;
}

// Parses in place when the caller's buffer has the padding after the body (the HTTP/1.1
// transport reserves it); otherwise copies the body once into a padded buffer. Either way the
// views the fast path hands out point into that input or into the parser's string buffer.
bool start(std::string_view body, std::size_t readable_past_end, od::object& obj) {
    auto& s = state();
    simdjson::padded_string_view view;
    if (readable_past_end >= simdjson::SIMDJSON_PADDING) {
        view =
            simdjson::padded_string_view(body.data(), body.size(), body.size() + readable_past_end);
    } else {
        s.padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
        s.padded.assign(body);
        view = simdjson::padded_string_view(s.padded.data(), s.padded.size(), s.padded.capacity());
    }
    if (s.parser.iterate(view).get(s.doc)) return false;
    return !s.doc.get_object().get(obj);
}

// True when the whole body was one JSON object (nothing after its closing brace).
bool document_consumed() {
    return state().doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

// A string member that must satisfy `shape`; false to decline (wrong type, null, violation).
bool read_string(od::value v, api_model::shape_handle shape, std::string_view& out) {
    if (v.get_string().get(out)) return false;
    return r().model.accepts(shape, out);
}

// JSON's insignificant whitespace, which raw_json_token() keeps after a token.
bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A base64 blob whose decoded size must fit the Data shape. Validity is checked on decode.
// Base64 text has no escapes, so the view is taken straight from the input (no copy into the
// parser's string buffer, which get_string() makes of every string); text with a backslash
// (e.g. "\/", which some serializers write for '/') is unescaped by get_string().
bool read_blob(od::value v, std::string_view& out) {
    std::string_view token = v.raw_json_token();  // the opening quote to the next token
    while (!token.empty() && is_json_space(token.back())) token.remove_suffix(1);
    if (token.size() < 2 || token.front() != '"' || token.back() != '"')
        return false;  // not a string
    out = token.substr(1, token.size() - 2);
    if (out.find('\\') != std::string_view::npos && v.get_string().get(out)) return false;
    if (out.size() % 4 != 0) return false;
    std::size_t pad = out.empty() ? 0 : (out.back() == '=') + (out[out.size() - 2] == '=');
    return static_cast<std::int64_t>(out.size() / 4 * 3 - pad) <= r().max_data_bytes;
}

bool read_stream_member(std::string_view key, od::value v, stream_ref& stream, bool& handled) {
    handled = true;
    std::string_view s;
    if (key == "StreamName") {
        if (!read_string(v, r().stream_name, s)) return false;
        stream.name = s;
    } else if (key == "StreamARN") {
        if (!read_string(v, r().stream_arn, s)) return false;
        stream.arn = s;
    } else if (key == "StreamId") {
        return false;  // rare: let the generic path check it
    } else {
        handled = false;
    }
    return true;
}

}  // namespace

const put_record_input* fast_put_record(std::string_view body, std::size_t readable_past_end) {
    thread_local put_record_input in;
    in = {};
    od::object obj;
    if (!start(body, readable_past_end, obj)) return nullptr;
    bool has_key = false, has_data = false;
    for (auto field : obj) {
        std::string_view key;
        od::value v;
        if (field.unescaped_key().get(key) || field.value().get(v)) return nullptr;
        bool handled = false;
        if (!read_stream_member(key, v, in.stream, handled)) return nullptr;
        if (handled) continue;
        std::string_view s;
        if (key == "PartitionKey") {
            if (!read_string(v, r().partition_key, in.partition_key)) return nullptr;
            has_key = true;
        } else if (key == "Data") {
            if (!read_blob(v, in.data)) return nullptr;
            has_data = true;
        } else if (key == "ExplicitHashKey") {
            if (!read_string(v, r().hash_key, s)) return nullptr;
            in.explicit_hash_key = s;
        } else if (key == "SequenceNumberForOrdering") {
            if (!read_string(v, r().sequence_number, s)) return nullptr;
            in.sequence_number_for_ordering = s;
        } else {
            // AWS ignores unknown members, but On-Demand skips them without validating their
            // JSON: let the generic path (full parse) handle such a body.
            return nullptr;
        }
    }
    if (!document_consumed()) return nullptr;
    return has_key && has_data ? &in : nullptr;
}

const put_records_input* fast_put_records(std::string_view body, std::size_t readable_past_end) {
    thread_local put_records_input in;
    in.stream = {};
    in.records.clear();
    od::object obj;
    if (!start(body, readable_past_end, obj)) return nullptr;
    bool has_records = false;
    for (auto field : obj) {
        std::string_view key;
        od::value v;
        if (field.unescaped_key().get(key) || field.value().get(v)) return nullptr;
        bool handled = false;
        if (!read_stream_member(key, v, in.stream, handled)) return nullptr;
        if (handled) continue;
        if (key != "Records") return nullptr;  // unknown member: see fast_put_record
        if (has_records) return nullptr;  // a repeated member: leave it to the generic path
        has_records = true;
        od::array list;
        if (v.get_array().get(list)) return nullptr;
        for (auto element : list) {
            od::object entry_obj;
            if (element.get_object().get(entry_obj)) return nullptr;
            put_records_entry entry;
            bool has_key = false, has_data = false;
            for (auto ef : entry_obj) {
                std::string_view ekey;
                od::value ev;
                if (ef.unescaped_key().get(ekey) || ef.value().get(ev)) return nullptr;
                std::string_view s;
                if (ekey == "PartitionKey") {
                    if (!read_string(ev, r().partition_key, entry.partition_key)) return nullptr;
                    has_key = true;
                } else if (ekey == "Data") {
                    if (!read_blob(ev, entry.data)) return nullptr;
                    has_data = true;
                } else if (ekey == "ExplicitHashKey") {
                    if (!read_string(ev, r().hash_key, s)) return nullptr;
                    entry.explicit_hash_key = s;
                } else {
                    return nullptr;  // unknown member: see fast_put_record
                }
            }
            if (!has_key || !has_data) return nullptr;
            in.records.push_back(entry);
        }
    }
    if (!document_consumed()) return nullptr;
    const auto n = static_cast<std::int64_t>(in.records.size());
    const auto& model = r().model;
    if (!has_records || n < model.min_of(r().entry_list).value_or(0) ||
        n > model.max_of(r().entry_list).value_or(INT64_MAX))
        return nullptr;
    return &in;
}

const get_records_input* fast_get_records(std::string_view body, std::size_t readable_past_end) {
    thread_local get_records_input in;
    in = {};
    od::object obj;
    if (!start(body, readable_past_end, obj)) return nullptr;
    bool has_iterator = false;
    for (auto field : obj) {
        std::string_view key;
        od::value v;
        if (field.unescaped_key().get(key) || field.value().get(v)) return nullptr;
        std::string_view s;
        if (key == "ShardIterator") {
            if (!read_string(v, r().shard_iterator, in.shard_iterator)) return nullptr;
            has_iterator = true;
        } else if (key == "Limit") {
            std::int64_t n = 0;
            if (v.get_int64().get(n) || !r().model.accepts(r().get_records_limit, n)) return nullptr;
            in.limit = n;
        } else if (key == "StreamARN") {
            if (!read_string(v, r().stream_arn, s)) return nullptr;
            in.stream_arn = s;
        } else {
            return nullptr;  // StreamId or an unknown member: see fast_put_record
        }
    }
    if (!document_consumed()) return nullptr;
    return has_iterator ? &in : nullptr;
}

namespace {

std::optional<std::string_view> str(const nlohmann::json& j, const char* name) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return std::string_view(it->get_ref<const std::string&>());
}

stream_ref stream_of(const nlohmann::json& req) { return {str(req, "StreamName"), str(req, "StreamARN")}; }

}  // namespace

put_record_input put_record_from_json(const nlohmann::json& req) {
    return {stream_of(req), *str(req, "PartitionKey"), *str(req, "Data"), str(req, "ExplicitHashKey"),
            str(req, "SequenceNumberForOrdering")};
}

put_records_input put_records_from_json(const nlohmann::json& req) {
    put_records_input in{stream_of(req), {}};
    for (const auto& r : req.at("Records"))
        in.records.push_back({*str(r, "PartitionKey"), *str(r, "Data"), str(r, "ExplicitHashKey")});
    return in;
}

get_records_input get_records_from_json(const nlohmann::json& req) {
    get_records_input in{*str(req, "ShardIterator"), std::nullopt, str(req, "StreamARN")};
    if (auto it = req.find("Limit"); it != req.end() && it->is_number()) {
        // Coral floors and clamps, as validation did (see request.cpp int_member).
        double d = it->get<double>();
        in.limit = static_cast<std::int64_t>(d > 2147483647.0 ? 2147483647.0 : d);
    }
    return in;
}

}  // namespace kinesd::api
