"""SubscribeToShard (enhanced fan-out) with boto3 over HTTP/1.1: the initial response, records
pushed as they arrive (each exactly once, in order) with their ContinuationSequenceNumber,
resubscribing from it, LATEST and TRIM_HORIZON, the errors before the stream starts (the
5-second rule among them), the 5-minute end (through the admin clock) and ChildShards at the
end of a split shard. Waits are bounded: the server sends an event at least every 5 s."""
import http.client
import json
import threading
import time
import unittest

from kinesd_harness import KinesdTestCase, stream_arn

SHARD0 = "shardId-000000000000"


class Subscribe(KinesdTestCase):
    server_args = ("--admin", "on")

    def setUp(self):
        self.admin_clock({"reset": True})

    def tearDown(self):
        self.admin_clock({"reset": True})

    def admin_clock(self, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            conn.request("POST", "/_kinesd/clock", body=json.dumps(body))
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
        finally:
            conn.close()

    def consumer(self, name, consumer="app"):
        arn = self.kinesis.register_stream_consumer(
            StreamARN=stream_arn(name), ConsumerName=consumer
        )["Consumer"]["ConsumerARN"]
        for _ in range(100):
            status = self.kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"][
                "ConsumerStatus"
            ]
            if status == "ACTIVE":
                return arn
            time.sleep(0.1)
        self.fail("consumer did not become ACTIVE")

    def subscribe(self, arn, shard=SHARD0, **position):
        resp = self.kinesis.subscribe_to_shard(
            ConsumerARN=arn, ShardId=shard, StartingPosition=position
        )
        stream = resp["EventStream"]
        self.addCleanup(stream.close)
        return stream

    def collect(self, events, count, max_events=50):
        """Records from the event stream until `count` have come; also the events seen."""
        records, seen = [], []
        for event in events:
            ev = event["SubscribeToShardEvent"]
            seen.append(ev)
            records += ev["Records"]
            if len(records) >= count or len(seen) >= max_events:
                break
        return records, seen

    def put(self, name, n, prefix="r"):
        return [
            self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=f"{prefix}{i}".encode())[
                "SequenceNumber"
            ]
            for i in range(n)
        ]

    def test_trim_horizon_then_live_records_exactly_once_in_order(self):
        name = self.create_stream()
        arn = self.consumer(name)
        before = self.put(name, 3, "old")
        events = iter(self.subscribe(arn, Type="TRIM_HORIZON"))
        records, seen = self.collect(events, 3)
        self.assertEqual([r["SequenceNumber"] for r in records], before)
        self.assertEqual([r["Data"] for r in records], [b"old0", b"old1", b"old2"])
        self.assertEqual(seen[-1]["ContinuationSequenceNumber"], before[-1])

        # Records put while subscribed are pushed as they arrive.
        produced = []
        producer = threading.Thread(target=lambda: produced.extend(self.put(name, 20, "live")))
        producer.start()
        live, seen = self.collect(events, 20)
        producer.join(timeout=60)
        self.assertEqual([r["SequenceNumber"] for r in live], produced)
        self.assertEqual([r["Data"] for r in live], [f"live{i}".encode() for i in range(20)])
        self.assertEqual(seen[-1]["ContinuationSequenceNumber"], produced[-1])
        for ev in seen:
            if ev["Records"]:
                self.assertEqual(ev["ContinuationSequenceNumber"], ev["Records"][-1]["SequenceNumber"])

        # Resubscribing after the continuation gets only what came later.
        continuation = seen[-1]["ContinuationSequenceNumber"]
        self.admin_clock({"advanceSeconds": 6})  # past the 5-second rule
        later = self.put(name, 2, "later")
        again = iter(
            self.subscribe(arn, Type="AFTER_SEQUENCE_NUMBER", SequenceNumber=continuation)
        )
        records, _ = self.collect(again, 2)
        self.assertEqual([r["SequenceNumber"] for r in records], later)

    def test_latest_skips_older_records_and_heartbeats(self):
        name = self.create_stream()
        arn = self.consumer(name)
        self.put(name, 2, "old")
        events = iter(self.subscribe(arn, Type="LATEST"))
        new = self.put(name, 1, "new")
        records, _ = self.collect(events, 1)
        self.assertEqual([r["SequenceNumber"] for r in records], new)
        # Nothing new: an empty event comes within about 5 s, with the continuation.
        started = time.monotonic()
        ev = next(events)["SubscribeToShardEvent"]
        self.assertEqual(ev["Records"], [])
        self.assertEqual(ev["ContinuationSequenceNumber"], new[0])
        self.assertEqual(ev["MillisBehindLatest"], 0)
        self.assertLess(time.monotonic() - started, 30)

    def test_errors_before_the_stream_starts(self):
        name = self.create_stream()
        arn = self.consumer(name)
        with self.assertAwsError("ResourceNotFoundException"):
            self.subscribe(arn, shard="shardId-000000000007", Type="LATEST")
        with self.assertAwsError("ResourceNotFoundException"):
            self.subscribe(stream_arn(name) + "/consumer/nobody:1700000000", Type="LATEST")
        with self.assertAwsError("InvalidArgumentException"):
            self.subscribe(arn, Type="AT_SEQUENCE_NUMBER")
        self.subscribe(arn, Type="LATEST")
        with self.assertAwsError("ResourceInUseException",
                                 contains="Another active subscription exists for this consumer"):
            self.subscribe(arn, Type="LATEST")
        self.admin_clock({"advanceSeconds": 6})
        self.subscribe(arn, Type="LATEST")

    def test_subscription_ends_after_five_minutes(self):
        name = self.create_stream()
        arn = self.consumer(name)
        events = iter(self.subscribe(arn, Type="LATEST"))
        self.put(name, 1)
        self.collect(events, 1)
        self.admin_clock({"advanceSeconds": 301})
        started = time.monotonic()
        rest = list(events)  # ends: the iterator stops instead of waiting for more
        self.assertLess(time.monotonic() - started, 30)
        self.assertLessEqual(len(rest), 1)

    def test_child_shards_after_split(self):
        name = self.create_stream()
        arn = self.consumer(name)
        seqs = self.put(name, 2)
        self.kinesis.split_shard(
            StreamName=name, ShardToSplit=SHARD0,
            NewStartingHashKey=str(2**127),
        )
        self.wait_active(name)
        events = list(self.subscribe(arn, Type="TRIM_HORIZON"))  # ends by itself
        records = [r for e in events for r in e["SubscribeToShardEvent"]["Records"]]
        self.assertEqual([r["SequenceNumber"] for r in records], seqs)
        last = events[-1]["SubscribeToShardEvent"]
        self.assertNotIn("ContinuationSequenceNumber", last)
        self.assertEqual(sorted(c["ShardId"] for c in last["ChildShards"]),
                         ["shardId-000000000001", "shardId-000000000002"])
        for child in last["ChildShards"]:
            self.assertEqual(child["ParentShards"], [SHARD0])


if __name__ == "__main__":
    unittest.main()
