"""Durability: every acknowledged record survives SIGKILL and restart on the same data directory,
exactly once, in order, byte for byte; streams, shards and ARNs survive too."""
import random
import unittest

from kinesd_harness import (
    KinesdTestCase,
    hash_key_of,
    shard_for_hash_key,
    stream_arn,
    unique_name,
)


class Restart(KinesdTestCase):
    def setUp(self):
        self.rng = random.Random(self._testMethodName)
        self.acked = {}  # (stream, ShardId) -> [(SequenceNumber, PartitionKey, Data)] in put order

    def reconnect(self):
        self.kinesis = self.server.client()
        self.west = self.server.client(region="us-west-2")

    def payload(self, i):
        return i.to_bytes(4, "big") + self.rng.randbytes(self.rng.randrange(0, 3000))

    def put_some(self, name, shard_list, count, client=None):
        """count records through PutRecord and PutRecords (mixed shards); remembers the acks."""
        client = client or self.kinesis
        start = sum(len(v) for (s, _), v in self.acked.items() if s == name)
        for i in range(start, start + count // 3):
            key = f"pk-{self.rng.randrange(1000)}"
            data = self.payload(i)
            resp = client.put_record(StreamName=name, PartitionKey=key, Data=data)
            self.assertEqual(resp["ShardId"], shard_for_hash_key(shard_list, hash_key_of(key)))
            self.acked.setdefault((name, resp["ShardId"]), []).append(
                (resp["SequenceNumber"], key, data))
        i = start + count // 3
        while i < start + count:
            entries = []
            for _ in range(min(50, start + count - i)):
                entries.append({"PartitionKey": f"pk-{self.rng.randrange(1000)}",
                                "Data": self.payload(i)})
                i += 1
            resp = client.put_records(StreamName=name, Records=entries)
            self.assertEqual(resp["FailedRecordCount"], 0, resp)
            for entry, result in zip(entries, resp["Records"]):
                self.acked.setdefault((name, result["ShardId"]), []).append(
                    (result["SequenceNumber"], entry["PartitionKey"], entry["Data"]))

    def assert_everything_readable(self, name, client=None):
        client = client or self.kinesis
        shards = self.shards(name, client)
        total = 0
        for shard in shards:
            records = self.read_shard(name, shard["ShardId"], client=client)
            got = [(r["SequenceNumber"], r["PartitionKey"], r["Data"]) for r in records]
            expected = self.acked.get((name, shard["ShardId"]), [])
            self.assertEqual(len(got), len(expected), f"{name} {shard['ShardId']}")
            self.assertEqual(got, expected, f"{name} {shard['ShardId']}")
            seqs = [int(s) for s, _, _ in got]
            self.assertEqual(seqs, sorted(set(seqs)))
            total += len(got)
        return total

    def describe(self, name, client=None):
        return (client or self.kinesis).describe_stream(StreamName=name)["StreamDescription"]

    def test_kill9_keeps_every_acknowledged_record(self):
        self.reconnect()
        big = self.create_stream(shards=3)
        small = self.create_stream(shards=1)
        west = self.create_stream(shards=2, client=self.west)
        big_shards = self.shards(big)
        before = {n: self.describe(n) for n in (big, small)}
        before_west = self.describe(west, self.west)

        self.put_some(big, big_shards, 240)
        self.put_some(small, self.shards(small), 60)
        self.put_some(west, self.shards(west, self.west), 30, client=self.west)
        self.assertEqual(len({s for (n, s) in self.acked if n == big}), 3)

        # Iterators handed out before the crash (valid for 5 minutes on AWS) keep working.
        shard0 = big_shards[0]["ShardId"]
        fresh_iterator = self.kinesis.get_shard_iterator(
            StreamName=big, ShardId=shard0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        partial = self.kinesis.get_records(ShardIterator=fresh_iterator, Limit=5)
        self.assertEqual(len(partial["Records"]), 5)

        self.server.kill9()
        self.server.restart()
        self.reconnect()

        expected0 = [s for s, _, _ in self.acked[(big, shard0)]]
        got = self.kinesis.get_records(ShardIterator=fresh_iterator, Limit=10000)["Records"]
        self.assertEqual([r["SequenceNumber"] for r in got], expected0)
        got = self.kinesis.get_records(ShardIterator=partial["NextShardIterator"],
                                       Limit=10000)["Records"]
        self.assertEqual([r["SequenceNumber"] for r in got], expected0[5:])

        names = self.kinesis.list_streams()["StreamNames"]
        self.assertIn(big, names)
        self.assertIn(small, names)
        self.assertNotIn(west, names)
        self.assertIn(west, self.west.list_streams()["StreamNames"])
        for name in (big, small):
            after = self.describe(name)
            self.assertEqual(after["StreamStatus"], "ACTIVE")
            self.assertEqual(after["StreamARN"], stream_arn(name))
            self.assertEqual(after["StreamARN"], before[name]["StreamARN"])
            self.assertEqual(after["Shards"], before[name]["Shards"])
            self.assertEqual(after["StreamCreationTimestamp"],
                             before[name]["StreamCreationTimestamp"])
            self.assertEqual(after["RetentionPeriodHours"], 24)
        after_west = self.describe(west, self.west)
        self.assertEqual(after_west["StreamARN"], stream_arn(west, region="us-west-2"))
        self.assertEqual(after_west["Shards"], before_west["Shards"])

        self.assertEqual(self.assert_everything_readable(big), 240)
        self.assertEqual(self.assert_everything_readable(small), 60)
        self.assertEqual(self.assert_everything_readable(west, self.west), 30)

        # New records go after the old ones: sequence numbers keep increasing across restarts.
        count_before = {k: len(v) for k, v in self.acked.items()}
        self.put_some(big, big_shards, 90)
        for key, v in self.acked.items():
            if key[0] == big and key in count_before:
                old = [int(s) for s, _, _ in v[:count_before[key]]]
                new = [int(s) for s, _, _ in v[count_before[key]:]]
                self.assertTrue(all(s > max(old) for s in new), key)
        self.assertEqual(self.assert_everything_readable(big), 330)

        # A second crash, then everything once more.
        self.server.kill9()
        self.server.restart()
        self.reconnect()
        self.assertEqual(self.assert_everything_readable(big), 330)
        self.assertEqual(self.assert_everything_readable(small), 60)
        self.assertEqual(self.assert_everything_readable(west, self.west), 30)

        # Sequence numbers handed out before the crashes are still valid positions.
        for (name, shard), records in self.acked.items():
            if name != big:
                continue
            middle = len(records) // 2
            seq = records[middle][0]
            at = self.read_shard(big, shard, iterator_type="AT_SEQUENCE_NUMBER",
                                 StartingSequenceNumber=seq)
            self.assertEqual([(r["SequenceNumber"], r["Data"]) for r in at],
                             [(s, d) for s, _, d in records[middle:]])
            after = self.read_shard(big, shard, iterator_type="AFTER_SEQUENCE_NUMBER",
                                    StartingSequenceNumber=seq)
            self.assertEqual([r["SequenceNumber"] for r in after],
                             [s for s, _, _ in records[middle + 1:]])

        # And the stream still takes writes.
        self.put_some(small, self.shards(small), 9)
        self.assertEqual(self.assert_everything_readable(small), 69)

    def test_graceful_stop_keeps_everything(self):
        self.reconnect()
        name = self.create_stream(shards=2)
        self.put_some(name, self.shards(name), 60)
        status = self.server.stop()
        self.assertEqual(status, 0, f"SIGTERM exit status {status}\n{self.server.stderr_text()}")
        self.server.start(port=self.server.port)
        self.reconnect()
        self.assertEqual(self.assert_everything_readable(name), 60)

    def test_deleted_stream_stays_deleted_and_names_can_be_reused(self):
        self.reconnect()
        gone = self.create_stream(shards=1)
        self.put_some(gone, self.shards(gone), 9)
        self.delete_stream(gone)
        reused = self.create_stream(shards=2, name=unique_name("reused"))
        self.server.kill9()
        self.server.restart()
        self.reconnect()
        self.assertNotIn(gone, self.kinesis.list_streams()["StreamNames"])
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.describe_stream(StreamName=gone)
        self.create_stream(shards=1, name=gone)
        self.acked = {k: v for k, v in self.acked.items() if k[0] != gone}
        self.assertEqual(self.assert_everything_readable(gone), 0)
        self.assertEqual(len(self.shards(reused)), 2)

    def test_empty_stream_survives(self):
        self.reconnect()
        name = self.create_stream(shards=4)
        self.server.kill9()
        self.server.restart()
        self.reconnect()
        self.assertEqual(len(self.shards(name)), 4)
        self.assertEqual(self.assert_everything_readable(name), 0)
        self.put_some(name, self.shards(name), 12)
        self.assertEqual(self.assert_everything_readable(name), 12)


if __name__ == "__main__":
    unittest.main()
