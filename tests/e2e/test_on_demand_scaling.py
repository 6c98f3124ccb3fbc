"""ON_DEMAND capacity growth, as a boto3 producer sees it.

With --throttle on, an ON_DEMAND stream whose writes over a minute of server time exceed 80% of
its open shards' capacity (records refused for throughput count as wanted) doubles its open
shards, as AWS grows on-demand streams. The server's clock is frozen and moved forward by the
test, so the minute does not depend on how fast the machine runs; the per-shard record rate is
lowered to 100/s so that a few PutRecords calls make a busy minute.
"""
import time
import unittest

from kinesd_harness import KinesdTestCase, unique_name
from test_throttling import AdminClient

RECORDS_PER_SHARD_PER_SEC = 100
DEADLINE_S = 60  # bound on the whole produce-until-scaled loop, generous for a loaded machine


class OnDemandScaling(KinesdTestCase):
    server_args = ("--throttle", "on", "--admin", "on",
                   "--shard-write-records-per-sec", str(RECORDS_PER_SHARD_PER_SEC))

    def setUp(self):
        self.admin = AdminClient(self.server)
        self.no_retry = self.server.client(max_attempts=1)
        self.assertEqual(self.admin.request("POST", "/_kinesd/clock", {"freeze": True})[0], 200)
        self.addCleanup(self.admin.request, "POST", "/_kinesd/clock", {"reset": True})

    def advance_ms(self, ms):
        self.assertEqual(self.admin.request("POST", "/_kinesd/clock", {"advanceMs": ms})[0], 200)

    def open_shards(self, name):
        return self.kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]

    def test_a_busy_on_demand_stream_doubles_its_shards_and_keeps_every_record(self):
        name = unique_name("ondemand")
        self.create_stream(shards=None, name=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        quiet = unique_name("quiet")
        self.create_stream(shards=None, name=quiet, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        first = self.open_shards(name)
        self.assertEqual(len(first), 4)

        # Each step offers 1000 records in one second of server time, 2.5 times the capacity of
        # 4 shards at 100 records/s; the buckets accept about 400 and refuse the rest. The scaler
        # judges each minute of server time within about a second of real time.
        accepted = {}
        deadline = time.monotonic() + DEADLINE_S
        step = 0
        while len(self.open_shards(name)) == 4:
            self.assertLess(time.monotonic(), deadline,
                            f"still 4 open shards after {step} busy seconds of server time")
            for batch in range(2):
                records = [{"PartitionKey": f"k-{step}-{batch}-{i}", "Data": f"{step}-{batch}-{i}".encode()}
                           for i in range(500)]
                out = self.no_retry.put_records(StreamName=name, Records=records)
                for rec, entry in zip(records, out["Records"]):
                    if "SequenceNumber" in entry:
                        accepted[entry["SequenceNumber"]] = rec["Data"]
                    else:
                        self.assertEqual(entry["ErrorCode"], "ProvisionedThroughputExceededException")
            self.advance_ms(1000)
            step += 1
        self.assertGreaterEqual(step, 60, "scaled before a whole busy minute had passed")

        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamStatus"], "ACTIVE")
        self.assertEqual(summary["OpenShardCount"], 8)
        self.assertEqual(summary["StreamModeDetails"]["StreamMode"], "ON_DEMAND")
        children = self.open_shards(name)
        self.assertEqual(len(children), 8)
        parents = {s["ShardId"] for s in first}
        for child in children:
            self.assertIn(child["ParentShardId"], parents)
            self.assertNotIn(child["ShardId"], parents)

        # Writes now go to the children, and every accepted record is readable exactly once:
        # those written before the scaling from the closed parents, the rest from the children.
        self.advance_ms(1000)
        after = self.kinesis.put_record(StreamName=name, PartitionKey="after", Data=b"after")
        self.assertIn(after["ShardId"], {s["ShardId"] for s in children})
        accepted[after["SequenceNumber"]] = b"after"
        read = {}
        for shard in self.shards(name):
            for rec in self.read_shard(name, shard["ShardId"]):
                self.assertNotIn(rec["SequenceNumber"], read)
                read[rec["SequenceNumber"]] = rec["Data"]
        self.assertEqual(len(read), len(accepted))
        self.assertEqual(read, accepted)

        # A stream nobody wrote to kept its capacity.
        self.assertEqual(len(self.open_shards(quiet)), 4)


if __name__ == "__main__":
    unittest.main()
