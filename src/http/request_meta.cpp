#include "kinesd/http/request_meta.hpp"

#include "kinesd/api/error.hpp"

namespace kinesd::http {

std::optional<std::string_view> operation_from_target(std::string_view target) {
    constexpr std::string_view prefix = "Kinesis_20131202.";
    if (target.substr(0, prefix.size()) != prefix) return std::nullopt;
    auto op = target.substr(prefix.size());
    if (op.empty()) return std::nullopt;
    return op;
}

std::string_view region_from_authorization(std::string_view auth) {
    constexpr std::string_view key = "Credential=";
    auto pos = auth.find(key);
    if (pos == std::string_view::npos) return {};
    auto scope = auth.substr(pos + key.size());
    scope = scope.substr(0, scope.find_first_of(", "));
    // AKID/date/region/service/aws4_request
    for (int i = 0; i < 2; ++i) {
        auto slash = scope.find('/');
        if (slash == std::string_view::npos) return {};
        scope.remove_prefix(slash + 1);
    }
    auto slash = scope.find('/');
    if (slash == std::string_view::npos) return {};
    return scope.substr(0, slash);
}

void check_content_type(std::string_view content_type) {
    auto base = content_type.substr(0, content_type.find(';'));
    if (base.find("cbor") != std::string_view::npos)
        throw api_error::serialization(
            "kinesd speaks the JSON protocol only: send application/x-amz-json-1.1 (for the AWS "
            "Java SDK, set the system property aws.cborEnabled=false).");
}

}  // namespace kinesd::http
