// Request validation driven by the API model.
//
// The model is compiled once, at load, into a graph of `shape` nodes (one per model shape, with
// its constraints, precomputed message fragments and compiled pattern) and a table from
// operation name to input shape. validate_input() then makes two walks over the request,
// following the input shape, in the model's member order:
//   1. types: the first member whose JSON type does not fit its shape throws
//      SerializationException, with the Coral (AWS's Java framework) wording that kinesalite
//      reproduces (validations/index.js, checkTypes);
//   2. constraints: every violation, up to 10 as AWS reports, is collected into one
//      ValidationException (kinesalite validations/index.js, checkValidations).
// Neither walk allocates while the request is valid: member lookups use the precompiled
// std::string keys, member paths live on the stack and are only rendered for an error.
#include "kinesd/api/model.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>

#include "kinesd/api/error.hpp"
#include "kinesd/api/model_pattern.hpp"

namespace kinesd::api {
namespace {

using json = nlohmann::json;
namespace dom = simdjson::dom;

// Coral names the generated Java class of a structure after the service's namespace; AWS
// prints list elements of structure type as "<class>@<hash>".
constexpr std::string_view java_package = "com.amazonaws.kinesis.v20131202.";
// AWS stops collecting validation errors at 10 (kinesalite checkValidations:
// `if (errors.length >= 10) return`; test/putRecords.js "too many records" expects 10).
constexpr std::size_t max_reported_errors = 10;

enum class shape_kind {
    structure,
    list,
    map,
    string,
    integer,
    long_,
    float_,
    double_,
    boolean,
    blob,
    timestamp,
};

struct shape;

struct member_rule {
    std::string json_name;  // "StreamName": the key in the request body
    std::string path_name;  // "streamName": as AWS prints it in a member path
    const shape* target = nullptr;
    bool required = false;
};

struct shape {
    std::string name;
    shape_kind kind = shape_kind::structure;

    // Lengths (string: code points, blob: decoded bytes, list/map: entries) or values
    // (integer, long, float, double).
    std::optional<std::int64_t> min;
    std::optional<std::int64_t> max;
    std::optional<double> min_value_d;  // float/double bounds
    std::optional<double> max_value_d;
    std::unique_ptr<pattern_matcher> pattern;
    std::vector<std::string> enum_values;

    // Precomputed message fragments ("Member must have length less than or equal to 128").
    std::string min_message;
    std::string max_message;
    std::string pattern_message;
    std::string enum_message;
    // For a list element or map key/value: AWS reports one error for the whole collection,
    // "Member must satisfy constraint: [<every constraint of this shape>]".
    std::string constraint_list;

    std::vector<member_rule> members;  // structure, in model order
    const shape* element = nullptr;    // list
    const shape* key = nullptr;        // map
    const shape* value = nullptr;      // map
    std::string java_class;            // structure

    bool is_scalar() const {
        return kind != shape_kind::structure && kind != shape_kind::list && kind != shape_kind::map;
    }
    bool has_scalar_constraints() const {
        return min || max || min_value_d || max_value_d || pattern || !enum_values.empty();
    }
};

// A member path as a chain of stack frames: "records" -> 1 -> "member" -> "partitionKey".
// Rendered only when an error is reported.
struct path_node {
    const path_node* parent = nullptr;
    std::string_view name;  // empty for an index node
    std::size_t index = 0;  // 1-based list index when name is empty
};

void append_path(std::string& out, const path_node* node) {
    if (node == nullptr) return;
    append_path(out, node->parent);
    if (node->parent != nullptr) out += '.';
    if (node->name.empty()) {
        out += std::to_string(node->index);
    } else {
        out += node->name;
    }
}

std::string lower_first(std::string_view s) {
    std::string out{s};
    if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z')
        out[0] = static_cast<char>(out[0] - 'A' + 'a');
    return out;
}

// Number of Unicode code points in valid UTF-8 (nlohmann::json rejects invalid UTF-8).
std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    }
    return n;
}

// ----------------------------------------------------------------------------------------------
// Type check (SerializationException)

[[noreturn]] void type_error(const std::string& message) {
    throw api_error::serialization(message);
}

constexpr std::string_view start_of_list = "Start of list found where not expected";
constexpr std::string_view start_of_structure =
    "Start of structure or map found where not expected.";
constexpr std::string_view big_number =
    "class com.amazon.coral.value.json.numbers.TruncatingBigNumber";

std::string_view numeric_java_name(shape_kind kind) {
    switch (kind) {
        case shape_kind::integer:
            return "Integer";
        case shape_kind::long_:
            return "Long";
        case shape_kind::float_:
            return "Float";
        default:
            return "Double";
    }
}

// 1 for the 64 characters of the base64 alphabet, 2 for '=', 0 otherwise.
constexpr std::array<std::uint8_t, 256> base64_classes = [] {
    std::array<std::uint8_t, 256> t{};
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = 1;
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = 1;
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = 1;
    t['+'] = 1;
    t['/'] = 1;
    t['='] = 2;
    return t;
}();

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : 63;
}

// Decoded length of base64 text that check_base64 accepted.
std::size_t decoded_length(std::string_view s) {
    std::size_t pad = 0;
    while (pad < 2 && pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
    return s.size() / 4 * 3 - pad;
}

// Checks that `s` is canonical, padded base64 as Coral requires; returns the decoded length.
// Messages (including AWS's "dectected") from kinesalite validations/index.js and
// test/helpers.js assertType 'Blob'. Runs on every record's Data: one table lookup per byte.
std::size_t check_base64(const std::string& s) {
    std::size_t first_other = 0;  // first byte outside the alphabet ('=' included)
    const auto* bytes = reinterpret_cast<const unsigned char*>(s.data());
    // Eight bytes a step while they are all in the alphabet: this loop is most of the time
    // validation takes on a PutRecords of large records.
    while (first_other + 8 <= s.size()) {
        const unsigned char* b = bytes + first_other;
        unsigned all = base64_classes[b[0]] & base64_classes[b[1]] & base64_classes[b[2]] &
                       base64_classes[b[3]] & base64_classes[b[4]] & base64_classes[b[5]] &
                       base64_classes[b[6]] & base64_classes[b[7]];
        if (all != 1) break;
        first_other += 8;
    }
    while (first_other < s.size() && base64_classes[bytes[first_other]] == 1) ++first_other;
    std::size_t length = first_other == s.size() ? s.size() : code_points(s);
    if (length % 4 != 0) {
        type_error(
            fmt::format("'{}' can not be converted to a Blob: Base64 encoded length is "
                        "expected a multiple of 4 bytes but found: {}",
                        s, length));
    }
    if (first_other == s.size()) return s.size() / 4 * 3;  // no padding: always canonical

    for (std::size_t i = first_other; i < s.size(); ++i) {
        std::uint8_t cls = base64_classes[static_cast<unsigned char>(s[i])];
        if (cls == 1) continue;
        std::string_view shown{&s[i], 1};
        if (cls == 2) {
            if (i + 1 == s.size() || s[i + 1] == '=') continue;  // "=" then "=" or the end
        } else {
            // Show the whole code point, not one byte of it.
            std::size_t n = 1;
            while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
            shown = std::string_view{&s[i], n};
        }
        type_error(fmt::format(
            "'{}' can not be converted to a Blob: Invalid Base64 character: '{}'", s, shown));
    }
    // Only ASCII from here on, and '=' only at the end. At most two of them, and the bits
    // they stand for unused.
    std::size_t pad = s.size() - first_other;
    bool canonical = pad <= 2 && pad < s.size();
    if (canonical) {
        int last = base64_value(s[s.size() - 1 - pad]);
        canonical = (last & (pad == 1 ? 0x03 : 0x0F)) == 0;
    }
    if (!canonical) {
        type_error(fmt::format(
            "'{}' can not be converted to a Blob: Invalid last non-pad Base64 character dectected",
            s));
    }
    return s.size() / 4 * 3 - pad;
}

void check_type(const shape& sh, const json& v);

void check_struct_types(const shape& sh, const json& object) {
    for (const member_rule& m : sh.members) {
        auto it = object.find(m.json_name);
        if (it != object.end()) check_type(*m.target, *it);
    }
}

// Throws SerializationException if `v` cannot be read as `sh`. JSON null is "absent".
void check_type(const shape& sh, const json& v) {
    if (v.is_null()) return;
    switch (sh.kind) {
        case shape_kind::structure:
            if (v.is_array()) type_error(std::string{start_of_list});
            if (!v.is_object()) type_error("Expected null");
            check_struct_types(sh, v);
            return;
        case shape_kind::list:
            if (v.is_object()) type_error(std::string{start_of_structure});
            if (!v.is_array()) type_error("Expected list or null");
            for (const json& e : v) check_type(*sh.element, e);
            return;
        case shape_kind::map:
            if (v.is_array()) type_error(std::string{start_of_list});
            if (!v.is_object()) type_error("Expected map or null");
            for (const json& e : v) check_type(*sh.value, e);
            return;
        case shape_kind::string:
            if (v.is_string()) return;
            if (v.is_boolean())
                type_error("class java.lang.Boolean can not be converted to an String");
            if (v.is_number())
                type_error(fmt::format("{} can not be converted to an String", big_number));
            break;
        case shape_kind::integer:
        case shape_kind::long_:
        case shape_kind::float_:
        case shape_kind::double_:
            if (v.is_number()) return;
            if (v.is_boolean()) {
                type_error(fmt::format("class java.lang.Boolean can not be converted to an {}",
                                       numeric_java_name(sh.kind)));
            }
            if (v.is_string()) {
                type_error(fmt::format("class java.lang.String can not be converted to an {}",
                                       numeric_java_name(sh.kind)));
            }
            break;
        case shape_kind::boolean:
            if (v.is_boolean()) return;
            if (v.is_number())
                type_error(fmt::format("{} can not be converted to an Boolean", big_number));
            if (v.is_string()) {
                // Coral echoes the value upper-cased (kinesalite: val.toUpperCase()).
                std::string upper = v.get<std::string>();
                std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) {
                    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
                });
                type_error(fmt::format("'{}' can not be converted to an Boolean", upper));
            }
            break;
        case shape_kind::blob:
            if (v.is_string()) {
                check_base64(v.get_ref<const std::string&>());
                return;
            }
            if (v.is_boolean())
                type_error("class java.lang.Boolean can not be converted to a Blob");
            if (v.is_number())
                type_error(fmt::format("{} can not be converted to a Blob", big_number));
            break;
        case shape_kind::timestamp:
            // Epoch seconds as a JSON number (fractions allowed). A string, even a numeric one,
            // is refused (kinesalite validations/index.js, case 'Timestamp').
            if (v.is_number()) return;
            if (v.is_boolean()) {
                type_error(
                    "class java.lang.Boolean can not be converted to milliseconds since epoch");
            }
            if (v.is_string()) {
                type_error(
                    "class java.lang.String can not be converted to milliseconds since epoch");
            }
            break;
    }
    // Scalar shapes given a list or an object.
    if (v.is_array()) type_error(std::string{start_of_list});
    type_error(std::string{start_of_structure});
}

// ----------------------------------------------------------------------------------------------
// Constraint check (ValidationException)

// Coral reads an integer member as Math.floor of the number, clamped to the Java type's range
// (kinesalite checkTypes: Math.floor, Math.min(val, 2147483647)).
std::int64_t integral_value(const json& v, shape_kind kind) {
    const bool is_int = kind == shape_kind::integer;
    const std::int64_t lo = is_int ? std::numeric_limits<std::int32_t>::min()
                                   : std::numeric_limits<std::int64_t>::min();
    const std::int64_t hi = is_int ? std::numeric_limits<std::int32_t>::max()
                                   : std::numeric_limits<std::int64_t>::max();
    if (v.is_number_unsigned()) {
        auto u = v.get<std::uint64_t>();
        return u > static_cast<std::uint64_t>(hi) ? hi : static_cast<std::int64_t>(u);
    }
    if (v.is_number_integer()) return std::clamp(v.get<std::int64_t>(), lo, hi);
    double d = std::floor(v.get<double>());
    if (d <= static_cast<double>(lo)) return lo;
    if (d >= static_cast<double>(hi)) return hi;
    return static_cast<std::int64_t>(d);
}

std::string render_value(const shape& sh, const json& v);

std::string render_structure(const shape& sh, const json& v) {
    // Java's Object.toString: class@hashCode. The hash is AWS's own; any stable value will do,
    // clients cannot predict it. FNV-1a over the member values, printed like
    // Integer.toHexString.
    std::uint32_t h = 2166136261u;
    for (char c : v.dump()) {
        h ^= static_cast<unsigned char>(c);
        h *= 16777619u;
    }
    return fmt::format("{}@{:x}", sh.java_class, h);
}

// The value as AWS prints it after "Value '": Java's toString of the deserialized member.
std::string render_value(const shape& sh, const json& v) {
    if (v.is_null()) return "null";
    switch (sh.kind) {
        case shape_kind::string:
            return v.is_string() ? v.get<std::string>() : v.dump();
        case shape_kind::integer:
        case shape_kind::long_:
            return std::to_string(integral_value(v, sh.kind));
        case shape_kind::float_:
        case shape_kind::double_:
            return fmt::format("{}", v.get<double>());
        case shape_kind::boolean:
            return v.get<bool>() ? "true" : "false";
        case shape_kind::timestamp:
            return v.dump();
        case shape_kind::blob: {
            std::size_t n = decoded_length(v.get_ref<const std::string&>());
            return fmt::format("java.nio.HeapByteBuffer[pos=0 lim={} cap={}]", n, n);
        }
        case shape_kind::list: {
            std::string out = "[";
            bool first = true;
            for (const json& e : v) {
                if (!first) out += ", ";
                first = false;
                out += render_value(*sh.element, e);
            }
            return out + "]";
        }
        case shape_kind::map: {
            std::string out = "{";
            bool first = true;
            for (auto it = v.begin(); it != v.end(); ++it) {
                if (!first) out += ", ";
                first = false;
                out += it.key();
                out += '=';
                out += render_value(*sh.value, it.value());
            }
            return out + "}";
        }
        case shape_kind::structure:
            return render_structure(sh, v);
    }
    return v.dump();
}

// Collects "Value '<v>' at '<path>' failed to satisfy constraint: <message>" entries. Owns
// no memory until the first error.
class error_sink {
  public:
    bool full() const { return errors_.size() >= max_reported_errors; }
    bool empty() const { return errors_.empty(); }

    void add(const path_node& path, const shape& sh, const json* value, std::string_view message) {
        if (full()) return;
        std::string entry = "Value ";
        if (value == nullptr || value->is_null()) {
            entry += "null";
        } else {
            entry += '\'';
            entry += render_value(sh, *value);
            entry += '\'';
        }
        entry += " at '";
        append_path(entry, &path);
        entry += "' failed to satisfy constraint: ";
        entry += message;
        errors_.push_back(std::move(entry));
    }

    std::string message() const {
        std::string out = fmt::format("{} validation error{} detected: ", errors_.size(),
                                      errors_.size() == 1 ? "" : "s");
        for (std::size_t i = 0; i < errors_.size(); ++i) {
            if (i > 0) out += "; ";
            out += errors_[i];
        }
        return out;
    }

  private:
    std::vector<std::string> errors_;
};

bool enum_contains(const shape& sh, std::string_view s) {
    return std::find(sh.enum_values.begin(), sh.enum_values.end(), s) != sh.enum_values.end();
}

// True if the scalar `v` breaks any constraint of `sh` (used for list elements and map
// keys/values, which AWS reports once per collection).
bool violates_string(const shape& sh, std::string_view s) {
    if (sh.pattern && !sh.pattern->matches(s)) return true;
    if (sh.min || sh.max) {
        auto n = static_cast<std::int64_t>(code_points(s));
        if ((sh.min && n < *sh.min) || (sh.max && n > *sh.max)) return true;
    }
    return !sh.enum_values.empty() && !enum_contains(sh, s);
}

bool violates(const shape& sh, const json& v) {
    switch (sh.kind) {
        case shape_kind::string:
            return violates_string(sh, v.get_ref<const std::string&>());
        case shape_kind::integer:
        case shape_kind::long_: {
            std::int64_t n = integral_value(v, sh.kind);
            return (sh.min && n < *sh.min) || (sh.max && n > *sh.max);
        }
        case shape_kind::float_:
        case shape_kind::double_: {
            double d = v.get<double>();
            return (sh.min_value_d && d < *sh.min_value_d) ||
                   (sh.max_value_d && d > *sh.max_value_d);
        }
        case shape_kind::blob: {
            auto n = static_cast<std::int64_t>(decoded_length(v.get_ref<const std::string&>()));
            return (sh.min && n < *sh.min) || (sh.max && n > *sh.max);
        }
        default:
            return false;
    }
}

void validate_value(const shape& sh, const json& v, const path_node& path, error_sink& sink);

void validate_struct(const shape& sh, const json* object, const path_node* parent,
                     error_sink& sink) {
    for (const member_rule& m : sh.members) {
        if (sink.full()) return;
        const json* v = nullptr;
        if (object != nullptr) {
            auto it = object->find(m.json_name);
            if (it != object->end() && !it->is_null()) v = &*it;
        }
        path_node node{parent, m.path_name, 0};
        if (v == nullptr) {
            if (m.required) sink.add(node, *m.target, nullptr, "Member must not be null");
            continue;
        }
        validate_value(*m.target, *v, node, sink);
    }
}

// Appends every constraint `v` breaks, recursing into structures, lists and maps.
void validate_value(const shape& sh, const json& v, const path_node& path, error_sink& sink) {
    switch (sh.kind) {
        case shape_kind::structure:
            validate_struct(sh, &v, &path, sink);
            return;
        case shape_kind::string: {
            // Order as in AWS's answers (kinesalite test/*.js): pattern, then min, then max.
            const auto& s = v.get_ref<const std::string&>();
            if (sh.pattern && !sh.pattern->matches(s)) sink.add(path, sh, &v, sh.pattern_message);
            if (sh.min || sh.max) {
                auto n = static_cast<std::int64_t>(code_points(s));
                if (sh.min && n < *sh.min) sink.add(path, sh, &v, sh.min_message);
                if (sh.max && n > *sh.max) sink.add(path, sh, &v, sh.max_message);
            }
            if (!sh.enum_values.empty() && !enum_contains(sh, s))
                sink.add(path, sh, &v, sh.enum_message);
            return;
        }
        case shape_kind::integer:
        case shape_kind::long_: {
            if (!sh.min && !sh.max) return;
            std::int64_t n = integral_value(v, sh.kind);
            if (sh.min && n < *sh.min) sink.add(path, sh, &v, sh.min_message);
            if (sh.max && n > *sh.max) sink.add(path, sh, &v, sh.max_message);
            return;
        }
        case shape_kind::float_:
        case shape_kind::double_: {
            double d = v.get<double>();
            if (sh.min_value_d && d < *sh.min_value_d) sink.add(path, sh, &v, sh.min_message);
            if (sh.max_value_d && d > *sh.max_value_d) sink.add(path, sh, &v, sh.max_message);
            return;
        }
        case shape_kind::blob: {
            if (!sh.min && !sh.max) return;
            auto n = static_cast<std::int64_t>(decoded_length(v.get_ref<const std::string&>()));
            if (sh.min && n < *sh.min) sink.add(path, sh, &v, sh.min_message);
            if (sh.max && n > *sh.max) sink.add(path, sh, &v, sh.max_message);
            return;
        }
        case shape_kind::boolean:
        case shape_kind::timestamp:
            return;
        case shape_kind::list: {
            auto n = static_cast<std::int64_t>(v.size());
            if (sh.min && n < *sh.min) sink.add(path, sh, &v, sh.min_message);
            if (sh.max && n > *sh.max) sink.add(path, sh, &v, sh.max_message);
            const shape& element = *sh.element;
            // A null element is a missing value, not an absent member: the handlers read every
            // element, so it is refused here ("records.2.member" must not be null; for a
            // structure, each of its required members is reported as null).
            std::size_t null_index = 0;
            for (const json& e : v) {
                ++null_index;
                if (!e.is_null() || sink.full()) continue;
                path_node at{&path, {}, null_index};
                path_node member{&at, "member", 0};
                if (element.kind == shape_kind::structure) {
                    validate_struct(element, nullptr, &member, sink);
                } else {
                    sink.add(member, element, nullptr, "Member must not be null");
                }
            }
            if (element.is_scalar()) {
                if (!element.has_scalar_constraints()) return;
                for (const json& e : v) {
                    if (!e.is_null() && violates(element, e)) {
                        sink.add(path, sh, &v,
                                 "Member must satisfy constraint: " + element.constraint_list);
                        return;
                    }
                }
                return;
            }
            // "records.1.member.partitionKey": 1-based index, then "member".
            std::size_t index = 0;
            for (const json& e : v) {
                ++index;
                if (sink.full()) return;
                if (e.is_null()) continue;
                path_node at{&path, {}, index};
                path_node member{&at, "member", 0};
                validate_value(element, e, member, sink);
            }
            return;
        }
        case shape_kind::map: {
            auto n = static_cast<std::int64_t>(v.size());
            if (sh.min && n < *sh.min) sink.add(path, sh, &v, sh.min_message);
            if (sh.max && n > *sh.max) sink.add(path, sh, &v, sh.max_message);
            // Keys, then values, each reported once (kinesalite childKeyLengths,
            // childValueLengths: "Map keys must ...", "Map value must ...").
            const shape& key = *sh.key;
            if (key.has_scalar_constraints()) {
                for (auto it = v.begin(); it != v.end(); ++it) {
                    if (violates_string(key, it.key())) {
                        sink.add(path, sh, &v,
                                 "Map keys must satisfy constraint: " + key.constraint_list);
                        break;
                    }
                }
            }
            const shape& value = *sh.value;
            for (auto it = v.begin(); it != v.end(); ++it) {  // as for lists: null is missing
                if (!it->is_null() || sink.full()) continue;
                path_node at{&path, it.key(), 0};
                path_node member{&at, "member", 0};
                if (value.kind == shape_kind::structure) {
                    validate_struct(value, nullptr, &member, sink);
                } else {
                    sink.add(member, value, nullptr, "Member must not be null");
                }
            }
            if (value.is_scalar()) {
                if (!value.has_scalar_constraints()) return;
                for (const json& e : v) {
                    if (!e.is_null() && violates(value, e)) {
                        sink.add(path, sh, &v,
                                 "Map value must satisfy constraint: " + value.constraint_list);
                        return;
                    }
                }
                return;
            }
            for (auto it = v.begin(); it != v.end(); ++it) {
                if (sink.full()) return;
                if (it->is_null()) continue;
                path_node at{&path, it.key(), 0};
                path_node member{&at, "member", 0};
                validate_value(value, *it, member, sink);
            }
            return;
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Loading

[[noreturn]] void bad_model(const std::string& why) {
    throw std::invalid_argument("API model: " + why);
}

shape_kind parse_kind(const std::string& type, const std::string& name) {
    static const std::map<std::string, shape_kind, std::less<>> kinds = {
        {"structure", shape_kind::structure},
        {"list", shape_kind::list},
        {"map", shape_kind::map},
        {"string", shape_kind::string},
        {"integer", shape_kind::integer},
        {"long", shape_kind::long_},
        {"float", shape_kind::float_},
        {"double", shape_kind::double_},
        {"boolean", shape_kind::boolean},
        {"blob", shape_kind::blob},
        {"timestamp", shape_kind::timestamp},
    };
    auto it = kinds.find(type);
    if (it == kinds.end()) bad_model("shape " + name + " has unsupported type " + type);
    return it->second;
}

std::string format_bound(dom::element bound) {
    if (bound.is_double()) return fmt::format("{}", double(bound));
    return std::to_string(std::int64_t(bound));
}

// The member `key` of `object`, if it has one.
std::optional<dom::element> member_of(dom::object object, std::string_view key) {
    dom::element value;
    if (object.at_key(key).get(value) != simdjson::SUCCESS) return std::nullopt;
    return value;
}

std::vector<std::string> strings_of(dom::element array) {
    std::vector<std::string> out;
    for (dom::element e : dom::array(array)) out.emplace_back(std::string_view(e));
    return out;
}

}  // namespace

struct api_model::impl {
    std::deque<shape> shapes;  // stable addresses: shapes point at each other
    std::map<std::string, const shape*, std::less<>> by_name;
    std::map<std::string, const shape*, std::less<>> operations;  // input shape, or null
    std::map<std::string, std::vector<std::string>, std::less<>> operation_errors;  // model order
};

api_model::api_model(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
api_model::~api_model() = default;

const api_model& api_model::instance() {
    static const std::unique_ptr<api_model> model = from_text(embedded_model_text());
    return *model;
}

namespace {

// Compiles the parsed model. Throws std::invalid_argument (bad_model) for a broken model, and
// simdjson_error for a member of an unexpected JSON type.
std::unique_ptr<api_model::impl> compile_model(const dom::element& doc) {
    dom::object root, shapes, operations;
    if (doc.get(root) != simdjson::SUCCESS || root["shapes"].get(shapes) != simdjson::SUCCESS ||
        root["operations"].get(operations) != simdjson::SUCCESS) {
        bad_model("expected \"operations\" and \"shapes\" objects");
    }

    auto model = std::make_unique<api_model::impl>();
    std::map<std::string, shape*, std::less<>> by_name;

    // Pass 1: every shape, so that pass 2 can link members to shapes in any order (and to
    // recursive shapes).
    for (const auto [name, def] : shapes) {
        shape& sh = model->shapes.emplace_back();
        sh.name = std::string(name);
        const auto type = member_of(dom::object(def), "type");
        if (!type) bad_model("shape " + sh.name + " has no type");
        sh.kind = parse_kind(std::string(std::string_view(*type)), sh.name);
        by_name[sh.name] = &sh;
    }
    auto lookup = [&](std::optional<dom::element> ref, const std::string& from) -> shape* {
        std::optional<dom::element> target;
        if (ref && ref->is_object()) target = member_of(dom::object(*ref), "shape");
        if (!target) bad_model(from + " has no shape reference");
        auto found = by_name.find(std::string_view(*target));
        if (found == by_name.end()) bad_model(from + " refers to an unknown shape");
        return found->second;
    };

    // Pass 2: constraints, members and messages.
    for (const auto [name, def_element] : shapes) {
        const dom::object def(def_element);
        shape& sh = *by_name.find(name)->second;
        const bool is_length = sh.kind == shape_kind::string || sh.kind == shape_kind::blob ||
                               sh.kind == shape_kind::list || sh.kind == shape_kind::map;
        const bool is_fractional = sh.kind == shape_kind::float_ || sh.kind == shape_kind::double_;
        const char* what = is_length ? "length" : "value";
        std::vector<std::string> constraints;  // AWS lists max before min in "[...]"
        if (const auto max = member_of(def, "max"); max && max->is_number()) {
            if (is_fractional) {
                sh.max_value_d = double(*max);
            } else {
                sh.max = std::int64_t(*max);
            }
            sh.max_message = fmt::format("Member must have {} less than or equal to {}", what,
                                         format_bound(*max));
            constraints.push_back(sh.max_message);
        }
        if (const auto min = member_of(def, "min"); min && min->is_number()) {
            if (is_fractional) {
                sh.min_value_d = double(*min);
            } else {
                sh.min = std::int64_t(*min);
            }
            sh.min_message = fmt::format("Member must have {} greater than or equal to {}", what,
                                         format_bound(*min));
            constraints.push_back(sh.min_message);
        }
        const auto pattern_value = member_of(def, "pattern");
        if (sh.kind == shape_kind::string && pattern_value) {
            const std::string pattern{std::string_view(*pattern_value)};
            try {
                sh.pattern = std::make_unique<pattern_matcher>(pattern);
            } catch (const std::regex_error& e) {
                bad_model("shape " + sh.name + " has a pattern std::regex rejects: " + pattern);
            }
            sh.pattern_message = "Member must satisfy regular expression pattern: " + pattern;
            constraints.push_back(sh.pattern_message);
        }
        const auto enum_value = member_of(def, "enum");
        if (sh.kind == shape_kind::string && enum_value) {
            sh.enum_values = strings_of(*enum_value);
            std::string list;
            for (const auto& e : sh.enum_values) {
                if (!list.empty()) list += ", ";
                list += e;
            }
            sh.enum_message = "Member must satisfy enum value set: [" + list + "]";
            constraints.push_back(sh.enum_message);
        }
        if (!constraints.empty()) {
            sh.constraint_list = "[";
            for (std::size_t i = 0; i < constraints.size(); ++i) {
                if (i > 0) sh.constraint_list += ", ";
                sh.constraint_list += constraints[i];
            }
            sh.constraint_list += "]";
        }

        switch (sh.kind) {
            case shape_kind::structure: {
                sh.java_class = std::string{java_package} + sh.name;
                std::vector<std::string> required;
                if (const auto r = member_of(def, "required")) required = strings_of(*r);
                if (const auto members = member_of(def, "members")) {
                    for (const auto [key, ref] : dom::object(*members)) {
                        member_rule rule;
                        rule.json_name = std::string(key);
                        rule.path_name = lower_first(rule.json_name);
                        rule.target = lookup(ref, sh.name + "." + rule.json_name);
                        rule.required = std::find(required.begin(), required.end(),
                                                  rule.json_name) != required.end();
                        sh.members.push_back(std::move(rule));
                    }
                }
                break;
            }
            case shape_kind::list:
                sh.element = lookup(member_of(def, "member"), sh.name + ".member");
                break;
            case shape_kind::map:
                sh.key = lookup(member_of(def, "key"), sh.name + ".key");
                sh.value = lookup(member_of(def, "value"), sh.name + ".value");
                if (sh.key->kind != shape_kind::string)
                    bad_model("map " + sh.name + " has non-string keys");
                break;
            default:
                break;
        }
    }

    for (const auto [name_view, op_element] : operations) {
        const std::string name(name_view);
        const dom::object op(op_element);
        const shape* input = nullptr;
        if (const auto in = member_of(op, "input")) {
            input = lookup(in, "operation " + name);
            if (input->kind != shape_kind::structure)
                bad_model("operation " + name + " input is not a structure");
        }
        model->operations.emplace(name, input);
        auto& errors = model->operation_errors[name];
        if (const auto e = member_of(op, "errors"); e && e->is_array())
            for (dom::element ref : dom::array(*e))
                errors.push_back(lookup(ref, "operation " + name)->name);
    }
    for (const auto& [name, sh] : by_name) model->by_name.emplace(name, sh);
    return model;
}

}  // namespace

std::unique_ptr<api_model> api_model::from_text(std::string_view text) {
    // simdjson's DOM keeps each object's members in document order (validation follows the
    // model's member order) and parses the 44 KB model in about 0.1M instructions, where
    // nlohmann::ordered_json took 10M: this runs while kinesd starts (docs/benchmarks.md).
    dom::parser parser;
    dom::element doc;
    const simdjson::padded_string padded(text);
    if (const auto error = parser.parse(padded).get(doc); error != simdjson::SUCCESS)
        bad_model(std::string{"not JSON: "} + simdjson::error_message(error));
    try {
        return std::unique_ptr<api_model>(new api_model(compile_model(doc)));
    } catch (const simdjson::simdjson_error& e) {
        bad_model(std::string{"unexpected JSON type: "} + e.what());
    }
}

bool api_model::has_operation(std::string_view operation) const {
    return impl_->operations.find(operation) != impl_->operations.end();
}

const std::vector<std::string>& api_model::errors_of(std::string_view operation) const {
    return impl_->operation_errors.find(operation)->second;
}

std::vector<std::string> api_model::operation_names() const {
    std::vector<std::string> names;
    names.reserve(impl_->operations.size());
    for (const auto& [name, input] : impl_->operations) names.push_back(name);  // std::map: sorted
    return names;
}

api_model::shape_handle api_model::shape_named(std::string_view name) const {
    auto it = impl_->by_name.find(name);
    if (it == impl_->by_name.end()) throw std::out_of_range("no shape " + std::string(name));
    return {it->second};
}

bool api_model::accepts(shape_handle h, std::string_view value) const {
    return !violates_string(*static_cast<const shape*>(h.p), value);
}

bool api_model::accepts(shape_handle h, std::int64_t value) const {
    const auto& sh = *static_cast<const shape*>(h.p);
    return !(sh.min && value < *sh.min) && !(sh.max && value > *sh.max);
}

std::optional<std::int64_t> api_model::max_of(shape_handle h) const {
    return static_cast<const shape*>(h.p)->max;
}

std::optional<std::int64_t> api_model::min_of(shape_handle h) const {
    return static_cast<const shape*>(h.p)->min;
}

void api_model::validate_input(std::string_view operation, const nlohmann::json& request) const {
    auto it = impl_->operations.find(operation);
    if (it == impl_->operations.end()) {
        throw std::out_of_range("validate_input: unknown operation " + std::string{operation});
    }
    if (it->second == nullptr) return;  // no input shape: nothing to check
    const shape& input = *it->second;

    // An absent or null body is an empty request (AWS answers the missing members).
    check_type(input, request);
    error_sink sink;
    validate_struct(input, request.is_object() ? &request : nullptr, nullptr, sink);
    if (!sink.empty()) throw api_error::validation(sink.message());
}

}  // namespace kinesd::api
