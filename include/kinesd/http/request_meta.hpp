#pragma once
// Pure functions that read what the API needs from HTTP headers. No I/O; unit-tested.
#include <optional>
#include <string_view>

namespace kinesd::http {

// "Kinesis_20131202.PutRecord" -> "PutRecord"; nullopt for a missing header, another service
// prefix or an empty operation.
std::optional<std::string_view> operation_from_target(std::string_view x_amz_target);

// The region of a SigV4 Authorization header's credential scope:
// "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-west-2/kinesis/aws4_request, ..." -> "us-west-2".
// Empty when there is no such scope.
std::string_view region_from_authorization(std::string_view authorization);

// Throws api_error SerializationException for a body type kinesd cannot decode (CBOR);
// accepts the JSON types and a missing Content-Type.
void check_content_type(std::string_view content_type);

}  // namespace kinesd::http
