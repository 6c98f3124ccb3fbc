"""Writing and reading records: PutRecord, PutRecords, GetShardIterator (every iterator type) and
GetRecords, with routing by MD5 hash key, ordering and byte-exact data."""
import datetime
import json
import os
import random
import time
import unittest

from kinesd_harness import (
    MAX_HASH_KEY,
    KinesdTestCase,
    epoch_ms,
    hash_key_of,
    shard_for_hash_key,
    unique_name,
    utc,
)

ONE_MIB = 1024 * 1024


class Routing(KinesdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.name = unique_name("route")
        cls.kinesis.create_stream(StreamName=cls.name, ShardCount=4)
        cls.kinesis.get_waiter("stream_exists").wait(
            StreamName=cls.name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 150})
        cls.shard_list = cls.kinesis.list_shards(StreamName=cls.name)["Shards"]

    def test_put_record_returns_shard_and_sequence_number(self):
        resp = self.kinesis.put_record(StreamName=self.name, PartitionKey="hello", Data=b"x")
        self.assertRegex(resp["ShardId"], r"^shardId-\d{12}$")
        self.assertRegex(resp["SequenceNumber"], r"^(0|[1-9]\d{0,128})$")
        self.assertEqual(resp.get("EncryptionType", "NONE"), "NONE")
        shard = next(s for s in self.shard_list if s["ShardId"] == resp["ShardId"])
        self.assertGreaterEqual(int(resp["SequenceNumber"]),
                                int(shard["SequenceNumberRange"]["StartingSequenceNumber"]))

    def test_partition_key_routes_by_md5(self):
        keys = [f"key-{i}" for i in range(64)] + ["", "a", "ключ", "🙂 emoji", "x" * 256]
        keys = [k for k in keys if k]  # PartitionKey has a minimum length of 1
        used = set()
        for key in keys:
            resp = self.kinesis.put_record(StreamName=self.name, PartitionKey=key, Data=b"r")
            expected = shard_for_hash_key(self.shard_list, hash_key_of(key))
            self.assertEqual(resp["ShardId"], expected, key)
            used.add(expected)
        self.assertEqual(len(used), 4, "64 keys should reach all 4 shards")

    def test_explicit_hash_key_routes_to_the_containing_range(self):
        for shard in self.shard_list:
            lo = int(shard["HashKeyRange"]["StartingHashKey"])
            hi = int(shard["HashKeyRange"]["EndingHashKey"])
            for h in (lo, hi, (lo + hi) // 2):
                with self.subTest(shard=shard["ShardId"], hash_key=h):
                    # The partition key would route elsewhere: ExplicitHashKey wins.
                    resp = self.kinesis.put_record(StreamName=self.name, PartitionKey="same",
                                                   Data=b"e", ExplicitHashKey=str(h))
                    self.assertEqual(resp["ShardId"], shard["ShardId"])
        resp = self.kinesis.put_record(StreamName=self.name, PartitionKey="k", Data=b"e",
                                       ExplicitHashKey=str(MAX_HASH_KEY))
        self.assertEqual(resp["ShardId"], self.shard_list[-1]["ShardId"])

    def test_sequence_numbers_strictly_increase_within_a_shard(self):
        last = {}
        seen = set()
        for i in range(60):
            resp = self.kinesis.put_record(StreamName=self.name, PartitionKey=f"p{i % 7}",
                                           Data=b"s")
            seq = int(resp["SequenceNumber"])
            self.assertNotIn(seq, seen)
            seen.add(seq)
            if resp["ShardId"] in last:
                self.assertGreater(seq, last[resp["ShardId"]])
            last[resp["ShardId"]] = seq

    def test_sequence_number_for_ordering(self):
        first = self.kinesis.put_record(StreamName=self.name, PartitionKey="ordered", Data=b"1")
        second = self.kinesis.put_record(StreamName=self.name, PartitionKey="ordered", Data=b"2",
                                         SequenceNumberForOrdering=first["SequenceNumber"])
        third = self.kinesis.put_record(StreamName=self.name, PartitionKey="ordered", Data=b"3",
                                        SequenceNumberForOrdering=second["SequenceNumber"])
        self.assertEqual({first["ShardId"], second["ShardId"], third["ShardId"]},
                         {first["ShardId"]})
        self.assertLess(int(first["SequenceNumber"]), int(second["SequenceNumber"]))
        self.assertLess(int(second["SequenceNumber"]), int(third["SequenceNumber"]))

    def test_put_records_mixed_shards_in_request_order(self):
        entries = [{"PartitionKey": f"batch-{i}", "Data": f"data-{i}".encode()}
                   for i in range(40)]
        entries.append({"PartitionKey": "explicit", "Data": b"to-first",
                        "ExplicitHashKey": "0"})
        entries.append({"PartitionKey": "explicit", "Data": b"to-last",
                        "ExplicitHashKey": str(MAX_HASH_KEY)})
        resp = self.kinesis.put_records(StreamName=self.name, Records=entries)
        self.assertEqual(resp["FailedRecordCount"], 0)
        self.assertEqual(len(resp["Records"]), len(entries))
        for entry, result in zip(entries, resp["Records"]):
            hash_key = int(entry.get("ExplicitHashKey", hash_key_of(entry["PartitionKey"])))
            self.assertEqual(result["ShardId"], shard_for_hash_key(self.shard_list, hash_key))
            self.assertRegex(result["SequenceNumber"], r"^\d+$")
            self.assertNotIn("ErrorCode", result)
        self.assertGreater(len({r["ShardId"] for r in resp["Records"]}), 1)
        self.assertEqual(resp["Records"][-2]["ShardId"], "shardId-000000000000")
        self.assertEqual(resp["Records"][-1]["ShardId"], "shardId-000000000003")

        # Each acknowledged sequence number reads back its own entry.
        for entry, result in zip(entries, resp["Records"]):
            iterator = self.kinesis.get_shard_iterator(
                StreamName=self.name, ShardId=result["ShardId"],
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                StartingSequenceNumber=result["SequenceNumber"])["ShardIterator"]
            record = self.kinesis.get_records(ShardIterator=iterator, Limit=1)["Records"][0]
            self.assertEqual(record["SequenceNumber"], result["SequenceNumber"])
            self.assertEqual(record["Data"], entry["Data"])
            self.assertEqual(record["PartitionKey"], entry["PartitionKey"])

        # Within one shard, the batch's records keep their request order.
        for shard_id in {r["ShardId"] for r in resp["Records"]}:
            seqs = [int(r["SequenceNumber"]) for r in resp["Records"] if r["ShardId"] == shard_id]
            self.assertEqual(seqs, sorted(seqs))
            self.assertEqual(len(seqs), len(set(seqs)))


class Iterators(KinesdTestCase):
    def setUp(self):
        self.name = self.create_stream(shards=1)
        self.shard = "shardId-000000000000"

    def put(self, data, key="k"):
        return self.kinesis.put_record(StreamName=self.name, PartitionKey=key, Data=data)

    def records_from(self, iterator_type, **kwargs):
        return self.read_shard(self.name, self.shard, iterator_type=iterator_type, **kwargs)

    def test_trim_horizon_reads_from_the_oldest(self):
        puts = [self.put(f"r{i}".encode()) for i in range(5)]
        records = self.records_from("TRIM_HORIZON")
        self.assertEqual([r["Data"] for r in records], [f"r{i}".encode() for i in range(5)])
        self.assertEqual([r["SequenceNumber"] for r in records],
                         [p["SequenceNumber"] for p in puts])
        for r in records:
            self.assertEqual(r["PartitionKey"], "k")
            self.assertIsInstance(r["ApproximateArrivalTimestamp"], datetime.datetime)

    def test_latest_sees_only_later_records(self):
        self.put(b"before")
        iterator = self.kinesis.get_shard_iterator(
            StreamName=self.name, ShardId=self.shard, ShardIteratorType="LATEST")["ShardIterator"]
        resp = self.kinesis.get_records(ShardIterator=iterator)
        self.assertEqual(resp["Records"], [])
        self.assertEqual(resp["MillisBehindLatest"], 0)
        self.put(b"after-1")
        self.put(b"after-2")
        records = self.kinesis.get_records(ShardIterator=resp["NextShardIterator"])["Records"]
        self.assertEqual([r["Data"] for r in records], [b"after-1", b"after-2"])

    def test_at_and_after_sequence_number(self):
        puts = [self.put(f"r{i}".encode()) for i in range(5)]
        at = self.records_from("AT_SEQUENCE_NUMBER",
                               StartingSequenceNumber=puts[2]["SequenceNumber"])
        self.assertEqual([r["Data"] for r in at], [b"r2", b"r3", b"r4"])
        after = self.records_from("AFTER_SEQUENCE_NUMBER",
                                  StartingSequenceNumber=puts[2]["SequenceNumber"])
        self.assertEqual([r["Data"] for r in after], [b"r3", b"r4"])
        after_last = self.records_from("AFTER_SEQUENCE_NUMBER",
                                       StartingSequenceNumber=puts[4]["SequenceNumber"])
        self.assertEqual(after_last, [])
        # The shard's StartingSequenceNumber is a valid AT_SEQUENCE_NUMBER position.
        start = self.kinesis.list_shards(StreamName=self.name)["Shards"][0][
            "SequenceNumberRange"]["StartingSequenceNumber"]
        self.assertEqual(len(self.records_from("AT_SEQUENCE_NUMBER",
                                               StartingSequenceNumber=start)), 5)

    def test_at_timestamp(self):
        """boto3 sends AT_TIMESTAMP's Timestamp in whole seconds, so the boundary is a second:
        records before it, then records after it, told apart by their ApproximateArrivalTimestamp."""
        early = [self.put(f"early-{i}".encode()) for i in range(3)]
        arrivals = [r["ApproximateArrivalTimestamp"] for r in self.records_from("TRIM_HORIZON")]
        boundary = int(max(a.timestamp() for a in arrivals)) + 1

        late = []
        deadline = time.monotonic() + 10
        while True:
            # Waiting for the wall clock to pass `boundary` is inherent to this iterator type.
            remaining = boundary - time.time()
            if remaining > 0:
                time.sleep(remaining + 0.005)
            late.append(self.put(f"late-{len(late)}".encode()))
            last = self.records_from("AT_SEQUENCE_NUMBER",
                                     StartingSequenceNumber=late[-1]["SequenceNumber"])[0]
            if last["ApproximateArrivalTimestamp"].timestamp() >= boundary:
                break
            self.assertLess(time.monotonic(), deadline, "no record arrived after the boundary")
        late += [self.put(f"late-{len(late) + i}".encode()) for i in range(2)]

        everything = self.records_from("TRIM_HORIZON")
        expected = [r["Data"] for r in everything
                    if r["ApproximateArrivalTimestamp"].timestamp() >= boundary]
        self.assertGreaterEqual(len(expected), 3)
        self.assertTrue(all(d.startswith(b"late-") for d in expected), expected)

        got = self.records_from("AT_TIMESTAMP", Timestamp=utc(boundary))
        self.assertEqual([r["Data"] for r in got], expected)

        # Before every record: all of them. In the future: refused, as AWS does.
        got = self.records_from("AT_TIMESTAMP", Timestamp=utc(boundary - 3600))
        self.assertEqual(len(got), len(early) + len(late))
        with self.assertAwsError(
                "InvalidArgumentException",
                contains="The timestampInMillis parameter cannot be greater than the "
                         "currentTimestampInMillis. timestampInMillis: "):
            self.server.client(max_attempts=1).get_shard_iterator(
                StreamName=self.name, ShardId=self.shard, ShardIteratorType="AT_TIMESTAMP",
                Timestamp=utc(time.time() + 3600))

    def test_at_timestamp_has_millisecond_precision(self):
        """AT_TIMESTAMP at a record's own ApproximateArrivalTimestamp (milliseconds, sent over
        raw HTTP since boto3 truncates to seconds) starts exactly at the first record of that
        millisecond."""
        for i in range(20):
            self.put(f"m{i}".encode())
        deadline = time.monotonic() + 10
        while True:
            records = self.records_from("TRIM_HORIZON")
            ms = [epoch_ms(r["ApproximateArrivalTimestamp"]) for r in records]
            self.assertEqual(ms, sorted(ms), "arrival times go backwards within a shard")
            boundary = next((i for i in range(1, len(ms)) if ms[i] > ms[i - 1]), None)
            if boundary is not None:
                break
            self.assertLess(time.monotonic(), deadline)
            self.put(b"more")
        t = ms[boundary]
        body = ('{"StreamName": "%s", "ShardId": "%s", "ShardIteratorType": "AT_TIMESTAMP", '
                '"Timestamp": %d.%03d}' % (self.name, self.shard, t // 1000, t % 1000))
        resp = self.server.raw("GetShardIterator", body)
        self.assertEqual(resp.status, 200, resp)
        got = self.kinesis.get_records(ShardIterator=resp.json()["ShardIterator"],
                                       Limit=10000)["Records"]
        self.assertEqual([r["SequenceNumber"] for r in got],
                         [r["SequenceNumber"] for r in records[boundary:]])

    def test_get_records_limit_and_chaining(self):
        for i in range(10):
            self.put(f"c{i}".encode())
        iterator = self.kinesis.get_shard_iterator(
            StreamName=self.name, ShardId=self.shard,
            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        got = []
        for _ in range(100):
            resp = self.kinesis.get_records(ShardIterator=iterator, Limit=3)
            self.assertLessEqual(len(resp["Records"]), 3)
            self.assertIsInstance(resp["MillisBehindLatest"], int)
            got += resp["Records"]
            iterator = resp["NextShardIterator"]
            if len(got) >= 10:
                break
        self.assertEqual([r["Data"] for r in got], [f"c{i}".encode() for i in range(10)])
        resp = self.kinesis.get_records(ShardIterator=iterator, Limit=3)
        self.assertEqual(resp["Records"], [])
        self.assertEqual(resp["MillisBehindLatest"], 0)
        self.assertIn("NextShardIterator", resp)

        first = self.kinesis.get_records(
            ShardIterator=self.kinesis.get_shard_iterator(
                StreamName=self.name, ShardId=self.shard,
                ShardIteratorType="TRIM_HORIZON")["ShardIterator"],
            Limit=2)
        self.assertEqual([r["Data"] for r in first["Records"]], [b"c0", b"c1"])

    def test_an_iterator_can_be_read_twice(self):
        for i in range(3):
            self.put(f"t{i}".encode())
        iterator = self.kinesis.get_shard_iterator(
            StreamName=self.name, ShardId=self.shard,
            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        a = self.kinesis.get_records(ShardIterator=iterator)["Records"]
        b = self.kinesis.get_records(ShardIterator=iterator)["Records"]
        self.assertEqual([r["SequenceNumber"] for r in a], [r["SequenceNumber"] for r in b])
        self.assertEqual(len(a), 3)


class Payloads(KinesdTestCase):
    def setUp(self):
        self.name = self.create_stream(shards=1)
        self.shard = "shardId-000000000000"

    def round_trip(self, data, key="k"):
        put = self.kinesis.put_record(StreamName=self.name, PartitionKey=key, Data=data)
        record = self.read_shard(self.name, self.shard, iterator_type="AT_SEQUENCE_NUMBER",
                                 StartingSequenceNumber=put["SequenceNumber"])[0]
        self.assertEqual(record["SequenceNumber"], put["SequenceNumber"])
        self.assertEqual(record["PartitionKey"], key)
        return record["Data"]

    def test_every_byte_value(self):
        data = bytes(range(256)) * 4
        self.assertEqual(self.round_trip(data), data)

    def test_random_binary(self):
        data = random.Random(7).randbytes(50_000)
        self.assertEqual(self.round_trip(data), data)

    def test_empty_data(self):
        self.assertEqual(self.round_trip(b""), b"")

    def test_unicode_partition_key(self):
        self.assertEqual(self.round_trip(b"u", key="ключ-🙂"), b"u")

    def test_one_mib_record_including_partition_key(self):
        key = "big-record-key"
        data = os.urandom(ONE_MIB - len(key.encode()))
        self.assertEqual(self.round_trip(data, key=key), data)


class Ordering(KinesdTestCase):
    def test_thousand_records_in_batches_keep_their_order_per_shard(self):
        name = self.create_stream(shards=4)
        shard_list = self.shards(name)
        put_order = {}  # ShardId -> [(sequence number, data)] in the order we put them
        for batch in range(10):
            entries = []
            for i in range(100):
                n = batch * 100 + i
                entries.append({"PartitionKey": f"key-{n % 13}",
                                "Data": json.dumps({"n": n}).encode()})
            resp = self.kinesis.put_records(StreamName=name, Records=entries)
            self.assertEqual(resp["FailedRecordCount"], 0, resp)
            for entry, result in zip(entries, resp["Records"]):
                self.assertEqual(result["ShardId"],
                                 shard_for_hash_key(shard_list,
                                                    hash_key_of(entry["PartitionKey"])))
                put_order.setdefault(result["ShardId"], []).append(
                    (result["SequenceNumber"], entry["Data"]))
        self.assertEqual(sum(len(v) for v in put_order.values()), 1000)

        for shard_id, expected in put_order.items():
            seqs = [int(s) for s, _ in expected]
            self.assertEqual(seqs, sorted(seqs), f"sequence numbers of {shard_id} out of order")
            records = self.read_shard(name, shard_id, limit=10000)
            self.assertEqual([(r["SequenceNumber"], r["Data"]) for r in records], expected)


if __name__ == "__main__":
    unittest.main()
