// The fast path must change speed, never behaviour: every body it accepts, the generic path
// (nlohmann + api_model::validate_input) accepts too, with the same typed input; every body the
// model rejects, the fast path declines.
#include "kinesd/api/fast_path.hpp"

#include <gtest/gtest.h>

#include <random>

#include "kinesd/api/error.hpp"
#include "kinesd/api/model.hpp"
#include "kinesd/common/base64.hpp"

using namespace kinesd;
using namespace kinesd::api;
using json = nlohmann::json;

namespace {

bool model_accepts(std::string_view op, const std::string& body) {
    auto doc = json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return false;
    try {
        api_model::instance().validate_input(op, doc);
        return true;
    } catch (const api_error&) {
        return false;
    }
}

// The fast path leaves base64 validity to the decode in the handler, which declines (throws
// fast_path_declined) before changing anything; so an accepted body the model rejects must
// carry invalid base64.
bool has_invalid_base64(std::initializer_list<std::string_view> blobs) {
    for (auto b : blobs)
        if (!base64::decode(b)) return true;
    return false;
}

void expect_same(const stream_ref& a, const stream_ref& b) {
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.arn, b.arn);
}

void check_put_record(const std::string& body) {
    SCOPED_TRACE(body);
    const bool accepted = model_accepts("PutRecord", body);
    const auto* fast = fast_put_record(body);
    if (!accepted) {
        if (fast) {
            EXPECT_TRUE(has_invalid_base64({fast->data})) << "fast path accepted what the model rejects";
        }
        return;
    }
    if (!fast) return;  // declining is always allowed
    auto doc = json::parse(body);
    auto slow = put_record_from_json(doc);
    expect_same(fast->stream, slow.stream);
    EXPECT_EQ(fast->partition_key, slow.partition_key);
    EXPECT_EQ(fast->data, slow.data);
    EXPECT_EQ(fast->explicit_hash_key, slow.explicit_hash_key);
    EXPECT_EQ(fast->sequence_number_for_ordering, slow.sequence_number_for_ordering);
}

void check_put_records(const std::string& body) {
    SCOPED_TRACE(body.substr(0, 300));
    const bool accepted = model_accepts("PutRecords", body);
    const auto* fast = fast_put_records(body);
    if (!accepted) {
        if (fast) {
            bool invalid = false;
            for (const auto& r : fast->records) invalid = invalid || has_invalid_base64({r.data});
            EXPECT_TRUE(invalid) << "fast path accepted what the model rejects";
        }
        return;
    }
    if (!fast) return;
    auto doc = json::parse(body);
    auto slow = put_records_from_json(doc);
    expect_same(fast->stream, slow.stream);
    ASSERT_EQ(fast->records.size(), slow.records.size());
    for (std::size_t i = 0; i < slow.records.size(); ++i) {
        EXPECT_EQ(fast->records[i].partition_key, slow.records[i].partition_key);
        EXPECT_EQ(fast->records[i].data, slow.records[i].data);
        EXPECT_EQ(fast->records[i].explicit_hash_key, slow.records[i].explicit_hash_key);
    }
}

void check_get_records(const std::string& body) {
    SCOPED_TRACE(body);
    const bool accepted = model_accepts("GetRecords", body);
    const auto* fast = fast_get_records(body);
    if (!accepted) {
        EXPECT_EQ(fast, nullptr) << "fast path accepted what the model rejects";
        return;
    }
    if (!fast) return;
    auto doc = json::parse(body);
    auto slow = get_records_from_json(doc);
    EXPECT_EQ(fast->shard_iterator, slow.shard_iterator);
    EXPECT_EQ(fast->limit, slow.limit);
    EXPECT_EQ(fast->stream_arn, slow.stream_arn);
}

}  // namespace

TEST(fast_path, accepts_ordinary_requests) {
    EXPECT_NE(fast_put_record(R"({"StreamName":"s","PartitionKey":"k","Data":"YQ=="})"), nullptr);
    EXPECT_NE(fast_put_records(R"({"StreamName":"s","Records":[{"PartitionKey":"k","Data":""}]})"), nullptr);
    EXPECT_NE(fast_get_records(R"({"ShardIterator":"abc","Limit":10})"), nullptr);
}

TEST(fast_path, put_record_matches_the_model) {
    const char* bodies[] = {
        R"({"StreamName":"s","PartitionKey":"k","Data":"YQ=="})",
        R"({"StreamName":"s","PartitionKey":"k","Data":"YQ==","ExplicitHashKey":"123","SequenceNumberForOrdering":"0"})",
        R"({"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","PartitionKey":"k","Data":""})",
        R"({"StreamName":"s","PartitionKey":"k","Data":"YQ==","Unknown":[1,2,{"x":null}]})",
        R"({"StreamName":"s","PartitionKey":"k","Data":"YQ==","Unknown":3"x"})",
        R"({"StreamName":"s","PartitionKey":"ké\u00e9\"","Data":"YQ=="})",
        R"(  {"StreamName":"s","PartitionKey":"k","Data":"YQ=="}  )",
        // rejected by the model or malformed: must decline
        R"({"StreamName":"s","PartitionKey":"","Data":"YQ=="})",
        R"({"StreamName":"bad name","PartitionKey":"k","Data":"YQ=="})",
        R"({"StreamName":"s","PartitionKey":"k"})",
        R"({"StreamName":"s","Data":"YQ=="})",
        R"({"StreamName":"s","PartitionKey":"k","Data":"YQ="})",
        R"({"StreamName":"s","PartitionKey":"k","Data":"Y!=="})",
        R"({"StreamName":"s","PartitionKey":"k","Data":12})",
        R"({"StreamName":"s","PartitionKey":null,"Data":"YQ=="})",
        R"({"StreamName":"s","PartitionKey":"k","Data":"YQ==","ExplicitHashKey":"01"})",
        R"({"StreamName":"s","PartitionKey":"k","Data":"YQ==","ExplicitHashKey":"1234567890123456789012345678901234567890"})",
        R"({"StreamName":"s","PartitionKey":"k","Data":"YQ=="} x)",
        R"({"StreamName":"s","PartitionKey":"k","Data":"YQ=="}})",
        R"({"StreamName":"s","PartitionKey":"k","Data":"YQ==")",
        R"([1])",
        R"()",
        R"({"StreamName":"s","StreamName":"bad name","PartitionKey":"k","Data":"YQ=="})",
    };
    for (const char* b : bodies) check_put_record(b);
    std::string long_key(257, 'k');
    check_put_record(R"({"StreamName":"s","PartitionKey":")" + long_key + R"(","Data":"YQ=="})");
    std::string max_key(256, 'k');
    check_put_record(R"({"StreamName":"s","PartitionKey":")" + max_key + R"(","Data":"YQ=="})");
}

TEST(fast_path, put_records_matches_the_model) {
    const char* bodies[] = {
        R"({"StreamName":"s","Records":[{"PartitionKey":"a","Data":"YQ=="},{"PartitionKey":"b","Data":"","ExplicitHashKey":"7"}]})",
        R"({"StreamName":"s","Records":[]})",
        R"({"StreamName":"s","Records":[{"PartitionKey":"a"}]})",
        R"({"StreamName":"s","Records":[{"PartitionKey":"","Data":"YQ=="}]})",
        R"({"StreamName":"s","Records":[1]})",
        R"({"StreamName":"s","Records":{"PartitionKey":"a","Data":"YQ=="}})",
        R"({"StreamName":"s"})",
        R"({"StreamName":"s","Records":[{"PartitionKey":"a","Data":"YQ=="}],"Records":[]})",
    };
    for (const char* b : bodies) check_put_records(b);
    for (int n : {500, 501}) {
        std::string b = R"({"StreamName":"s","Records":[)";
        for (int i = 0; i < n; ++i) b += std::string(i ? "," : "") + R"({"PartitionKey":"k","Data":"YQ=="})";
        check_put_records(b + "]}");
    }
}

// Data is read from the raw JSON token (base64 has no escapes): whitespace around it is not
// part of it, and text with an escape (some serializers write '/' as "\/") is unescaped.
TEST(fast_path, data_with_escapes_or_whitespace_reads_as_the_generic_path_does) {
    const std::string bodies[] = {
        R"({"StreamName":"s","Records":[{"PartitionKey":"a","Data":"YQ\/\/"}]})",
        R"({"StreamName":"s","Records":[{"PartitionKey":"a","Data" :  "YQ//" , "ExplicitHashKey":"7"}]})",
        "{\"StreamName\":\"s\",\"Records\":[{\"PartitionKey\":\"a\",\"Data\":\n\t\"YQ//\"\r\n}]}",
        R"({"StreamName":"s","Records":[{"PartitionKey":"a","Data":"\u0059Q//"}]})",
    };
    for (const auto& b : bodies) check_put_records(b);
    const auto* escaped = fast_put_records(bodies[0]);
    ASSERT_NE(escaped, nullptr);
    EXPECT_EQ(escaped->records[0].data, "YQ//");
    const auto* spaced = fast_put_records(bodies[1]);
    ASSERT_NE(spaced, nullptr);
    EXPECT_EQ(spaced->records[0].data, "YQ//");
    const auto* unicode = fast_put_records(bodies[3]);
    ASSERT_NE(unicode, nullptr);
    EXPECT_EQ(unicode->records[0].data, "YQ//");
}

// With fast_path_padding readable after the body, the body is parsed in place: Data views point
// into the caller's buffer (no copy of the body). Without it, into the fast path's own copy.
TEST(fast_path, a_padded_body_is_parsed_in_place) {
    std::string body = R"({"StreamName":"s","Records":[{"PartitionKey":"a","Data":"YWJj"}]})";
    body.reserve(body.size() + fast_path_padding);
    const auto inside = [&](std::string_view v) {
        return v.data() >= body.data() && v.data() + v.size() <= body.data() + body.size();
    };
    const auto* in_place = fast_put_records(body, body.capacity() - body.size());
    ASSERT_NE(in_place, nullptr);
    EXPECT_EQ(in_place->records[0].data, "YWJj");
    EXPECT_TRUE(inside(in_place->records[0].data));
    const auto* copied = fast_put_records(body, fast_path_padding - 1);
    ASSERT_NE(copied, nullptr);
    EXPECT_EQ(copied->records[0].data, "YWJj");
    EXPECT_FALSE(inside(copied->records[0].data));
}

TEST(fast_path, get_records_matches_the_model) {
    const char* bodies[] = {
        R"({"ShardIterator":"abc"})",
        R"({"ShardIterator":"abc","Limit":10000})",
        R"({"ShardIterator":"abc","Limit":10001})",
        R"({"ShardIterator":"abc","Limit":0})",
        R"({"ShardIterator":"abc","Limit":1.5})",
        R"({"ShardIterator":"abc","Limit":"5"})",
        R"({"ShardIterator":""})",
        R"({"Limit":5})",
        R"({"ShardIterator":"abc","StreamARN":"nope"})",
    };
    for (const char* b : bodies) check_get_records(b);
}

// Random mutations of valid bodies: whatever the fast path accepts, the model accepts.
TEST(fast_path, random_mutations_never_widen_what_is_accepted) {
    std::mt19937 rng(12345);
    const std::string seeds[] = {
        R"({"StreamName":"orders","PartitionKey":"key-1","Data":"aGVsbG8=","ExplicitHashKey":"42"})",
        R"({"StreamName":"s","Records":[{"PartitionKey":"a","Data":"YQ=="},{"PartitionKey":"b","Data":"YmI="}]})",
        R"({"ShardIterator":"AAAA","Limit":25})",
    };
    const char alphabet[] = "{}[]\",:0123456789aZ=/+ \\nul-";
    for (int round = 0; round < 30000; ++round) {
        std::string b = seeds[round % 3];
        for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
            std::size_t pos = rng() % b.size();
            switch (rng() % 3) {
                case 0: b.erase(pos, 1); break;
                case 1: b.insert(pos, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
                default: b[pos] = alphabet[rng() % (sizeof alphabet - 1)];
            }
        }
        if (round % 3 == 0) check_put_record(b);
        else if (round % 3 == 1) check_put_records(b);
        else check_get_records(b);
    }
}
