"""--create-streams: the streams exist (ACTIVE, as specified) as soon as kinesd reports ready, and
survive restarts without being recreated; a bad spec stops kinesd with a one-line reason."""
import os
import subprocess
import tempfile
import unittest

from kinesd_harness import KinesdServer, kinesd_binary, unique_name, wait_ready


class Bootstrap(unittest.TestCase):
    SPEC = "orders:4,clicks:1:ON_DEMAND"

    def setUp(self):
        # A long CREATING delay: bootstrap streams must not be subject to it.
        self.server = KinesdServer("--create-streams", self.SPEC, "--create-stream-ms", "60000")
        self.addCleanup(self.server.close)
        self.server.start()
        wait_ready(self.server.port)
        self.kinesis = self.server.client()

    def summary(self, name):
        return self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]

    def test_streams_exist_and_are_active_when_ready(self):
        orders, clicks = self.summary("orders"), self.summary("clicks")
        self.assertEqual(orders["StreamStatus"], "ACTIVE")
        self.assertEqual(orders["OpenShardCount"], 4)
        self.assertEqual(orders["StreamModeDetails"]["StreamMode"], "PROVISIONED")
        self.assertEqual(clicks["StreamStatus"], "ACTIVE")
        self.assertEqual(clicks["OpenShardCount"], 1)
        self.assertEqual(clicks["StreamModeDetails"]["StreamMode"], "ON_DEMAND")
        self.assertEqual(sorted(self.kinesis.list_streams()["StreamNames"]), ["clicks", "orders"])
        # Usable at once.
        ack = self.kinesis.put_record(StreamName="orders", PartitionKey="k", Data=b"first")
        self.assertIn("SequenceNumber", ack)

    def test_restarts_keep_the_streams_and_their_records(self):
        created = {n: self.summary(n)["StreamCreationTimestamp"] for n in ("orders", "clicks")}
        acks = [self.kinesis.put_record(StreamName="orders", PartitionKey=f"k{i}", Data=b"r%d" % i)
                for i in range(8)]
        for _ in range(2):
            self.server.restart()
            wait_ready(self.server.port)
            self.kinesis = self.server.client()
            for name, ts in created.items():
                self.assertEqual(self.summary(name)["StreamCreationTimestamp"], ts, name)
            self.assertEqual(sorted(self.kinesis.list_streams()["StreamNames"]), ["clicks", "orders"])
        records = []
        for shard in self.kinesis.list_shards(StreamName="orders")["Shards"]:
            it = self.kinesis.get_shard_iterator(StreamName="orders", ShardId=shard["ShardId"],
                                                 ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            records += self.kinesis.get_records(ShardIterator=it)["Records"]
        self.assertEqual(sorted(r["SequenceNumber"] for r in records),
                         sorted(a["SequenceNumber"] for a in acks))

    def test_a_stream_deleted_by_the_user_comes_back_at_the_next_start_only(self):
        self.kinesis.delete_stream(StreamName="clicks")
        self.kinesis.get_waiter("stream_not_exists").wait(
            StreamName="clicks", WaiterConfig={"Delay": 0.1, "MaxAttempts": 150})
        self.server.restart()
        wait_ready(self.server.port)
        self.kinesis = self.server.client()
        self.assertEqual(self.summary("clicks")["StreamStatus"], "ACTIVE")


class BadSpecs(unittest.TestCase):
    def run_kinesd(self, *args, env=None):
        data_dir = self.enterContext(tempfile.TemporaryDirectory(prefix="kinesd-e2e-"))
        return subprocess.run(
            [kinesd_binary(), "--host", "127.0.0.1", "--port", "0", "--data-dir", data_dir, *args],
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )

    def test_a_malformed_spec_is_a_one_line_error_with_status_2(self):
        for spec in ("orders:0", "orders:4:FAST", "a,,b", "bad/name"):
            out = self.run_kinesd("--create-streams", spec)
            self.assertEqual(out.returncode, 2, out)
            self.assertIn("create-streams", out.stderr)
            self.assertEqual(len(out.stderr.strip().splitlines()), 1, out.stderr)

    def test_the_environment_variable_is_read_too(self):
        out = self.run_kinesd(env={"KINESD_CREATE_STREAMS": "x:0"})
        self.assertEqual(out.returncode, 2, out)
        self.assertIn("create-streams", out.stderr)

    def test_over_the_shard_limit_kinesd_stops_and_names_the_stream(self):
        name = unique_name("big")
        out = self.run_kinesd("--shard-limit", "3", "--create-streams", f"small:2,{name}:2")
        self.assertEqual(out.returncode, 1, out)
        self.assertIn(name, out.stderr)
        self.assertIn("LimitExceededException", out.stderr)


if __name__ == "__main__":
    unittest.main()
