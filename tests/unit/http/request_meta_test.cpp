#include "kinesd/http/request_meta.hpp"

#include <gtest/gtest.h>

#include "kinesd/api/error.hpp"

using namespace kinesd;
using namespace kinesd::http;

TEST(request_meta, operation_comes_from_the_target_header) {
    EXPECT_EQ(operation_from_target("Kinesis_20131202.PutRecord"), "PutRecord");
    EXPECT_FALSE(operation_from_target(""));
    EXPECT_FALSE(operation_from_target("Kinesis_20131202."));
    EXPECT_FALSE(operation_from_target("DynamoDB_20120810.PutItem"));
}

TEST(request_meta, region_comes_from_the_sigv4_credential_scope) {
    EXPECT_EQ(region_from_authorization(
                  "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-west-2/kinesis/aws4_request, "
                  "SignedHeaders=host;x-amz-date, Signature=abc"),
              "us-west-2");
    EXPECT_EQ(region_from_authorization("AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-central-1/kinesis/aws4_request"),
              "eu-central-1");
    EXPECT_EQ(region_from_authorization(""), "");
    EXPECT_EQ(region_from_authorization("Basic abc"), "");
    EXPECT_EQ(region_from_authorization("AWS4-HMAC-SHA256 Credential=AKID/20240101"), "");
}

TEST(request_meta, cbor_bodies_are_refused_with_a_serialization_error) {
    EXPECT_NO_THROW(check_content_type("application/x-amz-json-1.1"));
    EXPECT_NO_THROW(check_content_type("application/json; charset=utf-8"));
    EXPECT_NO_THROW(check_content_type(""));
    try {
        check_content_type("application/x-amz-cbor-1.1");
        FAIL();
    } catch (const api_error& e) {
        EXPECT_EQ(e.type, "SerializationException");
    }
}
