"""Stream lifecycle and metadata: CreateStream, DescribeStream(Summary), ListStreams, ListShards,
DeleteStream, waiters, StreamARN addressing, region isolation and the account shard limit."""
import datetime
import time
import unittest

from kinesd_harness import (
    ACCOUNT,
    KinesdTestCase,
    MAX_HASH_KEY,
    even_split,
    stream_arn,
    unique_name,
)


class CreateAndDescribe(KinesdTestCase):
    def test_create_stream_with_shard_count(self):
        before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
        name = self.create_stream(shards=3)
        desc = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]

        self.assertEqual(desc["StreamName"], name)
        self.assertEqual(desc["StreamARN"], stream_arn(name))
        self.assertEqual(desc["StreamStatus"], "ACTIVE")
        self.assertEqual(desc["StreamModeDetails"], {"StreamMode": "PROVISIONED"})
        self.assertIs(desc["HasMoreShards"], False)
        self.assertEqual(desc["RetentionPeriodHours"], 24)
        self.assertIsInstance(desc["StreamCreationTimestamp"], datetime.datetime)
        after = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
        self.assertTrue(before <= desc["StreamCreationTimestamp"] <= after,
                        desc["StreamCreationTimestamp"])
        self.assertEqual(desc["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])
        self.assertEqual(desc["EncryptionType"], "NONE")

        shards = desc["Shards"]
        self.assertEqual([s["ShardId"] for s in shards],
                         ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"])
        # The exact ranges AWS gives a 3-shard stream.
        self.assertEqual(
            [(s["HashKeyRange"]["StartingHashKey"], s["HashKeyRange"]["EndingHashKey"])
             for s in shards],
            [("0", "113427455640312821154458202477256070484"),
             ("113427455640312821154458202477256070485", "226854911280625642308916404954512140969"),
             ("226854911280625642308916404954512140970", "340282366920938463463374607431768211455")],
        )
        for s in shards:
            start = s["SequenceNumberRange"]["StartingSequenceNumber"]
            self.assertRegex(start, r"^(0|[1-9]\d*)$")
            self.assertNotIn("EndingSequenceNumber", s["SequenceNumberRange"])
            self.assertNotIn("ParentShardId", s)

    def test_hash_ranges_cover_the_key_space_evenly(self):
        for n in (1, 2, 5, 7):
            with self.subTest(shards=n):
                name = self.create_stream(shards=n)
                shards = self.shards(name)
                self.assertEqual(
                    [(int(s["HashKeyRange"]["StartingHashKey"]),
                      int(s["HashKeyRange"]["EndingHashKey"])) for s in shards],
                    even_split(n),
                )
                self.assertEqual(int(shards[-1]["HashKeyRange"]["EndingHashKey"]), MAX_HASH_KEY)

    def test_create_stream_on_demand_has_four_shards(self):
        name = self.create_stream(shards=None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamModeDetails"], {"StreamMode": "ON_DEMAND"})
        self.assertEqual(summary["OpenShardCount"], 4)
        self.assertEqual(len(self.shards(name)), 4)
        desc = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual(desc["StreamModeDetails"], {"StreamMode": "ON_DEMAND"})

    def test_describe_stream_summary(self):
        name = self.create_stream(shards=2)
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamName"], name)
        self.assertEqual(summary["StreamARN"], stream_arn(name))
        self.assertEqual(summary["StreamStatus"], "ACTIVE")
        self.assertEqual(summary["StreamModeDetails"], {"StreamMode": "PROVISIONED"})
        self.assertEqual(summary["RetentionPeriodHours"], 24)
        self.assertIsInstance(summary["StreamCreationTimestamp"], datetime.datetime)
        self.assertEqual(summary["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])
        self.assertEqual(summary["EncryptionType"], "NONE")
        self.assertEqual(summary["OpenShardCount"], 2)
        self.assertEqual(summary["ConsumerCount"], 0)
        self.assertNotIn("Shards", summary)

    def test_describe_stream_limit_and_exclusive_start_shard_id(self):
        name = self.create_stream(shards=5)
        first = self.kinesis.describe_stream(StreamName=name, Limit=2)["StreamDescription"]
        self.assertEqual([s["ShardId"] for s in first["Shards"]],
                         ["shardId-000000000000", "shardId-000000000001"])
        self.assertIs(first["HasMoreShards"], True)

        second = self.kinesis.describe_stream(
            StreamName=name, Limit=2, ExclusiveStartShardId=first["Shards"][-1]["ShardId"]
        )["StreamDescription"]
        self.assertEqual([s["ShardId"] for s in second["Shards"]],
                         ["shardId-000000000002", "shardId-000000000003"])
        self.assertIs(second["HasMoreShards"], True)

        last = self.kinesis.describe_stream(
            StreamName=name, ExclusiveStartShardId="shardId-000000000003"
        )["StreamDescription"]
        self.assertEqual([s["ShardId"] for s in last["Shards"]], ["shardId-000000000004"])
        self.assertIs(last["HasMoreShards"], False)

        past_end = self.kinesis.describe_stream(
            StreamName=name, ExclusiveStartShardId="shardId-000000000004"
        )["StreamDescription"]
        self.assertEqual(past_end["Shards"], [])
        self.assertIs(past_end["HasMoreShards"], False)

        # boto3's describe_stream paginator follows HasMoreShards and the last ShardId.
        pages = self.kinesis.get_paginator("describe_stream").paginate(
            StreamName=name, PaginationConfig={"PageSize": 2}
        )
        self.assertEqual(
            [s["ShardId"] for s in pages.build_full_result()["StreamDescription"]["Shards"]],
            [f"shardId-00000000000{i}" for i in range(5)],
        )

    def test_duplicate_create_is_resource_in_use(self):
        name = self.create_stream(shards=1)
        with self.assertAwsError("ResourceInUseException",
                                 f"Stream {name} under account {ACCOUNT} already exists."):
            self.kinesis.create_stream(StreamName=name, ShardCount=1)
        # Unchanged: still one shard.
        self.assertEqual(len(self.shards(name)), 1)

    def test_unknown_stream_is_resource_not_found(self):
        name = unique_name("missing")
        message = f"Stream {name} under account {ACCOUNT} not found."
        calls = {
            "DescribeStream": lambda: self.kinesis.describe_stream(StreamName=name),
            "DescribeStreamSummary": lambda: self.kinesis.describe_stream_summary(StreamName=name),
            "ListShards": lambda: self.kinesis.list_shards(StreamName=name),
            "DeleteStream": lambda: self.kinesis.delete_stream(StreamName=name),
            "PutRecord": lambda: self.kinesis.put_record(StreamName=name, PartitionKey="k",
                                                         Data=b"x"),
            "PutRecords": lambda: self.kinesis.put_records(
                StreamName=name, Records=[{"PartitionKey": "k", "Data": b"x"}]),
        }
        for op, call in calls.items():
            with self.subTest(op=op), self.assertAwsError("ResourceNotFoundException", message):
                call()
        with self.assertAwsError("ResourceNotFoundException", contains=[name, ACCOUNT]):
            self.kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                            ShardIteratorType="TRIM_HORIZON")


class Delete(KinesdTestCase):
    def test_delete_stream_then_waiter_then_gone_everywhere(self):
        name = self.create_stream(shards=2)
        self.kinesis.delete_stream(StreamName=name)
        self.wait_gone(name)
        self.assertNotIn(name, self.kinesis.list_streams()["StreamNames"])
        with self.assertAwsError("ResourceNotFoundException",
                                 f"Stream {name} under account {ACCOUNT} not found."):
            self.kinesis.describe_stream_summary(StreamName=name)
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.delete_stream(StreamName=name)

    def test_recreated_stream_starts_empty(self):
        name = self.create_stream(shards=1)
        self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"old")
        self.delete_stream(name)
        self.create_stream(shards=2, name=name)
        self.assertEqual(len(self.shards(name)), 2)
        records = self.read_stream(name)
        self.assertEqual(sum(len(r) for r in records.values()), 0, records)

    def test_iterator_of_deleted_stream_is_not_found(self):
        name = self.create_stream(shards=1)
        iterator = self.kinesis.get_shard_iterator(
            StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        self.delete_stream(name)
        with self.assertAwsError(
            "ResourceNotFoundException",
            f"Shard shardId-000000000000 in stream {name} under account {ACCOUNT} does not exist",
        ):
            self.kinesis.get_records(ShardIterator=iterator)


class ListStreams(KinesdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.prefix = unique_name("ls")
        cls.names = sorted(f"{cls.prefix}-{i}" for i in range(5))
        waiter = cls.kinesis.get_waiter("stream_exists")
        for name in cls.names:  # one at a time: AWS allows only 5 streams CREATING at once
            cls.kinesis.create_stream(StreamName=name, ShardCount=1)
            waiter.wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 150})

    def ours(self, names):
        return [n for n in names if n.startswith(self.prefix)]

    def test_list_streams_names_and_summaries(self):
        resp = self.kinesis.list_streams()
        self.assertEqual(self.ours(resp["StreamNames"]), self.names)
        self.assertIs(resp["HasMoreStreams"], False)
        self.assertEqual(resp["StreamNames"], sorted(resp["StreamNames"]))
        summaries = {s["StreamName"]: s for s in resp["StreamSummaries"]}
        self.assertEqual(set(summaries), set(resp["StreamNames"]))
        for name in self.names:
            s = summaries[name]
            self.assertEqual(s["StreamARN"], stream_arn(name))
            self.assertEqual(s["StreamStatus"], "ACTIVE")
            self.assertEqual(s["StreamModeDetails"], {"StreamMode": "PROVISIONED"})
            self.assertIsInstance(s["StreamCreationTimestamp"], datetime.datetime)

    def test_limit_and_next_token(self):
        resp = self.kinesis.list_streams(Limit=1)
        self.assertEqual(len(resp["StreamNames"]), 1)
        self.assertEqual(len(resp["StreamSummaries"]), 1)
        self.assertIs(resp["HasMoreStreams"], True)
        self.assertIn("NextToken", resp)

        seen = list(resp["StreamNames"])
        for _ in range(1000):
            if not resp["HasMoreStreams"]:
                break
            resp = self.kinesis.list_streams(Limit=2, NextToken=resp["NextToken"])
            self.assertLessEqual(len(resp["StreamNames"]), 2)
            seen += resp["StreamNames"]
        self.assertNotIn("NextToken", resp)
        self.assertEqual(len(seen), len(set(seen)), seen)
        self.assertEqual(self.ours(seen), self.names)

    def test_exclusive_start_stream_name(self):
        resp = self.kinesis.list_streams(ExclusiveStartStreamName=self.names[1])
        self.assertEqual(self.ours(resp["StreamNames"]), self.names[2:])
        self.assertTrue(all(n > self.names[1] for n in resp["StreamNames"]), resp["StreamNames"])

        resp = self.kinesis.list_streams(ExclusiveStartStreamName=self.names[0], Limit=2)
        self.assertEqual(resp["StreamNames"][:2], self.names[1:3])
        self.assertIs(resp["HasMoreStreams"], True)

    def test_paginator_collects_every_stream(self):
        pages = list(self.kinesis.get_paginator("list_streams").paginate(
            PaginationConfig={"PageSize": 2}))
        self.assertGreaterEqual(len(pages), 3)
        names = [n for p in pages for n in p["StreamNames"]]
        summaries = [s["StreamName"] for p in pages for s in p["StreamSummaries"]]
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(self.ours(names), self.names)
        self.assertEqual(summaries, names)
        full = self.kinesis.get_paginator("list_streams").paginate().build_full_result()
        self.assertEqual(self.ours(full["StreamNames"]), self.names)


class ListShards(KinesdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.name = unique_name("shards")
        cls.kinesis.create_stream(StreamName=cls.name, ShardCount=5)
        cls.kinesis.get_waiter("stream_exists").wait(
            StreamName=cls.name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 150})
        cls.all_ids = [f"shardId-00000000000{i}" for i in range(5)]

    def test_list_shards_returns_every_shard(self):
        resp = self.kinesis.list_shards(StreamName=self.name)
        self.assertEqual([s["ShardId"] for s in resp["Shards"]], self.all_ids)
        self.assertNotIn("NextToken", resp)
        described = self.kinesis.describe_stream(StreamName=self.name)["StreamDescription"]
        self.assertEqual(resp["Shards"], described["Shards"])

    def test_max_results_and_next_token(self):
        resp = self.kinesis.list_shards(StreamName=self.name, MaxResults=2)
        self.assertEqual([s["ShardId"] for s in resp["Shards"]], self.all_ids[:2])
        self.assertIn("NextToken", resp)
        seen = [s["ShardId"] for s in resp["Shards"]]
        for _ in range(100):
            token = resp.get("NextToken")
            if not token:
                break
            resp = self.kinesis.list_shards(NextToken=token, MaxResults=2)
            self.assertLessEqual(len(resp["Shards"]), 2)
            seen += [s["ShardId"] for s in resp["Shards"]]
        self.assertEqual(seen, self.all_ids)

    def test_next_token_with_stream_name_is_invalid_argument(self):
        token = self.kinesis.list_shards(StreamName=self.name, MaxResults=1)["NextToken"]
        with self.assertAwsError("InvalidArgumentException",
                                 "NextToken and StreamName cannot be provided together."):
            self.kinesis.list_shards(StreamName=self.name, NextToken=token)

    def test_exclusive_start_shard_id(self):
        resp = self.kinesis.list_shards(StreamName=self.name,
                                        ExclusiveStartShardId="shardId-000000000001")
        self.assertEqual([s["ShardId"] for s in resp["Shards"]], self.all_ids[2:])
        resp = self.kinesis.list_shards(StreamName=self.name,
                                        ExclusiveStartShardId="shardId-000000000001", MaxResults=2)
        self.assertEqual([s["ShardId"] for s in resp["Shards"]], self.all_ids[2:4])
        resp = self.kinesis.list_shards(StreamName=self.name,
                                        ExclusiveStartShardId="shardId-000000000004")
        self.assertEqual(resp["Shards"], [])

    def test_paginator(self):
        # One page: the paginator sends StreamName only.
        pages = self.kinesis.get_paginator("list_shards").paginate(StreamName=self.name)
        self.assertEqual([s["ShardId"] for s in pages.build_full_result()["Shards"]], self.all_ids)
        # Several pages: botocore's paginator repeats StreamName next to NextToken, which AWS
        # refuses (boto/botocore#2009). kinesd must refuse it the same way.
        pages = self.kinesis.get_paginator("list_shards").paginate(
            StreamName=self.name, PaginationConfig={"PageSize": 2})
        with self.assertAwsError("InvalidArgumentException",
                                 "NextToken and StreamName cannot be provided together."):
            list(pages)


class StreamArnAddressing(KinesdTestCase):
    """Every operation that takes StreamARN works with it instead of StreamName."""

    def test_every_operation_by_arn(self):
        name = unique_name("arn")
        arn = stream_arn(name)
        self.kinesis.create_stream(StreamName=name, ShardCount=2)
        self.kinesis.get_waiter("stream_exists").wait(StreamARN=arn,
                                                       WaiterConfig=self.waiter_config())

        desc = self.kinesis.describe_stream(StreamARN=arn)["StreamDescription"]
        self.assertEqual(desc["StreamName"], name)
        self.assertEqual(desc["StreamARN"], arn)
        desc = self.kinesis.describe_stream(StreamARN=arn, Limit=1)["StreamDescription"]
        self.assertEqual(len(desc["Shards"]), 1)
        summary = self.kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamName"], name)
        self.assertEqual(summary["OpenShardCount"], 2)

        shards = self.kinesis.list_shards(StreamARN=arn)["Shards"]
        self.assertEqual(len(shards), 2)

        put = self.kinesis.put_record(StreamARN=arn, PartitionKey="a", Data=b"one",
                                      ExplicitHashKey="0")
        self.assertEqual(put["ShardId"], "shardId-000000000000")
        batch = self.kinesis.put_records(StreamARN=arn, Records=[
            {"PartitionKey": "b", "Data": b"two", "ExplicitHashKey": "0"},
        ])
        self.assertEqual(batch["FailedRecordCount"], 0)

        iterator = self.kinesis.get_shard_iterator(
            StreamARN=arn, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = self.kinesis.get_records(StreamARN=arn, ShardIterator=iterator)["Records"]
        self.assertEqual([r["Data"] for r in records], [b"one", b"two"])
        iterator = self.kinesis.get_shard_iterator(
            StreamARN=arn, ShardId="shardId-000000000000", ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=batch["Records"][0]["SequenceNumber"],
        )["ShardIterator"]
        records = self.kinesis.get_records(ShardIterator=iterator)["Records"]
        self.assertEqual([r["Data"] for r in records], [b"two"])

        self.kinesis.delete_stream(StreamARN=arn)
        self.kinesis.get_waiter("stream_not_exists").wait(StreamARN=arn,
                                                           WaiterConfig=self.waiter_config())
        with self.assertAwsError("ResourceNotFoundException", contains=name):
            self.kinesis.describe_stream_summary(StreamARN=arn)

    def test_unknown_arn_is_resource_not_found(self):
        name = unique_name("missing")
        with self.assertAwsError("ResourceNotFoundException", contains=[name, ACCOUNT]):
            self.kinesis.describe_stream(StreamARN=stream_arn(name))


class Regions(KinesdTestCase):
    def test_regions_are_isolated(self):
        west = self.server.client(region="us-west-2")
        name = self.create_stream(shards=1)

        self.assertNotIn(name, west.list_streams()["StreamNames"])
        with self.assertAwsError("ResourceNotFoundException",
                                 f"Stream {name} under account {ACCOUNT} not found."):
            west.describe_stream(StreamName=name)

        # The same name in another region is another stream, with that region's ARN.
        self.create_stream(shards=3, name=name, client=west)
        desc = west.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual(desc["StreamARN"], stream_arn(name, region="us-west-2"))
        self.assertEqual(desc["StreamARN"], f"arn:aws:kinesis:us-west-2:{ACCOUNT}:stream/{name}")
        self.assertEqual(len(desc["Shards"]), 3)
        summaries = {s["StreamName"]: s for s in west.list_streams()["StreamSummaries"]}
        self.assertEqual(summaries[name]["StreamARN"], stream_arn(name, region="us-west-2"))

        west.put_record(StreamName=name, PartitionKey="k", Data=b"west")
        self.assertEqual(len(self.shards(name)), 1)
        east_records = self.read_stream(name)
        self.assertEqual(sum(len(r) for r in east_records.values()), 0)

        self.delete_stream(name, client=west)
        self.assertEqual(
            self.kinesis.describe_stream_summary(StreamName=name)
            ["StreamDescriptionSummary"]["StreamStatus"], "ACTIVE")


class DelayedCreateAndDelete(KinesdTestCase):
    server_args = ("--create-stream-ms", "500", "--delete-stream-ms", "500")

    def test_creating_then_active_then_deleting_then_gone(self):
        name = unique_name("slow")
        self.kinesis.create_stream(StreamName=name, ShardCount=2)
        desc = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual(desc["StreamStatus"], "CREATING")
        self.assertEqual(desc["StreamARN"], stream_arn(name))
        summaries = {s["StreamName"]: s for s in self.kinesis.list_streams()["StreamSummaries"]}
        self.assertEqual(summaries[name]["StreamStatus"], "CREATING")
        with self.assertAwsError("ResourceInUseException"):
            self.kinesis.create_stream(StreamName=name, ShardCount=2)

        started = time.monotonic()
        self.kinesis.get_waiter("stream_exists").wait(StreamName=name,
                                                       WaiterConfig=self.waiter_config())
        self.assertLess(time.monotonic() - started, 10)
        desc = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual(desc["StreamStatus"], "ACTIVE")
        self.assertEqual(len(desc["Shards"]), 2)

        self.kinesis.delete_stream(StreamName=name)
        desc = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual(desc["StreamStatus"], "DELETING")
        with self.assertAwsError("ResourceInUseException"):
            self.kinesis.create_stream(StreamName=name, ShardCount=1)
        self.kinesis.get_waiter("stream_not_exists").wait(StreamName=name,
                                                           WaiterConfig=self.waiter_config())
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.describe_stream(StreamName=name)

    def test_default_waiter_delay_is_not_needed_for_an_active_stream(self):
        # The stock waiter (10 s delay) returns on its first poll once the stream is ACTIVE.
        name = self.create_stream(shards=1)
        started = time.monotonic()
        self.kinesis.get_waiter("stream_exists").wait(StreamName=name)
        self.assertLess(time.monotonic() - started, 5)


class ShardLimit(KinesdTestCase):
    server_args = ("--shard-limit", "10")

    def setUp(self):
        self.kinesis = self.server.client(max_attempts=1)

    def test_limit_exceeded(self):
        six = self.create_stream(shards=6)
        name = unique_name("over")
        with self.assertAwsError(
            "LimitExceededException",
            contains=[
                f"This request would exceed the shard limit for the account {ACCOUNT} "
                "in us-east-1.",
                "Current shard count for the account: 6.",
                "Limit: 10.",
                "Number of additional shards that would have resulted from this request: 5.",
            ],
        ):
            self.kinesis.create_stream(StreamName=name, ShardCount=5)
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.describe_stream(StreamName=name)

        with self.assertAwsError("LimitExceededException", contains="this request: 11."):
            self.kinesis.create_stream(StreamName=unique_name("over"), ShardCount=11)

        four = self.create_stream(shards=4)  # exactly at the limit
        with self.assertAwsError("LimitExceededException",
                                 contains="Current shard count for the account: 10."):
            self.kinesis.create_stream(StreamName=unique_name("over"), ShardCount=1)

        # Deleting a stream gives its shards back.
        self.delete_stream(six)
        self.create_stream(shards=5)
        self.delete_stream(four)


class ShardLimitPerRegion(KinesdTestCase):
    server_args = ("--shard-limit", "10")

    def test_limit_counts_each_region_separately(self):
        east = self.server.client(max_attempts=1)
        west = self.server.client(region="us-west-2", max_attempts=1)
        self.create_stream(shards=10, client=east)
        self.create_stream(shards=10, client=west)
        with self.assertAwsError("LimitExceededException", contains="in us-west-2."):
            west.create_stream(StreamName=unique_name("over"), ShardCount=1)


if __name__ == "__main__":
    unittest.main()
