"""Shard throughput limits and fault injection, as boto3 sees them.

kinesd throttles as AWS does (--throttle on, the default outside the test harness): per shard,
writes 1 MiB/s and 1000 records/s, reads 2 MiB/s and 5 GetRecords calls/s, each a bucket holding
one second's worth. The buckets run on the server's clock: tests of the limits freeze it through
the admin API and move it forward themselves, so what is throttled does not depend on how fast
a loaded machine runs them.
"""
import http.client
import json
import time
import unittest

import boto3
import botocore.config
import botocore.exceptions

from kinesd_harness import ACCESS_KEY, DEFAULT_REGION, SECRET_KEY, KinesdTestCase, unique_name

MIB = 1 << 20
KIB = 1 << 10
THROTTLED = "ProvisionedThroughputExceededException"


def error_code(exc):
    return exc.response["Error"]["Code"]


class AdminClient:
    """GET/POST/DELETE on the admin API."""

    def __init__(self, server):
        self.server = server

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            data = json.dumps(body) if isinstance(body, (dict, list)) else body
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            text = resp.read().decode()
            return resp.status, json.loads(text) if text else None
        finally:
            conn.close()



class ThrottlingCase(KinesdTestCase):
    def setUp(self):
        # max_attempts=1: every throttle reaches the test instead of being retried.
        self.no_retry = self.server.client(max_attempts=1)
        self.admin = AdminClient(self.server)

    def freeze_clock(self):
        """Stops the server's time until the test ends (then it runs again)."""
        self.assertEqual(self.admin.request("POST", "/_kinesd/clock", {"freeze": True})[0], 200)
        self.addCleanup(self.admin.request, "POST", "/_kinesd/clock", {"reset": True})

    def advance_ms(self, ms):
        self.assertEqual(self.admin.request("POST", "/_kinesd/clock", {"advanceMs": ms})[0], 200)

    def produce(self, stream, steps, step_ms=100, entry_bytes=40 * KIB, record_bytes=60 * KIB):
        """Each step: a PutRecords of 4 entries of entry_bytes, a PutRecord of record_bytes, then
        step_ms of server time (when the clock is frozen; else `advance` is skipped and time
        runs by itself). The defaults offer 220 KiB per 100 ms, about 2.15 MiB/s. Returns what
        was accepted and refused."""
        client = self.no_retry
        key = "k"
        stats = {"accepted_bytes": 0, "throttled_calls": 0, "throttled_entries": 0, "seqs": []}
        message = (f"Rate exceeded for shard shardId-000000000000 in stream {stream} "
                   "under account 000000000000.")
        for step in range(steps):
            if step and step_ms:
                self.advance_ms(step_ms)
            out = client.put_records(
                StreamName=stream,
                Records=[{"PartitionKey": key, "Data": b"e" * (entry_bytes - len(key))} for _ in range(4)],
            )
            failed = 0
            for entry in out["Records"]:
                if "ErrorCode" in entry:
                    self.assertEqual(entry["ErrorCode"], THROTTLED, entry)
                    self.assertEqual(entry["ErrorMessage"], message)
                    failed += 1
                else:
                    stats["accepted_bytes"] += entry_bytes
                    stats["seqs"].append(entry["SequenceNumber"])
            self.assertEqual(out["FailedRecordCount"], failed)
            stats["throttled_entries"] += failed
            try:
                ack = client.put_record(StreamName=stream, PartitionKey=key,
                                        Data=b"r" * (record_bytes - len(key)))
                stats["accepted_bytes"] += record_bytes
                stats["seqs"].append(ack["SequenceNumber"])
            except botocore.exceptions.ClientError as e:
                self.assertEqual(error_code(e), THROTTLED, e.response)
                self.assertEqual(e.response["Error"]["Message"], message)
                stats["throttled_calls"] += 1
        return stats

    def read_all(self, stream):
        """Every record of shard 0, by a consumer that lets boto3 retry throttled reads."""
        client = self.server.client(max_attempts=10)
        iterator = client.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = []
        for _ in range(1000):
            page = client.get_records(ShardIterator=iterator, Limit=10)
            records += page["Records"]
            if not page["Records"] and page["MillisBehindLatest"] == 0:
                return records
            iterator = page["NextShardIterator"]
        self.fail("shard not read to its end in 1000 calls")


class Throttled(ThrottlingCase):
    server_args = ("--throttle", "on", "--admin", "on")

    def test_writing_2_mib_per_second_into_one_shard_is_throttled_to_1_mib(self):
        stream = self.create_stream(1)
        self.freeze_clock()
        # 3 seconds of server time (writes at 0, 0.1, ..., 2.9 s), about 2.15 MiB/s offered.
        stats = self.produce(stream, steps=30)
        self.assertGreater(stats["throttled_calls"], 0, stats)
        self.assertGreater(stats["throttled_entries"], 0, stats)
        # The shard took its one-second burst plus 1 MiB per second of the 2.9 s, less what was
        # left in the bucket when the run ended (under one refused request's worth).
        self.assertLessEqual(stats["accepted_bytes"], 3.9 * MIB, stats)
        self.assertGreaterEqual(stats["accepted_bytes"], 3.9 * MIB - 100 * KIB, stats)
        # Every acknowledged record is there, once, in order; nothing refused was written.
        self.admin.request("POST", "/_kinesd/clock", {"reset": True})
        records = self.read_all(stream)
        self.assertEqual([r["SequenceNumber"] for r in records], stats["seqs"])

    def test_the_sixth_get_records_in_a_second_is_throttled(self):
        stream = self.create_stream(1)
        self.kinesis.put_record(StreamName=stream, PartitionKey="k", Data=b"x")
        iterator = self.kinesis.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        self.freeze_clock()
        for _ in range(5):
            self.no_retry.get_records(ShardIterator=iterator)
        with self.assertAwsError(THROTTLED, f"Rate exceeded for Shard - 000000000000/{stream}/shardId-000000000000"):
            self.no_retry.get_records(ShardIterator=iterator)
        self.advance_ms(200)  # one call's worth
        self.no_retry.get_records(ShardIterator=iterator)
        with self.assertAwsError(THROTTLED):
            self.no_retry.get_records(ShardIterator=iterator)

    def test_a_large_get_records_refuses_reads_until_repaid(self):
        stream = self.create_stream(1)
        self.freeze_clock()
        for i in range(5):  # 5 MiB, one second apart so the writes are not throttled
            self.advance_ms(1000)
            self.kinesis.put_record(StreamName=stream, PartitionKey="k", Data=b"z" * (MIB - 1))
        iterator = self.kinesis.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        page = self.no_retry.get_records(ShardIterator=iterator)
        self.assertEqual(len(page["Records"]), 5)
        # 5 MiB against a 2 MiB budget: 3 MiB of debt, repaid at 2 MiB/s in 1.5 s.
        self.advance_ms(1400)
        with self.assertAwsError(THROTTLED):
            self.no_retry.get_records(ShardIterator=page["NextShardIterator"])
        self.advance_ms(200)
        self.no_retry.get_records(ShardIterator=page["NextShardIterator"])

    def test_boto3_default_retries_ride_out_throttling(self):
        # Real time here: boto3's backoff waits for the bucket to refill, as against AWS.
        stream = self.create_stream(1)
        # boto3 as users get it: no retry configuration (legacy mode, 5 attempts).
        client = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=DEFAULT_REGION
        ).client("kinesis", endpoint_url=self.server.endpoint)
        payload = b"y" * (MIB - 1)  # with its 1-byte key, one second of the shard's budget
        retries = 0
        for _ in range(3):
            ack = client.put_record(StreamName=stream, PartitionKey="k", Data=payload)
            retries += ack["ResponseMetadata"]["RetryAttempts"]
        self.assertGreater(retries, 0, "3 MiB in a row into one shard should have been throttled")
        self.assertEqual(len(self.read_all(stream)), 3)


class Unthrottled(ThrottlingCase):
    server_args = ("--throttle", "off", "--admin", "on")

    def test_throttle_off_neither_writes_nor_reads_throttle(self):
        stream = self.create_stream(1)
        self.freeze_clock()
        stats = self.produce(stream, steps=30, step_ms=0)  # 6.4 MiB in no time at all
        self.assertEqual(stats["throttled_calls"], 0, stats)
        self.assertEqual(stats["throttled_entries"], 0, stats)
        iterator = self.kinesis.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for _ in range(20):
            iterator = self.no_retry.get_records(ShardIterator=iterator, Limit=100)["NextShardIterator"]


class ControlPlaneLimits(ThrottlingCase):
    server_args = ("--control-plane-limits", "on", "--admin", "on")

    def test_describe_stream_over_10_per_second_is_limit_exceeded(self):
        stream = self.create_stream(1)
        self.freeze_clock()
        self.advance_ms(1000)  # refills what the create_stream waiter used
        for _ in range(10):
            self.no_retry.describe_stream(StreamName=stream)
        with self.assertAwsError("LimitExceededException",
                                 f"Rate exceeded for stream {stream} under account 000000000000."):
            self.no_retry.describe_stream(StreamName=stream)
        self.advance_ms(100)
        self.no_retry.describe_stream(StreamName=stream)
        # Per account: another stream shares the budget.
        with self.assertAwsError("LimitExceededException"):
            self.no_retry.describe_stream(StreamName=unique_name())


class FaultInjection(ThrottlingCase):
    server_args = ("--admin", "on")  # throttling stays off (harness default): only faults fail

    def setUp(self):
        super().setUp()
        self.admin = AdminClient(self.server)
        self.admin.request("DELETE", "/_kinesd/faults")
        self.addCleanup(self.admin.request, "DELETE", "/_kinesd/faults")

    def add_fault(self, **spec):
        status, body = self.admin.request("POST", "/_kinesd/faults", spec)
        self.assertEqual(status, 200, body)
        return body["id"]

    def test_injected_put_records_throttles_fail_individual_records(self):
        stream = self.create_stream(1)
        other = self.create_stream(1)
        self.add_fault(operation="PutRecords", streamName=stream,
                       errorType=THROTTLED, rate=0.3, latencyMs=0)
        out = self.no_retry.put_records(
            StreamName=stream, Records=[{"PartitionKey": "k", "Data": bytes([i])} for i in range(10)]
        )
        self.assertEqual(out["FailedRecordCount"], 3)
        failed = [i for i, r in enumerate(out["Records"]) if "ErrorCode" in r]
        self.assertEqual(failed, [3, 6, 9])
        for i in failed:
            self.assertEqual(out["Records"][i]["ErrorCode"], THROTTLED)
            self.assertEqual(
                out["Records"][i]["ErrorMessage"],
                f"Rate exceeded for shard shardId-000000000000 in stream {stream} under account 000000000000.",
            )
        written = [r["Data"][0] for r in self.read_all(stream)]
        self.assertEqual(written, [0, 1, 2, 4, 5, 7, 8])
        # The fault names one stream: the other is untouched.
        out = self.no_retry.put_records(
            StreamName=other, Records=[{"PartitionKey": "k", "Data": b"z"} for _ in range(10)]
        )
        self.assertEqual(out["FailedRecordCount"], 0)

    def test_faults_are_listed_and_removed(self):
        a = self.add_fault(operation="GetRecords", errorType=THROTTLED)
        b = self.add_fault(operation="ListStreams", latencyMs=50, rate=0.5)
        status, body = self.admin.request("GET", "/_kinesd/faults")
        self.assertEqual(status, 200)
        self.assertEqual([f["id"] for f in body["faults"]], [a, b])
        self.assertEqual(body["faults"][0]["operation"], "GetRecords")
        self.assertEqual(body["faults"][0]["errorType"], THROTTLED)
        self.assertEqual(body["faults"][1]["latencyMs"], 50)
        self.assertEqual(self.admin.request("DELETE", f"/_kinesd/faults/{a}")[0], 200)
        self.assertEqual(self.admin.request("DELETE", f"/_kinesd/faults/{a}")[0], 404)
        self.assertEqual([f["id"] for f in self.admin.request("GET", "/_kinesd/faults")[1]["faults"]], [b])
        self.assertEqual(self.admin.request("DELETE", "/_kinesd/faults")[0], 200)
        self.assertEqual(self.admin.request("GET", "/_kinesd/faults")[1]["faults"], [])

    def test_bad_fault_bodies_are_refused(self):
        for body, fragment in [
            ({"errorType": THROTTLED}, "operation is required"),
            ({"operation": "Nope", "errorType": THROTTLED}, "Unknown operation Nope."),
            ({"operation": "PutRecords", "errorType": THROTTLED, "rate": 2}, "rate must be"),
            ({"operation": "ListStreams", "errorType": THROTTLED}, "cannot be injected"),
            ({"operation": "PutRecords"}, "Give an errorType"),
        ]:
            status, answer = self.admin.request("POST", "/_kinesd/faults", body)
            self.assertEqual(status, 400, body)
            self.assertEqual(answer["__type"], "InvalidArgumentException")
            self.assertIn(fragment, answer["message"])
        status, answer = self.admin.request("POST", "/_kinesd/faults", "not json")
        self.assertEqual(status, 400)
        self.assertEqual(answer["__type"], "SerializationException")

    def test_injected_errors_reach_the_client(self):
        stream = self.create_stream(1)
        iterator = self.kinesis.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="LATEST"
        )["ShardIterator"]
        self.add_fault(operation="GetRecords", streamName=stream, errorType=THROTTLED)
        self.add_fault(operation="DescribeStreamSummary", errorType="LimitExceededException")
        with self.assertAwsError(THROTTLED, f"Rate exceeded for Shard - 000000000000/{stream}/shardId-000000000000"):
            self.no_retry.get_records(ShardIterator=iterator)
        with self.assertAwsError("LimitExceededException",
                                 f"Rate exceeded for stream {stream} under account 000000000000."):
            self.no_retry.describe_stream_summary(StreamName=stream)
        # boto3's retries ride out an injected throttle of half the calls.
        self.admin.request("DELETE", "/_kinesd/faults")
        self.add_fault(operation="GetRecords", errorType=THROTTLED, rate=0.5)
        client = self.server.client(max_attempts=3)
        for _ in range(4):
            client.get_records(ShardIterator=iterator)

    def test_control_plane_limits_are_off_by_default(self):
        stream = self.create_stream(1)
        self.freeze_clock()
        for _ in range(30):  # 10 per second is DescribeStream's limit on AWS
            self.no_retry.describe_stream(StreamName=stream)

    def test_injected_latency_delays_the_answer(self):
        self.add_fault(operation="ListStreams", latencyMs=300)
        start = time.monotonic()
        self.kinesis.list_streams()
        self.assertGreaterEqual(time.monotonic() - start, 0.3)


class InjectedLatencyHoldsNoThread(KinesdTestCase):
    """An injected latency delays its own answer only: with one I/O thread, another client is
    answered while a delayed put is still waiting."""

    server_args = ("--admin", "on", "--threads", "1")

    def test_other_requests_are_answered_during_an_injected_latency(self):
        import threading

        admin = AdminClient(self.server)
        stream = self.create_stream(1)
        admin.request("POST", "/_kinesd/faults", {"operation": "PutRecord", "latencyMs": 4000, "rate": 1})
        self.addCleanup(admin.request, "DELETE", "/_kinesd/faults")
        answers = {}

        def delayed_put():
            answers["put"] = self.server.client(max_attempts=1).put_record(
                StreamName=stream, PartitionKey="k", Data=b"late")

        put = threading.Thread(target=delayed_put, daemon=True)
        put.start()
        # The put has reached the server (and drawn the fault) once the fault counts a draw;
        # the admin answers come from the same single thread as the put.
        deadline = time.monotonic() + 30
        while admin.request("GET", "/_kinesd/faults")[1]["faults"][0]["draws"] == 0:
            self.assertTrue(put.is_alive(), answers)
            self.assertLess(time.monotonic(), deadline, "the put never reached the server")
            time.sleep(0.01)
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName=stream)[
            "StreamDescriptionSummary"]["StreamStatus"], "ACTIVE")
        self.assertTrue(put.is_alive(), "the delayed put was answered before the other request")
        put.join(30)
        self.assertEqual(answers["put"]["ShardId"], "shardId-000000000000")


class FaultsNeedTheAdminApi(KinesdTestCase):
    def test_fault_paths_are_not_served_without_admin_on(self):
        status, _ = AdminClient(self.server).request("GET", "/_kinesd/faults")
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
