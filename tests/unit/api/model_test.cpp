// Request validation against the embedded Kinesis model. Expected messages are AWS's, as
// recorded in kinesalite's tests (test/helpers.js assertType, test/putRecords.js,
// test/listShards.js, test/removeTagsFromStream.js, ...).
#include "kinesd/api/model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "kinesd/api/error.hpp"
#include "kinesd/api/model_pattern.hpp"

namespace kinesd::api {
namespace {

using json = nlohmann::json;

const api_model& model() { return api_model::instance(); }

// Runs validate_input and returns "<type>: <message>", or "ok".
std::string outcome(std::string_view operation, const json& request) {
    try {
        model().validate_input(operation, request);
        return "ok";
    } catch (const api_error& e) {
        return e.type + ": " + e.what();
    }
}

std::string serialization(std::string_view message) {
    return "SerializationException: " + std::string{message};
}

std::string validation(std::string_view message) {
    return "ValidationException: " + std::string{message};
}

std::string base64_of_zeros(std::size_t bytes) {
    std::string out(bytes / 3 * 4, 'A');
    if (bytes % 3 == 1) out += "AA==";
    if (bytes % 3 == 2) out += "AAA=";
    return out;
}

// ---------------------------------------------------------------------------------------------
// Loading

TEST(api_model, lists_every_operation_sorted) {
    auto names = model().operation_names();
    EXPECT_EQ(names.size(), 39u);
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
    for (const char* op : {"CreateStream", "DeleteStream", "DescribeStream",
                           "DescribeStreamSummary", "ListStreams", "ListShards", "PutRecord",
                           "PutRecords", "GetShardIterator", "GetRecords", "SubscribeToShard"}) {
        EXPECT_TRUE(model().has_operation(op)) << op;
    }
    EXPECT_FALSE(model().has_operation("PutRecordz"));
    EXPECT_FALSE(model().has_operation(""));
}

TEST(api_model, lists_each_operations_errors_in_model_order) {
    const auto& errors = model().errors_of("PutRecord");
    EXPECT_EQ(errors.front(), "ResourceNotFoundException");
    for (const char* e : {"InvalidArgumentException", "ProvisionedThroughputExceededException",
                          "KMSThrottlingException", "AccessDeniedException"})
        EXPECT_NE(std::find(errors.begin(), errors.end(), e), errors.end()) << e;
    auto small = api_model::from_text(
        R"({"operations": {"X": {"errors": [{"shape": "E"}]}, "Y": {}},
            "shapes": {"E": {"type": "structure", "members": {}}}})");
    EXPECT_EQ(small->errors_of("X"), std::vector<std::string>{"E"});
    EXPECT_TRUE(small->errors_of("Y").empty());
    EXPECT_THROW(api_model::from_text(R"({"operations": {"X": {"errors": [{"shape": "Missing"}]}},
                                          "shapes": {}})"),
                 std::invalid_argument);
}

TEST(api_model, rejects_a_broken_model) {
    EXPECT_THROW(api_model::from_text("not json"), std::invalid_argument);
    EXPECT_THROW(api_model::from_text(R"({"operations": {}})"), std::invalid_argument);
    EXPECT_THROW(api_model::from_text(
                     R"({"operations": {"X": {"input": {"shape": "Missing"}}}, "shapes": {}})"),
                 std::invalid_argument);
    // A member of the wrong JSON type.
    EXPECT_THROW(api_model::from_text(
                     R"({"operations": {}, "shapes": {"S": {"type": "string", "pattern": 5}}})"),
                 std::invalid_argument);
    EXPECT_THROW(api_model::from_text(R"({"operations": {}, "shapes": {"S": {"type": 1}}})"),
                 std::invalid_argument);
}

TEST(api_model, unknown_operation_is_a_programming_error) {
    EXPECT_THROW(model().validate_input("Nope", json::object()), std::out_of_range);
}

// Whatever the operation, an empty request is accepted or answered with a ValidationException
// listing its missing members: never a crash, never another error type.
TEST(api_model, every_operation_accepts_or_rejects_an_empty_request) {
    for (const auto& op : model().operation_names()) {
        for (const json& body : {json::object(), json(nullptr)}) {
            std::string result = outcome(op, body);
            EXPECT_TRUE(result == "ok" || result.rfind("ValidationException: ", 0) == 0)
                << op << ": " << result;
            if (result != "ok") {
                EXPECT_NE(result.find("Member must not be null"), std::string::npos) << result;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Valid requests

TEST(api_model, accepts_valid_requests) {
    EXPECT_EQ(outcome("CreateStream", {{"StreamName", "my-stream_1.x"}, {"ShardCount", 3}}), "ok");
    EXPECT_EQ(outcome("CreateStream", {{"StreamName", "s"},
                                       {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}},
                                       {"Tags", {{"team", "data"}, {"empty", ""}}}}),
              "ok");
    EXPECT_EQ(outcome("DescribeStream", {{"StreamName", "s"}, {"Limit", 100}}), "ok");
    EXPECT_EQ(outcome("ListStreams", json::object()), "ok");
    EXPECT_EQ(
        outcome("ListShards", {{"StreamName", "s"},
                               {"MaxResults", 1000},
                               {"ShardFilter", {{"Type", "AT_TIMESTAMP"}, {"Timestamp", 1.5e9}}}}),
        "ok");
    EXPECT_EQ(
        outcome("PutRecord", {{"StreamName", "s"},
                              {"PartitionKey", "k"},
                              {"Data", "aGVsbG8="},
                              {"ExplicitHashKey", "340282366920938463463374607431768211455"}}),
        "ok");
    EXPECT_EQ(outcome("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", ""}}),
              "ok");
    EXPECT_EQ(outcome("GetShardIterator", {{"StreamName", "s"},
                                           {"ShardId", "shardId-000000000000"},
                                           {"ShardIteratorType", "AT_TIMESTAMP"},
                                           {"Timestamp", 1700000000.123}}),
              "ok");
    EXPECT_EQ(
        outcome("GetShardIterator", {{"StreamName", "s"},
                                     {"ShardId", "shardId-000000000000"},
                                     {"ShardIteratorType", "AT_SEQUENCE_NUMBER"},
                                     {"StartingSequenceNumber",
                                      "49590338271490256608559692538361571095921575989136588898"}}),
        "ok");
    EXPECT_EQ(outcome("GetRecords", {{"ShardIterator", "AAAA"}, {"Limit", 10000}}), "ok");
    EXPECT_EQ(outcome("DeleteStream", {{"StreamName", "s"}, {"EnforceConsumerDeletion", true}}),
              "ok");
    EXPECT_EQ(outcome("EnableEnhancedMonitoring",
                      {{"StreamName", "s"}, {"ShardLevelMetrics", {"IncomingBytes", "ALL"}}}),
              "ok");
    EXPECT_EQ(
        outcome("PutRecords", {{"StreamARN", "arn:aws:kinesis:us-east-1:123456789012:stream/s"},
                               {"Records", {{{"PartitionKey", "a"}, {"Data", "AA=="}}}}}),
        "ok");
}

TEST(api_model, ignores_unknown_members_and_nulls) {
    EXPECT_EQ(
        outcome("CreateStream", {{"StreamName", "s"}, {"Bogus", {1, 2}}, {"ShardCount", nullptr}}),
        "ok");
    EXPECT_EQ(outcome("PutRecords",
                      {{"StreamName", "s"},
                       {"Records", {{{"PartitionKey", "a"}, {"Data", ""}, {"Extra", true}}}}}),
              "ok");
}

TEST(api_model, accepts_a_full_put_records_batch) {
    json records = json::array();
    for (int i = 0; i < 500; ++i) {
        records.push_back(
            {{"PartitionKey", "key-" + std::to_string(i)}, {"Data", "aGVsbG8gd29ybGQ="}});
    }
    EXPECT_EQ(outcome("PutRecords", {{"StreamName", "s"}, {"Records", records}}), "ok");
}

// ---------------------------------------------------------------------------------------------
// Types: SerializationException

TEST(api_model_types, string_members) {
    const char* converted = " can not be converted to an String";
    EXPECT_EQ(outcome("DeleteStream", {{"StreamName", true}}),
              serialization(std::string{"class java.lang.Boolean"} + converted));
    for (const json& number : {json(23), json(-2147483648LL), json(2147483648LL), json(34.56)}) {
        EXPECT_EQ(outcome("DeleteStream", {{"StreamName", number}}),
                  serialization(
                      std::string{"class com.amazon.coral.value.json.numbers.TruncatingBigNumber"} +
                      converted));
    }
    EXPECT_EQ(outcome("DeleteStream", {{"StreamName", json::array()}}),
              serialization("Start of list found where not expected"));
    EXPECT_EQ(outcome("DeleteStream", {{"StreamName", json::object()}}),
              serialization("Start of structure or map found where not expected."));
}

TEST(api_model_types, integer_and_long_members) {
    EXPECT_EQ(outcome("CreateStream", {{"StreamName", "s"}, {"ShardCount", "23"}}),
              serialization("class java.lang.String can not be converted to an Integer"));
    EXPECT_EQ(outcome("CreateStream", {{"StreamName", "s"}, {"ShardCount", true}}),
              serialization("class java.lang.Boolean can not be converted to an Integer"));
    EXPECT_EQ(outcome("CreateStream", {{"StreamName", "s"}, {"ShardCount", json::array()}}),
              serialization("Start of list found where not expected"));
    EXPECT_EQ(outcome("CreateStream", {{"StreamName", "s"}, {"ShardCount", json::object()}}),
              serialization("Start of structure or map found where not expected."));
}

TEST(api_model_types, boolean_members) {
    EXPECT_EQ(outcome("DeleteStream", {{"StreamName", "s"}, {"EnforceConsumerDeletion", "yes"}}),
              serialization("'YES' can not be converted to an Boolean"));
    EXPECT_EQ(
        outcome("DeleteStream", {{"StreamName", "s"}, {"EnforceConsumerDeletion", 23}}),
        serialization("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be "
                      "converted to an Boolean"));
    EXPECT_EQ(
        outcome("DeleteStream", {{"StreamName", "s"}, {"EnforceConsumerDeletion", json::array()}}),
        serialization("Start of list found where not expected"));
}

TEST(api_model_types, blob_members) {
    auto put = [](json data) {
        return outcome("PutRecord",
                       {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", std::move(data)}});
    };
    EXPECT_EQ(put(true), serialization("class java.lang.Boolean can not be converted to a Blob"));
    EXPECT_EQ(put(23),
              serialization("class com.amazon.coral.value.json.numbers.TruncatingBigNumber "
                            "can not be converted to a Blob"));
    EXPECT_EQ(put(json::array()), serialization("Start of list found where not expected"));
    EXPECT_EQ(put(json::object()),
              serialization("Start of structure or map found where not expected."));
    EXPECT_EQ(put("23456"),
              serialization("'23456' can not be converted to a Blob: Base64 encoded length "
                            "is expected a multiple of 4 bytes but found: 5"));
    EXPECT_EQ(
        put("=+/="),
        serialization("'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"));
    EXPECT_EQ(
        put("ab*d"),
        serialization("'ab*d' can not be converted to a Blob: Invalid Base64 character: '*'"));
    EXPECT_EQ(put("+/+="),
              serialization("'+/+=' can not be converted to a Blob: Invalid last non-pad "
                            "Base64 character dectected"));
    EXPECT_EQ(put("QQ=="), "ok");
    EXPECT_EQ(put("QR=="),
              serialization("'QR==' can not be converted to a Blob: Invalid last non-pad "
                            "Base64 character dectected"));
    EXPECT_EQ(put("===="),
              serialization("'====' can not be converted to a Blob: Invalid last non-pad "
                            "Base64 character dectected"));
}

TEST(api_model_types, timestamp_members) {
    auto iterator = [](json timestamp) {
        return outcome("GetShardIterator", {{"StreamName", "s"},
                                            {"ShardId", "shardId-0"},
                                            {"ShardIteratorType", "AT_TIMESTAMP"},
                                            {"Timestamp", std::move(timestamp)}});
    };
    EXPECT_EQ(iterator(1700000000), "ok");
    EXPECT_EQ(iterator(1700000000.5), "ok");
    EXPECT_EQ(
        iterator("1700000000"),
        serialization("class java.lang.String can not be converted to milliseconds since epoch"));
    EXPECT_EQ(
        iterator(false),
        serialization("class java.lang.Boolean can not be converted to milliseconds since epoch"));
    EXPECT_EQ(iterator(json::object()),
              serialization("Start of structure or map found where not expected."));
}

TEST(api_model_types, lists_maps_and_structures) {
    for (const json& scalar : {json("23"), json(true), json(23), json(34.56)}) {
        EXPECT_EQ(outcome("PutRecords", {{"StreamName", "s"}, {"Records", scalar}}),
                  serialization("Expected list or null"));
        EXPECT_EQ(outcome("PutRecords", {{"StreamName", "s"}, {"Records", {scalar}}}),
                  serialization("Expected null"));
        EXPECT_EQ(outcome("AddTagsToStream", {{"StreamName", "s"}, {"Tags", scalar}}),
                  serialization("Expected map or null"));
    }
    EXPECT_EQ(outcome("PutRecords", {{"StreamName", "s"}, {"Records", json::object()}}),
              serialization("Start of structure or map found where not expected."));
    EXPECT_EQ(outcome("PutRecords", {{"StreamName", "s"}, {"Records", {json::array()}}}),
              serialization("Start of list found where not expected"));
    EXPECT_EQ(outcome("AddTagsToStream", {{"StreamName", "s"}, {"Tags", json::array()}}),
              serialization("Start of list found where not expected"));
    EXPECT_EQ(
        outcome("AddTagsToStream", {{"StreamName", "s"}, {"Tags", {{"a", 1}}}}),
        serialization("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be "
                      "converted to an String"));
    EXPECT_EQ(outcome("CreateStream", {{"StreamName", "s"}, {"StreamModeDetails", "ON_DEMAND"}}),
              serialization("Expected null"));
    EXPECT_EQ(outcome("PutRecords", json::array()),
              serialization("Start of list found where not expected"));
}

TEST(api_model_types, nested_members_are_type_checked) {
    EXPECT_EQ(
        outcome("PutRecords",
                {{"StreamName", "s"},
                 {"Records",
                  {{{"PartitionKey", "a"}, {"Data", ""}}, {{"PartitionKey", 5}, {"Data", ""}}}}}),
        serialization("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be "
                      "converted to an String"));
}

// A type error wins over constraint violations anywhere in the request.
TEST(api_model_types, type_errors_come_before_validation) {
    EXPECT_EQ(outcome("CreateStream", {{"StreamName", ""}, {"ShardCount", "1"}}),
              serialization("class java.lang.String can not be converted to an Integer"));
}

// ---------------------------------------------------------------------------------------------
// Constraints: ValidationException

TEST(api_model_validation, missing_required_members) {
    EXPECT_EQ(
        outcome("CreateStream", json::object()),
        validation("1 validation error detected: Value null at 'streamName' failed to satisfy "
                   "constraint: Member must not be null"));
    EXPECT_EQ(
        outcome("GetShardIterator", {{"StreamName", "s"}}),
        validation("2 validation errors detected: "
                   "Value null at 'shardId' failed to satisfy constraint: Member must not be null; "
                   "Value null at 'shardIteratorType' failed to satisfy constraint: Member must "
                   "not be null"));
    EXPECT_EQ(
        outcome("PutRecord", {{"StreamName", "s"}, {"Data", nullptr}}),
        validation(
            "2 validation errors detected: "
            "Value null at 'data' failed to satisfy constraint: Member must not be null; "
            "Value null at 'partitionKey' failed to satisfy constraint: Member must not be null"));
}

TEST(api_model_validation, string_pattern_and_length) {
    EXPECT_EQ(
        outcome("DeleteStream", {{"StreamName", ""}}),
        validation("2 validation errors detected: "
                   "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy "
                   "regular expression pattern: [a-zA-Z0-9_.-]+; "
                   "Value '' at 'streamName' failed to satisfy constraint: Member must have length "
                   "greater than or equal to 1"));
    std::string long_name(129, 'a');
    EXPECT_EQ(
        outcome("DeleteStream", {{"StreamName", long_name}}),
        validation("1 validation error detected: Value '" + long_name +
                   "' at 'streamName' failed to satisfy constraint: Member must have length less "
                   "than or equal to 128"));
    EXPECT_EQ(outcome("DeleteStream", {{"StreamName", "has space"}}),
              validation("1 validation error detected: Value 'has space' at 'streamName' failed to "
                         "satisfy constraint: Member must satisfy regular expression pattern: "
                         "[a-zA-Z0-9_.-]+"));
}

TEST(api_model_validation, lengths_count_code_points_not_bytes) {
    // 256 two-byte characters: 512 bytes but 256 code points, the PartitionKey maximum.
    std::string key;
    for (int i = 0; i < 256; ++i) key += "\xc3\xa9";  // é
    EXPECT_EQ(outcome("PutRecord", {{"StreamName", "s"}, {"PartitionKey", key}, {"Data", ""}}),
              "ok");
    key += "\xf0\x9f\x98\x80";  // one 4-byte code point: now 257
    EXPECT_EQ(
        outcome("PutRecord", {{"StreamName", "s"}, {"PartitionKey", key}, {"Data", ""}}),
        validation("1 validation error detected: Value '" + key +
                   "' at 'partitionKey' failed to satisfy constraint: Member must have length "
                   "less than or equal to 256"));
    EXPECT_EQ(
        outcome("PutRecord", {{"StreamName", "s\xc3\xa9"}, {"PartitionKey", "k"}, {"Data", ""}}),
        validation("1 validation error detected: Value 's\xc3\xa9' at 'streamName' failed to "
                   "satisfy constraint: Member must satisfy regular expression pattern: "
                   "[a-zA-Z0-9_.-]+"));
}

TEST(api_model_validation, enum_values) {
    EXPECT_EQ(
        outcome("GetShardIterator",
                {{"StreamName", "s"}, {"ShardId", "shardId-0"}, {"ShardIteratorType", "latest"}}),
        validation("1 validation error detected: Value 'latest' at 'shardIteratorType' failed to "
                   "satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, "
                   "AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"));
}

TEST(api_model_validation, integer_ranges) {
    EXPECT_EQ(outcome("CreateStream", {{"StreamName", "s"}, {"ShardCount", 0}}),
              validation("1 validation error detected: Value '0' at 'shardCount' failed to satisfy "
                         "constraint: Member must have value greater than or equal to 1"));
    EXPECT_EQ(
        outcome("ListShards", {{"StreamName", "s"}, {"MaxResults", 10001}}),
        validation("1 validation error detected: Value '10001' at 'maxResults' failed to satisfy "
                   "constraint: Member must have value less than or equal to 10000"));
    EXPECT_EQ(
        outcome("CreateStream", {{"StreamName", "s"}, {"MaxRecordSizeInKiB", 1023}}),
        validation("1 validation error detected: Value '1023' at 'maxRecordSizeInKiB' failed to "
                   "satisfy constraint: Member must have value greater than or equal to 1024"));
}

// Coral floors fractional numbers and clamps them to the Java type (kinesalite checkTypes).
TEST(api_model_validation, integers_are_floored_and_clamped) {
    EXPECT_EQ(outcome("CreateStream", {{"StreamName", "s"}, {"ShardCount", 1.9}}), "ok");
    EXPECT_EQ(outcome("CreateStream", {{"StreamName", "s"}, {"ShardCount", 0.5}}),
              validation("1 validation error detected: Value '0' at 'shardCount' failed to satisfy "
                         "constraint: Member must have value greater than or equal to 1"));
    EXPECT_EQ(
        outcome("ListStreams", {{"Limit", 100000000000LL}}),
        validation("1 validation error detected: Value '2147483647' at 'limit' failed to satisfy "
                   "constraint: Member must have value less than or equal to 10000"));
    EXPECT_EQ(
        outcome("ListStreams", {{"Limit", 1e300}}),
        validation("1 validation error detected: Value '2147483647' at 'limit' failed to satisfy "
                   "constraint: Member must have value less than or equal to 10000"));
}

// kinesalite test/listShards.js "should return ValidationException for empty StreamName".
TEST(api_model_validation, several_errors_in_member_order) {
    EXPECT_EQ(
        outcome("ListShards",
                {{"StreamName", ""}, {"MaxResults", 0}, {"ExclusiveStartShardId", ""}}),
        validation("5 validation errors detected: "
                   "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy "
                   "regular expression pattern: [a-zA-Z0-9_.-]+; "
                   "Value '' at 'streamName' failed to satisfy constraint: Member must have length "
                   "greater than or equal to 1; "
                   "Value '' at 'exclusiveStartShardId' failed to satisfy constraint: Member must "
                   "satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
                   "Value '' at 'exclusiveStartShardId' failed to satisfy constraint: Member must "
                   "have length greater than or equal to 1; "
                   "Value '0' at 'maxResults' failed to satisfy constraint: Member must have value "
                   "greater than or equal to 1"));
}

// kinesalite test/putRecords.js "should return ValidationException for long StreamName".
TEST(api_model_validation, put_records_nested_paths) {
    std::string name(129, 'a');
    std::string key(257, 'a');
    EXPECT_EQ(
        outcome("PutRecords", {{"StreamName", name},
                               {"Records",
                                {{{"PartitionKey", "ok"}, {"Data", ""}},
                                 {{"PartitionKey", key}, {"Data", ""}, {"ExplicitHashKey", ""}}}}}),
        validation("3 validation errors detected: "
                   "Value '' at 'records.2.member.explicitHashKey' failed to satisfy constraint: "
                   "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38}); "
                   "Value '" +
                   key +
                   "' at 'records.2.member.partitionKey' failed to satisfy "
                   "constraint: Member must have length less than or equal to 256; "
                   "Value '" +
                   name +
                   "' at 'streamName' failed to satisfy constraint: Member must "
                   "have length less than or equal to 128"));
    EXPECT_EQ(outcome("PutRecords", {{"StreamName", "s"}, {"Records", {json::object()}}}),
              validation(
                  "2 validation errors detected: "
                  "Value null at 'records.1.member.data' failed to satisfy constraint: Member must "
                  "not be null; "
                  "Value null at 'records.1.member.partitionKey' failed to satisfy constraint: "
                  "Member must not be null"));
    EXPECT_EQ(outcome("PutRecords", {{"StreamName", "s"}, {"Records", json::array()}}),
              validation("1 validation error detected: Value '[]' at 'records' failed to satisfy "
                         "constraint: Member must have length greater than or equal to 1"));
}

TEST(api_model_validation, explicit_hash_key_pattern) {
    auto put = [](std::string hash_key) {
        return outcome("PutRecord", {{"StreamName", "s"},
                                     {"PartitionKey", "k"},
                                     {"Data", ""},
                                     {"ExplicitHashKey", std::move(hash_key)}});
    };
    EXPECT_EQ(put("0"), "ok");
    EXPECT_EQ(put(std::string(39, '9')), "ok");  // range checks against 2^128-1 are the handler's
    EXPECT_NE(put(std::string(40, '9')), "ok");
    EXPECT_NE(put("01"), "ok");
    EXPECT_NE(put("-1"), "ok");
    EXPECT_NE(put("1a"), "ok");
}

// kinesalite test/putRecords.js "should return ValidationException for too many records": AWS
// stops at 10 errors, and prints a list of structures as class@hash.
TEST(api_model_validation, stops_at_ten_errors) {
    json records = json::array();
    for (int i = 0; i < 501; ++i) records.push_back({{"PartitionKey", ""}, {"Data", ""}});
    std::string result = outcome("PutRecords", {{"StreamName", ""}, {"Records", records}});
    EXPECT_EQ(result.rfind("ValidationException: 10 validation errors detected: Value '["
                           "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@",
                           0),
              0u)
        << result.substr(0, 300);
    EXPECT_NE(
        result.find("]' at 'records' failed to satisfy constraint: Member must have length less "
                    "than or equal to 500; "
                    "Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: "
                    "Member must have length greater than or equal to 1; "),
        std::string::npos);
    EXPECT_NE(result.find("records.9.member.partitionKey"), std::string::npos);
    EXPECT_EQ(result.find("records.10.member"), std::string::npos);
    EXPECT_EQ(result.find("streamName"), std::string::npos);
}

TEST(api_model_validation, blob_length_uses_decoded_bytes) {
    // Data: max 10485760 in this model.
    EXPECT_EQ(
        outcome("PutRecord",
                {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", base64_of_zeros(10485760)}}),
        "ok");
    EXPECT_EQ(
        outcome("PutRecord",
                {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", base64_of_zeros(10485761)}}),
        validation("1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 "
                   "lim=10485761 cap=10485761]' at 'data' failed to satisfy constraint: Member "
                   "must have length less than or equal to 10485760"));
}

TEST(api_model_validation, map_keys_and_values_are_reported_once) {
    std::string long_key(129, 'k');
    std::string long_value(257, 'v');
    EXPECT_EQ(outcome("AddTagsToStream", {{"StreamName", "s"}, {"Tags", json::object()}}),
              validation("1 validation error detected: Value '{}' at 'tags' failed to satisfy "
                         "constraint: Member must have length greater than or equal to 1"));
    EXPECT_EQ(
        outcome("AddTagsToStream",
                {{"StreamName", "s"}, {"Tags", {{"a", "b"}, {long_key, "x"}, {"c", long_value}}}}),
        validation(
            "2 validation errors detected: "
            "Value '{a=b, c=" +
            long_value + ", " + long_key +
            "=x}' at 'tags' failed to "
            "satisfy constraint: Map keys must satisfy constraint: [Member must have length "
            "less than or equal to 128, Member must have length greater than or equal to 1]; "
            "Value '{a=b, c=" +
            long_value + ", " + long_key +
            "=x}' at 'tags' failed to "
            "satisfy constraint: Map value must satisfy constraint: [Member must have length "
            "less than or equal to 256, Member must have length greater than or equal to 0]"));
}

// kinesalite test/removeTagsFromStream.js "should return ValidationException for long TagKey".
TEST(api_model_validation, list_elements_are_reported_once) {
    std::string name(129, 'a');
    EXPECT_EQ(
        outcome("RemoveTagsFromStream", {{"StreamName", "s"}, {"TagKeys", {"a", name, "b", name}}}),
        validation("1 validation error detected: Value '[a, " + name + ", b, " + name +
                   "]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: "
                   "[Member must have length less than or equal to 128, Member must have length "
                   "greater than or equal to 1]"));
    EXPECT_EQ(
        outcome("EnableEnhancedMonitoring",
                {{"StreamName", "s"}, {"ShardLevelMetrics", {"ALL", "Nope"}}}),
        validation(
            "1 validation error detected: Value '[ALL, Nope]' at 'shardLevelMetrics' failed "
            "to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum "
            "value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, "
            "WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, "
            "IteratorAgeMilliseconds, ALL]]"));
}

// Handlers read every element of a list or map, so a null one is refused, never passed on
// (a null PutRecords entry once crashed the server).
TEST(api_model_validation, null_list_elements_and_map_values_are_missing_values) {
    EXPECT_EQ(outcome("PutRecords", {{"StreamName", "s"},
                                     {"Records", {{{"PartitionKey", "a"}, {"Data", ""}}, nullptr}}}),
              validation("2 validation errors detected: Value null at 'records.2.member.data' "
                         "failed to satisfy constraint: Member must not be null; Value null at "
                         "'records.2.member.partitionKey' failed to satisfy constraint: Member "
                         "must not be null"));
    EXPECT_EQ(outcome("RemoveTagsFromStream", {{"StreamName", "s"}, {"TagKeys", {"a", nullptr}}}),
              validation("1 validation error detected: Value null at 'tagKeys.2.member' failed "
                         "to satisfy constraint: Member must not be null"));
    EXPECT_EQ(outcome("EnableEnhancedMonitoring",
                      {{"StreamName", "s"}, {"ShardLevelMetrics", json::array({nullptr})}}),
              validation("1 validation error detected: Value null at 'shardLevelMetrics.1.member' "
                         "failed to satisfy constraint: Member must not be null"));
    EXPECT_EQ(outcome("AddTagsToStream", {{"StreamName", "s"}, {"Tags", {{"k", nullptr}}}}),
              validation("1 validation error detected: Value null at 'tags.k.member' failed to "
                         "satisfy constraint: Member must not be null"));
}

TEST(api_model_validation, nested_structure_paths) {
    EXPECT_EQ(
        outcome("CreateStream", {{"StreamName", "s"}, {"StreamModeDetails", json::object()}}),
        validation("1 validation error detected: Value null at 'streamModeDetails.streamMode' "
                   "failed to satisfy constraint: Member must not be null"));
    EXPECT_EQ(
        outcome("ListShards",
                {{"StreamName", "s"}, {"ShardFilter", {{"Type", "SOMETIME"}, {"ShardId", ""}}}}),
        validation(
            "3 validation errors detected: "
            "Value 'SOMETIME' at 'shardFilter.type' failed to satisfy constraint: Member must "
            "satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, "
            "AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]; "
            "Value '' at 'shardFilter.shardId' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
            "Value '' at 'shardFilter.shardId' failed to satisfy constraint: Member must have "
            "length greater than or equal to 1"));
}

TEST(api_model_validation, arn_patterns_use_full_match) {
    EXPECT_EQ(outcome("DescribeStreamSummary",
                      {{"StreamARN", "arn:aws:kinesis:us-east-1:123456789012:stream/s"}}),
              "ok");
    EXPECT_EQ(
        outcome("DescribeStreamSummary",
                {{"StreamARN", "arn:aws:kinesis:us-east-1:12345:stream/s"}}),
        validation("1 validation error detected: Value 'arn:aws:kinesis:us-east-1:12345:stream/s' "
                   "at 'streamARN' failed to satisfy constraint: Member must satisfy regular "
                   "expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+"));
    EXPECT_NE(outcome("DescribeStreamSummary",
                      {{"StreamARN", "xarn:aws:kinesis:us-east-1:123456789012:stream/s"}}),
              "ok");
}

// A model of the same format, for constraints the Kinesis model does not exercise.
TEST(api_model_validation, custom_model_blob_minimum) {
    auto custom = api_model::from_text(R"({
        "operations": {"Op": {"input": {"shape": "In"}}},
        "shapes": {
            "In": {"type": "structure", "required": ["B"],
                   "members": {"B": {"shape": "Bytes"}, "N": {"shape": "Count"}}},
            "Bytes": {"type": "blob", "min": 2, "max": 3},
            "Count": {"type": "long", "min": -5}
        }})");
    EXPECT_NO_THROW(custom->validate_input("Op", {{"B", "AAA="}}));
    try {
        custom->validate_input("Op", {{"B", "AA=="}, {"N", -6}});
        FAIL() << "expected a ValidationException";
    } catch (const api_error& e) {
        EXPECT_EQ(e.type, "ValidationException");
        EXPECT_STREQ(
            e.what(),
            "2 validation errors detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1 cap=1]' at "
            "'b' failed to satisfy constraint: Member must have length greater than or equal to 2; "
            "Value '-6' at 'n' failed to satisfy constraint: Member must have value greater than "
            "or equal to -5");
        EXPECT_EQ(e.status, 400);
    }
    EXPECT_THROW(custom->validate_input("Op", {{"B", "AAAAAA=="}}), api_error);
}

// ---------------------------------------------------------------------------------------------
// pattern_matcher

TEST(pattern_matcher, hot_patterns_take_the_fast_path) {
    for (const char* p : {"[a-zA-Z0-9_.-]+", "0|([1-9]\\d{0,38})", "0|([1-9]\\d{0,128})",
                          "[a-z0-9]{20}-[a-z0-9]{3}"}) {
        EXPECT_TRUE(pattern_matcher{p}.uses_fast_path()) << p;
    }
    for (const char* p :
         {"arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+", "^(arn):aws.*:x", "[^a]+", "(a|b)c"}) {
        EXPECT_FALSE(pattern_matcher{p}.uses_fast_path()) << p;
    }
}

TEST(pattern_matcher, matches_whole_text) {
    pattern_matcher name{"[a-zA-Z0-9_.-]+"};
    EXPECT_TRUE(name.matches("a-b_c.D9"));
    EXPECT_FALSE(name.matches(""));
    EXPECT_FALSE(name.matches("a b"));
    EXPECT_FALSE(name.matches("ab/"));
    EXPECT_FALSE(name.matches("\xc3\xa9"));

    pattern_matcher hash{"0|([1-9]\\d{0,38})"};
    EXPECT_TRUE(hash.matches("0"));
    EXPECT_TRUE(hash.matches("1"));
    EXPECT_TRUE(hash.matches(std::string(39, '9')));
    EXPECT_FALSE(hash.matches(std::string(40, '9')));
    EXPECT_FALSE(hash.matches("00"));
    EXPECT_FALSE(hash.matches(""));

    pattern_matcher id{"[a-z0-9]{20}-[a-z0-9]{3}"};
    EXPECT_TRUE(id.matches("abcdefghij0123456789-x1z"));
    EXPECT_FALSE(id.matches("abcdefghij012345678-x1z"));
    EXPECT_FALSE(id.matches("abcdefghij0123456789-x1zz"));

    pattern_matcher backtrack{"a*ab{2,}c?"};  // needs backtracking over a*
    EXPECT_TRUE(backtrack.matches("aaabb"));
    EXPECT_TRUE(backtrack.matches("abbbc"));
    EXPECT_FALSE(backtrack.matches("bb"));

    pattern_matcher arn{"arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+"};
    EXPECT_TRUE(arn.matches("arn:aws-cn:kinesis:cn-north-1:123456789012:stream/x"));
    EXPECT_FALSE(arn.matches("arn:aws:kinesis:us-east-1:123456789012:stream/"));
}

TEST(pattern_matcher, rejects_what_std_regex_rejects) {
    EXPECT_THROW(pattern_matcher{"[a-"}, std::regex_error);
}

}  // namespace
}  // namespace kinesd::api
