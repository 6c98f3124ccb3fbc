"""Bad input and what the client sees: error types, AWS's message wording, HTTP status and headers,
through boto3 (with client-side validation off) and through raw HTTP for what boto3 cannot send.

Message texts are AWS's as recorded in mhart/kinesalite's test suite (test/*.js), which was
checked against the real service."""
import base64
import http.client
import json
import socket
import unittest

import botocore.exceptions

from kinesd_harness import (
    ACCOUNT,
    MAX_HASH_KEY,
    KinesdTestCase,
    sign_request,
    unique_name,
)

ONE_MIB = 1024 * 1024
ONE_ERROR = "1 validation error detected: "


def validation(value, member, constraint):
    """AWS's text for one failed constraint: value is the Java rendering, or None for null."""
    shown = "null" if value is None else f"'{value}'"
    return f"Value {shown} at '{member}' failed to satisfy constraint: Member must {constraint}"


class ErrorCase(KinesdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # No client-side checks, no retries: every request reaches kinesd once.
        cls.raw_client = cls.server.client(validate=False, max_attempts=1)
        cls.name = unique_name("err")
        cls.kinesis.create_stream(StreamName=cls.name, ShardCount=2)
        cls.kinesis.get_waiter("stream_exists").wait(
            StreamName=cls.name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 150})


class Validation(ErrorCase):
    def test_stream_name_pattern(self):
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                "bad name!", "streamName",
                "satisfy regular expression pattern: [a-zA-Z0-9_.-]+")):
            self.raw_client.describe_stream(StreamName="bad name!")

    def test_stream_name_too_long(self):
        name = "a" * 129
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                name, "streamName", "have length less than or equal to 128")):
            self.raw_client.describe_stream_summary(StreamName=name)

    def test_missing_required_member(self):
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                None, "partitionKey", "not be null")):
            self.raw_client.put_record(StreamName=self.name, Data=b"x")
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                None, "shardIterator", "not be null")):
            self.raw_client.get_records()
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                None, "records", "not be null")):
            self.raw_client.put_records(StreamName=self.name)

    def test_shard_count_zero(self):
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                0, "shardCount", "have value greater than or equal to 1")):
            self.raw_client.create_stream(StreamName=unique_name(), ShardCount=0)

    def test_several_errors_are_counted_and_joined(self):
        with self.assertAwsError("ValidationException") as ctx:
            self.raw_client.create_stream(StreamName="", ShardCount=0)
        message = ctx.error["Message"]
        self.assertTrue(message.startswith("3 validation errors detected: "), message)
        parts = message[len("3 validation errors detected: "):].split("; ")
        self.assertCountEqual(parts, [
            validation(0, "shardCount", "have value greater than or equal to 1"),
            validation("", "streamName", "satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
            validation("", "streamName", "have length greater than or equal to 1"),
        ])

    def test_integer_ranges(self):
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                10001, "limit", "have value less than or equal to 10000")):
            self.raw_client.get_records(ShardIterator="some-iterator", Limit=10001)
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                0, "limit", "have value greater than or equal to 1")):
            self.raw_client.list_streams(Limit=0)
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                0, "maxResults", "have value greater than or equal to 1")):
            self.raw_client.list_shards(StreamName=self.name, MaxResults=0)

    def test_shard_iterator_type_enum(self):
        with self.assertAwsError("ValidationException", contains=[
                ONE_ERROR + "Value 'BOGUS' at 'shardIteratorType' failed to satisfy constraint: "
                "Member must satisfy enum value set: [",
                "AT_TIMESTAMP", "TRIM_HORIZON"]):
            self.raw_client.get_shard_iterator(StreamName=self.name, ShardId="shardId-000000000000",
                                               ShardIteratorType="BOGUS")

    def test_put_records_count_limits(self):
        records = [{"PartitionKey": "k", "Data": b"x"}] * 501
        with self.assertAwsError("ValidationException", contains=[
                ONE_ERROR + "Value '",
                "' at 'records' failed to satisfy constraint: "
                "Member must have length less than or equal to 500"]):
            self.raw_client.put_records(StreamName=self.name, Records=records)
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                "[]", "records", "have length greater than or equal to 1")):
            self.raw_client.put_records(StreamName=self.name, Records=[])
        # 500 is fine.
        resp = self.raw_client.put_records(StreamName=self.name, Records=records[:500])
        self.assertEqual(resp["FailedRecordCount"], 0)

    def test_partition_key_length(self):
        key = "k" * 257
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                key, "partitionKey", "have length less than or equal to 256")):
            self.raw_client.put_record(StreamName=self.name, PartitionKey=key, Data=b"x")
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                "", "partitionKey", "have length greater than or equal to 1")):
            self.raw_client.put_record(StreamName=self.name, PartitionKey="", Data=b"x")

    def test_hash_key_and_sequence_number_patterns(self):
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                "abc", "explicitHashKey",
                "satisfy regular expression pattern: 0|([1-9]\\d{0,38})")):
            self.raw_client.put_record(StreamName=self.name, PartitionKey="k", Data=b"x",
                                       ExplicitHashKey="abc")
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                "12a", "startingSequenceNumber",
                "satisfy regular expression pattern: 0|([1-9]\\d{0,128})")):
            self.raw_client.get_shard_iterator(
                StreamName=self.name, ShardId="shardId-000000000000",
                ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber="12a")

    def test_stream_arn_pattern(self):
        with self.assertAwsError("ValidationException", contains=[
                ONE_ERROR + "Value 'not-an-arn' at 'streamARN' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: "]):
            self.raw_client.describe_stream_summary(StreamARN="not-an-arn")

    def test_shard_iterator_too_long(self):
        iterator = "a" * 513
        with self.assertAwsError("ValidationException", ONE_ERROR + validation(
                iterator, "shardIterator", "have length less than or equal to 512")):
            self.raw_client.get_records(ShardIterator=iterator)


class InvalidArguments(ErrorCase):
    def put(self, **kwargs):
        return self.kinesis.put_record(StreamName=self.name, PartitionKey="k", Data=b"x", **kwargs)

    def test_explicit_hash_key_out_of_range(self):
        too_big = str(MAX_HASH_KEY + 1)
        with self.assertAwsError(
                "InvalidArgumentException",
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                f"Specified value was {too_big}"):
            self.raw_client.put_record(StreamName=self.name, PartitionKey="k", Data=b"x",
                                       ExplicitHashKey=too_big)
        self.assertEqual(self.put(ExplicitHashKey=str(MAX_HASH_KEY))["ShardId"],
                         "shardId-000000000001")

    def test_invalid_shard_iterator(self):
        with self.assertAwsError("InvalidArgumentException", "Invalid ShardIterator."):
            self.raw_client.get_records(ShardIterator="not-a-real-iterator")
        iterator = self.kinesis.get_shard_iterator(
            StreamName=self.name, ShardId="shardId-000000000000",
            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        middle = len(iterator) // 2
        tampered = iterator[:middle] + ("A" if iterator[middle] != "A" else "B") \
            + iterator[middle + 1:]
        with self.assertAwsError("InvalidArgumentException", "Invalid ShardIterator."):
            self.raw_client.get_records(ShardIterator=tampered)

    def test_sequence_number_of_another_shard(self):
        put = self.put(ExplicitHashKey=str(MAX_HASH_KEY))
        self.assertEqual(put["ShardId"], "shardId-000000000001")
        with self.assertAwsError(
                "InvalidArgumentException",
                "Invalid StartingSequenceNumber. It encodes shardId-000000000001, "
                "while it was used in a call to a shard with shardId-000000000000"):
            self.raw_client.get_shard_iterator(
                StreamName=self.name, ShardId="shardId-000000000000",
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                StartingSequenceNumber=put["SequenceNumber"])

    def test_malformed_sequence_number(self):
        for seq in ("12345678901234567890", "1" + "0" * 60):
            # AWS sometimes echoes such a number re-encoded, so only the member name is checked.
            with self.subTest(seq=seq), self.assertAwsError(
                    "InvalidArgumentException", contains="StartingSequenceNumber"):
                self.raw_client.get_shard_iterator(
                    StreamName=self.name, ShardId="shardId-000000000000",
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seq)

    def test_iterator_type_and_starting_sequence_number_must_agree(self):
        with self.assertAwsError("InvalidArgumentException", contains=[
                "Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber."]):
            self.raw_client.get_shard_iterator(StreamName=self.name, ShardId="shardId-000000000000",
                                               ShardIteratorType="AT_SEQUENCE_NUMBER")
        seq = self.put(ExplicitHashKey="0")["SequenceNumber"]
        with self.assertAwsError("InvalidArgumentException", contains=[
                "Request specified LATEST and also a StartingSequenceNumber."]):
            self.raw_client.get_shard_iterator(StreamName=self.name, ShardId="shardId-000000000000",
                                               ShardIteratorType="LATEST",
                                               StartingSequenceNumber=seq)
        with self.assertAwsError(
                "InvalidArgumentException",
                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                "Current request has no timestamp parameter."):
            self.raw_client.get_shard_iterator(StreamName=self.name, ShardId="shardId-000000000000",
                                               ShardIteratorType="AT_TIMESTAMP")

    def test_list_shards_argument_combinations(self):
        token = self.kinesis.list_shards(StreamName=self.name, MaxResults=1)["NextToken"]
        with self.assertAwsError("InvalidArgumentException",
                                 "NextToken and StreamName cannot be provided together."):
            self.raw_client.list_shards(StreamName=self.name, NextToken=token)
        with self.assertAwsError("InvalidArgumentException",
                                 "NextToken and ExclusiveStartShardId cannot be provided together."):
            self.raw_client.list_shards(NextToken=token,
                                        ExclusiveStartShardId="shardId-000000000000")
        with self.assertAwsError("InvalidArgumentException", contains="NextToken"):
            self.raw_client.list_shards()

    def test_record_larger_than_one_mib(self):
        # The model allows Data up to 10 MiB (for streams whose MaxRecordSizeInKiB was raised);
        # a new stream takes 1 MiB, partition key included.
        key = "k"
        for size in (2 * ONE_MIB, ONE_MIB - len(key) + 1):
            with self.subTest(size=size), self.assertAwsError(
                    ("ValidationException", "InvalidArgumentException")):
                self.raw_client.put_record(StreamName=self.name, PartitionKey=key,
                                           Data=b"\0" * size)
            with self.subTest(size=size, op="PutRecords"):
                try:
                    resp = self.raw_client.put_records(
                        StreamName=self.name, Records=[{"PartitionKey": key, "Data": b"\0" * size}])
                except botocore.exceptions.ClientError as e:
                    self.assertIn(e.response["Error"]["Code"],
                                  ("ValidationException", "InvalidArgumentException"))
                else:
                    self.assertEqual(resp["FailedRecordCount"], 1, resp)


class NotFound(ErrorCase):
    def test_get_shard_iterator_on_a_missing_shard(self):
        for shard_id in ("shardId-000000000005", "shardId-5"):
            with self.subTest(shard_id=shard_id), self.assertAwsError(
                    "ResourceNotFoundException",
                    f"Shard shardId-000000000005 in stream {self.name} under account {ACCOUNT} "
                    "does not exist"):
                self.raw_client.get_shard_iterator(StreamName=self.name, ShardId=shard_id,
                                                   ShardIteratorType="LATEST")

    def test_get_shard_iterator_with_an_unreadable_shard_id(self):
        with self.assertAwsError("ResourceNotFoundException", contains=["ABKLFD8", self.name]):
            self.raw_client.get_shard_iterator(StreamName=self.name, ShardId="ABKLFD8",
                                               ShardIteratorType="LATEST")

    def test_short_shard_ids_are_accepted(self):
        # AWS reads the digits after the last '-' (or the whole id if it is all digits).
        for shard_id in ("shardId-1", "1", "anything-000001"):
            with self.subTest(shard_id=shard_id):
                resp = self.kinesis.get_shard_iterator(StreamName=self.name, ShardId=shard_id,
                                                       ShardIteratorType="TRIM_HORIZON")
                self.assertIn("ShardIterator", resp)


class RawHttp(ErrorCase):
    def assertError(self, resp, error_type):
        self.assertEqual(resp.status, 400, resp)
        self.assertEqual(resp.headers.get("content-type"), "application/x-amz-json-1.1", resp)
        self.assertTrue(resp.headers.get("x-amzn-requestid"), resp)
        self.assertTrue(resp.headers.get("x-amzn-errortype", "").startswith(error_type), resp)
        body = resp.json()
        self.assertEqual(body["__type"].split("#")[-1], error_type, resp)
        return body.get("message", body.get("Message"))

    def test_success_headers(self):
        resp = self.server.raw("ListStreams", {})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.headers.get("content-type"), "application/x-amz-json-1.1")
        self.assertTrue(resp.headers.get("x-amzn-requestid"))
        self.assertIn(self.name, resp.json()["StreamNames"])
        other = self.server.raw("ListStreams", {})
        self.assertNotEqual(other.headers["x-amzn-requestid"], resp.headers["x-amzn-requestid"])

    def test_error_headers_and_body(self):
        name = unique_name("missing")
        resp = self.server.raw("DescribeStream", {"StreamName": name})
        message = self.assertError(resp, "ResourceNotFoundException")
        self.assertEqual(message, f"Stream {name} under account {ACCOUNT} not found.")

    def test_unknown_operation(self):
        self.assertError(self.server.raw("NoSuchOperation", {}), "UnknownOperationException")
        self.assertError(self.server.raw("listStreams", {}), "UnknownOperationException")

    def test_missing_target(self):
        self.assertError(self.server.raw(None, {}), "UnknownOperationException")

    def test_malformed_json(self):
        for body in (b'{"StreamName": ', b"not json", b"{'single': 'quotes'}", b"\xff\xfe"):
            with self.subTest(body=body):
                self.assertError(self.server.raw("DescribeStream", body), "SerializationException")

    def test_empty_body(self):
        self.assertError(self.server.raw("ListStreams", b""), "SerializationException")

    def test_non_object_body(self):
        for body in (b"[]", b'"ListStreams"', b"42"):
            with self.subTest(body=body):
                self.assertError(self.server.raw("ListStreams", body), "SerializationException")

    def test_wrong_member_types(self):
        cases = [
            ("DescribeStream", {"StreamName": True}, "can not be converted to an String"),
            ("DescribeStream", {"StreamName": 23}, "can not be converted to an String"),
            ("DescribeStream", {"StreamName": []}, "Start of list found where not expected"),
            ("DescribeStream", {"StreamName": {}},
             "Start of structure or map found where not expected."),
            ("CreateStream", {"StreamName": "x", "ShardCount": "2"},
             "class java.lang.String can not be converted to an Integer"),
            ("GetRecords", {"ShardIterator": "x", "Limit": True},
             "class java.lang.Boolean can not be converted to an Integer"),
            ("PutRecords", {"StreamName": "x", "Records": "23"}, "Expected list or null"),
            ("PutRecords", {"StreamName": "x", "Records": ["23"]}, "Expected null"),
        ]
        for target, body, fragment in cases:
            with self.subTest(target=target, body=body):
                message = self.assertError(self.server.raw(target, body), "SerializationException")
                self.assertIn(fragment, message or "")

    def test_data_that_is_not_base64(self):
        resp = self.server.raw("PutRecord", {"StreamName": self.name, "PartitionKey": "k",
                                             "Data": "!!!!"})
        self.assertError(resp, "SerializationException")

    def test_region_comes_from_the_signature(self):
        name = unique_name("raw")
        resp = self.server.raw("CreateStream", {"StreamName": name, "ShardCount": 1},
                               region="eu-west-1")
        self.assertEqual(resp.status, 200, resp)
        west = self.server.client(region="eu-west-1")
        west.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig=self.waiter_config())
        self.assertEqual(west.describe_stream_summary(StreamName=name)
                         ["StreamDescriptionSummary"]["StreamARN"],
                         f"arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/{name}")
        self.assertNotIn(name, self.kinesis.list_streams()["StreamNames"])


def send_oversized_body(server, size):
    """POSTs a signed `size`-byte ListStreams body. Returns the HTTP status, or None when the
    server closed the connection instead of answering."""
    body = b'{"Limit": 1, "Padding": "' + b"a" * (size - 30) + b'"}'
    headers = sign_request(server.endpoint, body, {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Kinesis_20131202.ListStreams",
    })
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest("POST", "/", skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        view = memoryview(body)
        try:
            for i in range(0, len(body), 1 << 20):
                conn.send(view[i:i + (1 << 20)])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: it may still have answered
        try:
            resp = conn.getresponse()
            resp.read()
            return resp.status
        except (http.client.HTTPException, ConnectionResetError, BrokenPipeError):
            return None
    finally:
        conn.close()


def send_huge_content_length(server):
    """Announces a 1 GiB body but sends 1 KiB; returns the status or None if closed.
    Raises socket.timeout if the server waits for the rest (it should refuse at once)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-amz-json-1.1\r\n"
            b"X-Amz-Target: Kinesis_20131202.ListStreams\r\n"
            b"Content-Length: 1073741824\r\n\r\n" + b"a" * 1024)
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            return None
        if not data:
            return None
        return int(data.split(b" ", 2)[1])


def read_http_response(sock):
    """One HTTP/1.x answer read off `sock`: (status line, headers lowercased, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before the headers: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed inside the body")
        rest += chunk
    return lines[0], headers, rest[:length]


def raw_request(version, target, body, extra=b""):
    return (b"POST / HTTP/" + version + b"\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202." + target +
            b"\r\n" + extra + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


class WireFormat(ErrorCase):
    """The status line and headers of answers as HTTP/1.x clients read them."""

    def test_keep_alive_answers_reuse_the_connection(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            for _ in range(3):
                s.sendall(raw_request(b"1.1", b"ListStreams", b"{}"))
                status, headers, body = read_http_response(s)
                self.assertEqual(status, "HTTP/1.1 200 OK")
                self.assertEqual(headers["content-type"], "application/x-amz-json-1.1")
                self.assertEqual(headers["server"], "kinesd")
                self.assertRegex(headers["x-amzn-requestid"], r"^[0-9a-f-]{36}$")
                self.assertNotIn("connection", headers)  # keep-alive is HTTP/1.1's default
                self.assertIn(self.name, json.loads(body)["StreamNames"])
            # HTTP/1.0 asking for keep-alive is told so, and the connection stays open.
            s.sendall(raw_request(b"1.0", b"ListStreams", b"{}", b"Connection: keep-alive\r\n"))
            status, headers, _ = read_http_response(s)
            self.assertEqual(status, "HTTP/1.0 200 OK")
            self.assertEqual(headers["connection"], "keep-alive")
            s.sendall(raw_request(b"1.1", b"ListStreams", b"{}"))
            self.assertEqual(read_http_response(s)[0], "HTTP/1.1 200 OK")

    def test_an_error_answer_names_its_type_and_close_is_honoured(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(raw_request(b"1.1", b"NoSuchOperation", b"{}", b"Connection: close\r\n"))
            status, headers, body = read_http_response(s)
            self.assertEqual(status, "HTTP/1.1 400 Bad Request")
            self.assertEqual(headers["x-amzn-errortype"], "UnknownOperationException")
            self.assertEqual(headers["connection"], "close")
            self.assertEqual(json.loads(body)["__type"], "UnknownOperationException")
            self.assertEqual(s.recv(1), b"")  # closed after the answer
        # HTTP/1.0 without keep-alive: closed after the answer as well.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(raw_request(b"1.0", b"ListStreams", b"{}"))
            status, headers, _ = read_http_response(s)
            self.assertEqual(status, "HTTP/1.0 200 OK")
            self.assertNotIn("connection", headers)
            self.assertEqual(s.recv(1), b"")

    def test_a_body_in_two_writes_and_a_request_pipelined_after_it_are_both_read(self):
        # A body of known length: the part that came with the header goes through the parser,
        # the rest is read straight into the body; the next request's bytes, sent in the same
        # write as the end of the body, must stay for the next read. Whatever the timing, the
        # answers and the stored bytes are the same.
        payload = bytes(range(256)) * 800  # 200 KiB, every byte value
        record = json.dumps({"StreamName": self.name, "PartitionKey": "split",
                             "Data": base64.b64encode(payload).decode()}).encode()
        first = raw_request(b"1.1", b"PutRecord", record)
        cut = first.index(b"\r\n\r\n") + 4 + 1000
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(first[:cut])
            s.sendall(first[cut:] + raw_request(b"1.1", b"ListStreams", b"{}"))
            status, _, body = read_http_response(s)
            self.assertEqual(status, "HTTP/1.1 200 OK", body)
            answer = json.loads(body)
            status, _, body = read_http_response(s)
            self.assertEqual(status, "HTTP/1.1 200 OK", body)
            self.assertIn(self.name, json.loads(body)["StreamNames"])
        iterator = self.kinesis.get_shard_iterator(
            StreamName=self.name, ShardId=answer["ShardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=answer["SequenceNumber"])["ShardIterator"]
        records = self.kinesis.get_records(ShardIterator=iterator, Limit=1)["Records"]
        self.assertEqual(records[0]["Data"], payload)

    def test_requests_are_read_with_any_header_case_chunked_bodies_and_repeated_headers(self):
        record = json.dumps({"StreamName": self.name, "PartitionKey": "chunked",
                             "Data": base64.b64encode(b"sent in chunks").decode()}).encode()
        half = len(record) // 2
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (record[:half], record[half:]))
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            # Lower-case names, a chunked body in two chunks, and X-Amz-Target given twice
            # (the first counts, as with Beast's own message parser before).
            s.sendall(b"POST / HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                      b"content-type: application/x-amz-json-1.1\r\n"
                      b"x-amz-target: Kinesis_20131202.PutRecord\r\n"
                      b"X-Amz-Target: Kinesis_20131202.NoSuchOperation\r\n"
                      b"transfer-encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
            status, _, body = read_http_response(s)
            self.assertEqual(status, "HTTP/1.1 200 OK", body)
            answer = json.loads(body)
            # The next request on the connection is read from where the chunked one ended.
            s.sendall(raw_request(b"1.1", b"ListStreams", b"{}"))
            self.assertEqual(read_http_response(s)[0], "HTTP/1.1 200 OK")
        iterator = self.kinesis.get_shard_iterator(
            StreamName=self.name, ShardId=answer["ShardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=answer["SequenceNumber"])["ShardIterator"]
        records = self.kinesis.get_records(ShardIterator=iterator, Limit=1)["Records"]
        self.assertEqual(records[0]["Data"], b"sent in chunks")
        self.assertEqual(records[0]["PartitionKey"], "chunked")


class Robustness(ErrorCase):
    def test_oversized_body_is_refused(self):
        status = send_oversized_body(self.server, 64 * ONE_MIB)
        self.assertIn(status, (None, 400, 413), "a 64 MiB body was accepted")
        self.assertTrue(self.server.is_running())
        self.assertIn(self.name, self.kinesis.list_streams()["StreamNames"])

    def test_huge_content_length_is_refused_without_waiting_for_the_body(self):
        status = send_huge_content_length(self.server)
        self.assertIn(status, (None, 400, 413))
        self.assertTrue(self.server.is_running())

    def test_a_body_over_the_limit_is_refused_in_the_request_s_http_version(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"POST / HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/x-amz-json-1.1\r\n"
                      b"X-Amz-Target: Kinesis_20131202.ListStreams\r\n"
                      b"Content-Length: 1073741824\r\n\r\n")
            status, headers, body = read_http_response(s)
        self.assertEqual(status, "HTTP/1.0 400 Bad Request")
        self.assertEqual(json.loads(body)["__type"], "SerializationException")

    def test_server_survives_bad_input_and_still_answers(self):
        """Replays every kind of bad request (and broken connections), then ListStreams."""
        for target, body in [
            ("NoSuchOperation", b"{}"), (None, b"{}"), ("ListStreams", b"{"),
            ("ListStreams", b"[]"), ("ListStreams", b""), ("DescribeStream", b'{"StreamName": 1}'),
            ("PutRecord", b'{"StreamName": "x", "PartitionKey": "k", "Data": "%%%"}'),
            ("GetRecords", b'{"ShardIterator": "garbage"}'),
            ("PutRecords", json.dumps({"StreamName": self.name, "Records": [
                {"PartitionKey": "k", "Data": ""}] * 501}).encode()),
            # Null elements of lists and maps: handlers must never see them.
            ("PutRecords", json.dumps({"StreamName": self.name, "Records": [
                {"PartitionKey": "k", "Data": ""}, None]}).encode()),
            ("PutRecords", json.dumps({"StreamName": self.name, "Records": [None]}).encode()),
            ("RemoveTagsFromStream", json.dumps({"StreamName": self.name, "TagKeys": [None]}).encode()),
            ("AddTagsToStream", json.dumps({"StreamName": self.name, "Tags": {"k": None}}).encode()),
            ("EnableEnhancedMonitoring", json.dumps(
                {"StreamName": self.name, "ShardLevelMetrics": [None]}).encode()),
        ]:
            resp = self.server.raw(target, body)
            self.assertEqual(resp.status, 400, (target, body, resp))
        send_oversized_body(self.server, 64 * ONE_MIB)
        # A request cut off in the middle of its body, and bytes that are not HTTP at all.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"Str")
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"\x00\x01\x02 this is not http \r\n\r\n\r\n")
            try:
                s.recv(4096)
            except (ConnectionResetError, socket.timeout):
                pass
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10):
            pass  # connect and hang up without a byte

        self.assertTrue(self.server.is_running(), self.server.stderr_text())
        resp = self.kinesis.list_streams()
        self.assertIn(self.name, resp["StreamNames"])
        put = self.kinesis.put_record(StreamName=self.name, PartitionKey="k", Data=b"alive")
        self.assertIn("SequenceNumber", put)


if __name__ == "__main__":
    unittest.main()
