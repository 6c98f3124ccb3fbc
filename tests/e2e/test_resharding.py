"""Resharding: SplitShard, MergeShards, UpdateShardCount and UpdateStreamMode, shard lineage as a
consumer follows it (GetRecords ChildShards), ListShards ShardFilter, the UPDATING state, AWS's
errors, and lineage that survives a restart."""
import http.client
import json
import unittest

from kinesd_harness import (
    ACCOUNT,
    MAX_HASH_KEY,
    KinesdTestCase,
    epoch_ms,
    stream_arn,
    unique_name,
    utc,
)

KEYS = [f"key-{i}" for i in range(24)]


def shard_index(shard_id):
    return int(shard_id.split("-")[1])


def hash_range(shard):
    r = shard["HashKeyRange"]
    return int(r["StartingHashKey"]), int(r["EndingHashKey"])


def open_shards(shards):
    return [s for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]]


def assert_covers_hash_space(test, shards):
    ranges = sorted(hash_range(s) for s in open_shards(shards))
    test.assertEqual(ranges[0][0], 0)
    test.assertEqual(ranges[-1][1], MAX_HASH_KEY)
    for (_, end), (start, _) in zip(ranges, ranges[1:]):
        test.assertEqual(end + 1, start, ranges)


class Lineage(KinesdTestCase):
    """write, split, write, merge, write, (restart), scale 2 -> 4 -> 3, write; then a consumer
    that starts on the root shards and follows ChildShards reads everything exactly once."""

    def setUp(self):
        self.counter = {k: 0 for k in KEYS}
        self.written = []

    def write_round(self, client, batch=False):
        entries = []
        for key in KEYS:
            self.counter[key] += 1
            entries.append((key, f"{key}:{self.counter[key]}".encode()))
        if batch:
            resp = client.put_records(
                StreamName=self.name,
                Records=[{"PartitionKey": k, "Data": d} for k, d in entries])
            self.assertEqual(resp["FailedRecordCount"], 0)
            acks = [(r["ShardId"], r["SequenceNumber"]) for r in resp["Records"]]
        else:
            acks = []
            for k, d in entries:
                r = client.put_record(StreamName=self.name, PartitionKey=k, Data=d)
                acks.append((r["ShardId"], r["SequenceNumber"]))
        for (k, d), (shard_id, seq) in zip(entries, acks):
            self.written.append((k, d, shard_id, seq))
        return acks

    def test_consumer_follows_lineage_and_reads_every_record_once_in_order(self):
        self.name = self.create_stream(shards=2)
        k = self.kinesis
        self.write_round(k)

        # Split shard 0 in the middle of its range: children 2 and 3.
        lo, hi = hash_range(self.shards(self.name)[0])
        k.split_shard(StreamName=self.name, ShardToSplit="shardId-000000000000",
                      NewStartingHashKey=str((lo + hi) // 2))
        self.wait_active(self.name)
        shards = {s["ShardId"]: s for s in self.shards(self.name)}
        self.assertEqual(sorted(shards), [f"shardId-00000000000{i}" for i in range(4)])
        self.assertIn("EndingSequenceNumber", shards["shardId-000000000000"]["SequenceNumberRange"])
        for child in ("shardId-000000000002", "shardId-000000000003"):
            self.assertEqual(shards[child]["ParentShardId"], "shardId-000000000000")
            self.assertNotIn("AdjacentParentShardId", shards[child])
        self.assertEqual(hash_range(shards["shardId-000000000002"]), (lo, (lo + hi) // 2 - 1))
        self.assertEqual(hash_range(shards["shardId-000000000003"]), ((lo + hi) // 2, hi))
        acks = self.write_round(k, batch=True)
        self.assertFalse({s for s, _ in acks} & {"shardId-000000000000"},
                         "records written after the split go to the children")

        k.merge_shards(StreamName=self.name, ShardToMerge="shardId-000000000002",
                       AdjacentShardToMerge="shardId-000000000003")
        self.wait_active(self.name)
        merged = {s["ShardId"]: s for s in self.shards(self.name)}["shardId-000000000004"]
        self.assertEqual(merged["ParentShardId"], "shardId-000000000002")
        self.assertEqual(merged["AdjacentParentShardId"], "shardId-000000000003")
        self.assertEqual(hash_range(merged), (lo, hi))
        self.write_round(k)

        # Restart in the middle: the lineage is part of the durable metadata.
        before = self.shards(self.name)
        self.server.restart()
        k = self.server.client()
        self.assertEqual(self.shards(self.name, k), before)
        self.write_round(k, batch=True)

        resp = k.update_shard_count(StreamName=self.name, TargetShardCount=4,
                                    ScalingType="UNIFORM_SCALING")
        self.assertEqual((resp["StreamName"], resp["CurrentShardCount"], resp["TargetShardCount"]),
                         (self.name, 2, 4))
        self.wait_active(self.name, k)
        self.write_round(k)
        resp = k.update_shard_count(StreamARN=stream_arn(self.name), TargetShardCount=3,
                                    ScalingType="UNIFORM_SCALING")
        self.assertEqual((resp["CurrentShardCount"], resp["TargetShardCount"]), (4, 3))
        self.assertEqual(resp["StreamARN"], stream_arn(self.name))
        self.wait_active(self.name, k)
        self.write_round(k, batch=True)

        shards = self.shards(self.name, k)
        ids = [shard_index(s["ShardId"]) for s in shards]
        self.assertEqual(ids, list(range(len(ids))), "shard ids continue the sequence")
        self.assertEqual(len(open_shards(shards)), 3)
        assert_covers_hash_space(self, shards)
        summary = k.describe_stream_summary(StreamName=self.name)["StreamDescriptionSummary"]
        self.assertEqual(summary["OpenShardCount"], 3)
        described = k.describe_stream(StreamName=self.name)["StreamDescription"]["Shards"]
        self.assertEqual(described, shards, "DescribeStream lists closed shards too")
        self.assertEqual(
            [s["ShardId"] for s in k.list_shards(
                StreamName=self.name, ShardFilter={"Type": "AT_LATEST"})["Shards"]],
            [s["ShardId"] for s in open_shards(shards)])
        roots = k.list_shards(StreamName=self.name,
                              ShardFilter={"Type": "AT_TRIM_HORIZON"})["Shards"]
        self.assertEqual([s["ShardId"] for s in roots], ["shardId-000000000000", "shardId-000000000001"])
        self.assertEqual(
            k.list_shards(StreamName=self.name, ShardFilter={"Type": "FROM_TRIM_HORIZON"})["Shards"],
            shards)

        self.consume_and_check(k, roots, shards)

    def consume_and_check(self, k, roots, shards):
        parents_of = {}
        for s in shards:
            parents_of[s["ShardId"]] = [p for p in (s.get("ParentShardId"), s.get("AdjacentParentShardId")) if p]
        ready = [s["ShardId"] for s in roots]
        finished, read_order, consumed = set(), [], []
        children_seen = {}
        while ready:
            shard_id = ready.pop(0)
            for parent in parents_of[shard_id]:
                self.assertIn(parent, finished, f"{shard_id} read before its parent {parent}")
            iterator = k.get_shard_iterator(StreamName=self.name, ShardId=shard_id,
                                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            children = None
            for _ in range(1000):
                resp = k.get_records(ShardIterator=iterator, Limit=7)
                consumed += [(r["PartitionKey"], r["Data"], shard_id, r["SequenceNumber"])
                             for r in resp["Records"]]
                if "NextShardIterator" not in resp or resp["NextShardIterator"] is None:
                    children = resp.get("ChildShards")
                    self.assertIsNotNone(children, "a closed shard's end names its children")
                    self.assertEqual(resp["MillisBehindLatest"], 0)
                    break
                if not resp["Records"] and resp["MillisBehindLatest"] == 0:
                    break  # an open shard, read to its tip
                iterator = resp["NextShardIterator"]
            else:
                self.fail(f"{shard_id} did not end")
            finished.add(shard_id)
            read_order.append(shard_id)
            for child in children or []:
                cid = child["ShardId"]
                self.assertEqual(child["ParentShards"], parents_of[cid])
                by_id = {s["ShardId"]: s for s in shards}
                self.assertEqual(child["HashKeyRange"], by_id[cid]["HashKeyRange"])
                children_seen.setdefault(cid, set()).add(shard_id)
                if set(parents_of[cid]) <= finished and cid not in finished and cid not in ready:
                    ready.append(cid)
            is_open = "EndingSequenceNumber" not in {
                s["ShardId"]: s for s in shards}[shard_id]["SequenceNumberRange"]
            self.assertEqual(children is None, is_open, shard_id)

        self.assertEqual(sorted(read_order), sorted(s["ShardId"] for s in shards),
                         "following ChildShards from the roots reaches every shard")
        # Every acknowledged record exactly once, where it was acknowledged.
        self.assertEqual(sorted(consumed), sorted(self.written))
        # Each partition key's records in the order they were written.
        per_key = {}
        for key, data, _, _ in consumed:
            per_key.setdefault(key, []).append(int(data.decode().split(":")[1]))
        for key, numbers in per_key.items():
            self.assertEqual(numbers, sorted(numbers), key)
            self.assertEqual(numbers, list(range(1, self.counter[key] + 1)), key)


class Errors(KinesdTestCase):
    def setUp(self):
        self.k = self.server.client(max_attempts=1)

    def test_split_key_outside_the_open_range_is_invalid(self):
        name = self.create_stream(shards=2)
        shard = self.shards(name)[0]
        lo, hi = hash_range(shard)
        for key in (lo, lo + 1, hi, hi + 1, MAX_HASH_KEY):
            with self.subTest(key=key), self.assertAwsError("InvalidArgumentException") as e:
                self.k.split_shard(StreamName=name, ShardToSplit=shard["ShardId"],
                                   NewStartingHashKey=str(key))
        self.assertEqual(
            e.error["Message"],
            f"NewStartingHashKey {MAX_HASH_KEY} used in SplitShard() on shard shardId-000000000000 "
            f"in stream {name} under account {ACCOUNT} is not both greater than one plus the "
            f"shard's StartingHashKey {lo} and less than the shard's EndingHashKey {hi}.")
        self.k.split_shard(StreamName=name, ShardToSplit=shard["ShardId"],
                           NewStartingHashKey=str(lo + 2))
        self.assertEqual(len(self.shards(name)), 4)

    def test_closed_and_unknown_shards(self):
        name = self.create_stream(shards=1)
        self.k.split_shard(StreamName=name, ShardToSplit="shardId-000000000000",
                           NewStartingHashKey=str(2**127))
        self.wait_active(name)
        with self.assertAwsError(
                "InvalidArgumentException",
                f"Shard shardId-000000000000 in stream {name} under account {ACCOUNT} has already "
                "been merged or split, and thus is not eligible for merging or splitting."):
            self.k.split_shard(StreamName=name, ShardToSplit="shardId-000000000000",
                               NewStartingHashKey=str(2**126))
        with self.assertAwsError("InvalidArgumentException", contains="already been merged or split"):
            self.k.merge_shards(StreamName=name, ShardToMerge="shardId-000000000000",
                                AdjacentShardToMerge="shardId-000000000001")
        with self.assertAwsError(
                "ResourceNotFoundException",
                f"Could not find shard shardId-000000000009 in stream {name} under account {ACCOUNT}."):
            self.k.split_shard(StreamName=name, ShardToSplit="shardId-000000000009",
                               NewStartingHashKey="12345")
        with self.assertAwsError("ResourceNotFoundException"):
            self.k.merge_shards(StreamName=unique_name("missing"), ShardToMerge="shardId-000000000001",
                                AdjacentShardToMerge="shardId-000000000002")

    def test_only_adjacent_shards_merge(self):
        name = self.create_stream(shards=3)
        with self.assertAwsError(
                "InvalidArgumentException",
                f"Shards shardId-000000000000 and shardId-000000000002 in stream {name} under "
                f"account {ACCOUNT} are not an adjacent pair of shards eligible for merging"):
            self.k.merge_shards(StreamName=name, ShardToMerge="shardId-000000000000",
                                AdjacentShardToMerge="shardId-000000000002")
        # Adjacent in either order; the child's parents are as named.
        self.k.merge_shards(StreamName=name, ShardToMerge="shardId-000000000002",
                            AdjacentShardToMerge="shardId-000000000001")
        child = self.shards(name)[-1]
        self.assertEqual((child["ShardId"], child["ParentShardId"], child["AdjacentParentShardId"]),
                         ("shardId-000000000003", "shardId-000000000002", "shardId-000000000001"))

    def test_update_shard_count_bounds(self):
        name = self.create_stream(shards=2)
        with self.assertAwsError(
                "LimitExceededException",
                "UpdateShardCount cannot scale up over double your current open shard count. "
                "Current open shard count: 2, Target shard count: 5"):
            self.k.update_shard_count(StreamName=name, TargetShardCount=5,
                                      ScalingType="UNIFORM_SCALING")
        five = self.create_stream(shards=5)
        with self.assertAwsError(
                "LimitExceededException",
                "UpdateShardCount cannot scale down below half your current open shard count. "
                "Current open shard count: 5, Target shard count: 2"):
            self.k.update_shard_count(StreamName=five, TargetShardCount=2,
                                      ScalingType="UNIFORM_SCALING")
        with self.assertAwsError("ValidationException"):
            self.server.client(max_attempts=1, validate=False).update_shard_count(
                StreamName=name, TargetShardCount=3, ScalingType="NOT_A_TYPE")
        self.assertEqual(len(self.shards(name)), 2, "refused scalings change nothing")

    def test_scaling_4_to_5_creates_the_shards_aws_does(self):
        name = self.create_stream(shards=4)
        self.k.update_shard_count(StreamName=name, TargetShardCount=5, ScalingType="UNIFORM_SCALING")
        self.wait_active(name)
        shards = self.shards(name)
        self.assertEqual(len(shards), 15)  # 4 + 8 halves + 3 merges, as AWS reports
        self.assertEqual(len(open_shards(shards)), 5)
        assert_covers_hash_space(self, shards)

    def test_on_demand_streams_do_not_reshard_until_provisioned(self):
        name = self.create_stream(shards=None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        with self.assertAwsError(
                "ValidationException",
                f"Request is invalid. Stream {name} under account {ACCOUNT} is in On-Demand mode."):
            self.k.update_shard_count(StreamName=name, TargetShardCount=5,
                                      ScalingType="UNIFORM_SCALING")
        self.k.update_stream_mode(StreamARN=stream_arn(name),
                                  StreamModeDetails={"StreamMode": "PROVISIONED"})
        self.wait_active(name)
        summary = self.k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamModeDetails"]["StreamMode"], "PROVISIONED")
        self.assertEqual(summary["OpenShardCount"], 4)
        self.k.update_shard_count(StreamName=name, TargetShardCount=8, ScalingType="UNIFORM_SCALING")
        self.wait_active(name)
        self.assertEqual(len(open_shards(self.shards(name))), 8)


class Updating(KinesdTestCase):
    """With --update-stream-ms the stream is UPDATING after a change; writes keep flowing and
    other changes answer ResourceInUseException until the admin clock moves past it."""

    server_args = ("--update-stream-ms", "60000", "--admin", "on")

    def advance(self, seconds):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            conn.request("POST", "/_kinesd/clock", body=json.dumps({"advanceSeconds": seconds}))
            resp = conn.getresponse()
            body = json.loads(resp.read())
            self.assertEqual(resp.status, 200, body)
            return body["now"]
        finally:
            conn.close()

    def status(self, name):
        return self.kinesis.describe_stream_summary(
            StreamName=name)["StreamDescriptionSummary"]["StreamStatus"]

    def test_updating_state_and_shard_filters_over_time(self):
        k = self.server.client(max_attempts=1)
        name = self.create_stream(shards=2)
        t_before = self.advance(10)
        self.advance(10)
        k.split_shard(StreamName=name, ShardToSplit="shardId-000000000000",
                      NewStartingHashKey=str(2**126))
        self.assertEqual(self.status(name), "UPDATING")
        for call in (
            lambda: k.split_shard(StreamName=name, ShardToSplit="shardId-000000000001",
                                  NewStartingHashKey=str(2**127 + 5)),
            lambda: k.merge_shards(StreamName=name, ShardToMerge="shardId-000000000002",
                                   AdjacentShardToMerge="shardId-000000000003"),
            lambda: k.update_shard_count(StreamName=name, TargetShardCount=4,
                                         ScalingType="UNIFORM_SCALING"),
            lambda: k.update_stream_mode(StreamARN=stream_arn(name),
                                         StreamModeDetails={"StreamMode": "ON_DEMAND"}),
        ):
            with self.assertAwsError(
                    "ResourceInUseException",
                    f"Stream {name} under account {ACCOUNT} not ACTIVE, instead in state UPDATING"):
                call()
        # Writes and reads keep working, on the children.
        resp = k.put_record(StreamName=name, PartitionKey="p", Data=b"during",
                            ExplicitHashKey="0")
        self.assertEqual(resp["ShardId"], "shardId-000000000002")
        t_after = self.advance(60)
        self.assertEqual(self.status(name), "ACTIVE")

        def listed(filter_):
            return [s["ShardId"] for s in k.list_shards(StreamName=name, ShardFilter=filter_)["Shards"]]

        self.assertEqual(listed({"Type": "AT_TIMESTAMP", "Timestamp": utc(t_before / 1000)}),
                         ["shardId-000000000000", "shardId-000000000001"])
        self.assertEqual(listed({"Type": "AT_TIMESTAMP", "Timestamp": utc(t_after / 1000)}),
                         ["shardId-000000000001", "shardId-000000000002", "shardId-000000000003"])
        self.assertEqual(listed({"Type": "FROM_TIMESTAMP", "Timestamp": utc(t_before / 1000)}),
                         [f"shardId-00000000000{i}" for i in range(4)])
        self.assertEqual(listed({"Type": "FROM_TIMESTAMP", "Timestamp": utc(t_after / 1000)}),
                         ["shardId-000000000001", "shardId-000000000002", "shardId-000000000003"])
        self.assertEqual(listed({"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000001"}),
                         ["shardId-000000000002", "shardId-000000000003"])
        self.assertEqual(listed({"Type": "AT_TRIM_HORIZON"}),
                         ["shardId-000000000000", "shardId-000000000001"])

        # Past the retention period the closed parent is no longer listed.
        self.advance(25 * 3600)
        ids = [s["ShardId"] for s in self.shards(name, k)]
        self.assertEqual(ids, ["shardId-000000000001", "shardId-000000000002", "shardId-000000000003"])
        described = k.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
        self.assertEqual([s["ShardId"] for s in described], ids)
        self.assertEqual(listed({"Type": "AT_TRIM_HORIZON"}), ids)


class ScalingLimit(KinesdTestCase):
    """With throttling on UpdateShardCount is limited to 10 calls a rolling day."""

    server_args = ("--throttle", "on")

    def test_eleventh_scaling_in_a_day_is_refused(self):
        k = self.server.client(max_attempts=1)
        name = self.create_stream(shards=1)
        for i in range(10):
            k.update_shard_count(StreamName=name, TargetShardCount=2 if i % 2 == 0 else 1,
                                 ScalingType="UNIFORM_SCALING")
        with self.assertAwsError("LimitExceededException", contains="24-hour"):
            k.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")


class ScalingUnthrottled(KinesdTestCase):
    server_args = ("--throttle", "off")

    def test_no_daily_limit_without_throttling(self):
        k = self.server.client(max_attempts=1)
        name = self.create_stream(shards=1)
        for i in range(12):
            k.update_shard_count(StreamName=name, TargetShardCount=2 if i % 2 == 0 else 1,
                                 ScalingType="UNIFORM_SCALING")
        self.assertEqual(len(open_shards(self.shards(name))), 1)


if __name__ == "__main__":
    unittest.main()
