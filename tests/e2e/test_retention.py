"""Retention: records expire after the stream's retention period, on every read path and on disk.
The server's clock is moved through the admin API (--admin on) instead of waiting a day, and the
reaper runs every 100 ms. Segment files are small so that a few records fill several. Throttling
is off: these tests read the same shard many times a second, and throttling has its own tests."""
import glob
import json
import os
import time
import unittest
import urllib.request

from kinesd_harness import KinesdTestCase

HOUR = 3600
DEADLINE_S = 20  # bound for waiting on the reaper, generous for a loaded machine
SHARD0 = "shardId-000000000000"


class Retention(KinesdTestCase):
    server_args = ("--admin", "on", "--reaper-interval-ms", "100", "--segment-bytes", "4096",
                   "--throttle", "off")

    def setUp(self):
        self.admin("POST", "/_kinesd/clock", {"reset": True})

    def tearDown(self):
        self.admin("POST", "/_kinesd/clock", {"reset": True})

    # --- helpers --------------------------------------------------------------------------

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server.endpoint + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def advance(self, seconds):
        return self.admin("POST", "/_kinesd/clock", {"advanceSeconds": seconds})

    def put(self, name, tag, count, size=1000):
        """count records of about `size` bytes, tagged b"<tag>-<i>:"; returns their sequence numbers."""
        seqs = []
        for i in range(count):
            data = f"{tag}-{i}:".encode() + b"x" * size
            seqs.append(self.kinesis.put_record(StreamName=name, PartitionKey="k",
                                                Data=data)["SequenceNumber"])
        return seqs

    def tags(self, records):
        return [r["Data"].split(b":", 1)[0].decode() for r in records]

    def segment_files(self, name):
        """The segment files of the stream's only shard, as the data dir holds them."""
        arn = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
        # The stream's directory is the one whose meta.json names it.
        for meta in glob.glob(os.path.join(self.server.data_dir, "streams", "*", "meta.json")):
            with open(meta) as f:
                doc = json.load(f)
            if doc["name"] == arn.rsplit("/", 1)[1]:
                return set(glob.glob(os.path.join(os.path.dirname(meta), SHARD0, "*.seg")))
        self.fail(f"no directory for stream {name}")

    def wait_until_gone(self, files):
        """Bounded polling for the reaper's pass: every file in `files` deleted."""
        deadline = time.monotonic() + DEADLINE_S
        while any(os.path.exists(f) for f in files):
            if time.monotonic() > deadline:
                self.fail(f"the reaper did not delete {sorted(f for f in files if os.path.exists(f))} "
                          f"within {DEADLINE_S} s")
            time.sleep(0.05)

    # --- tests ----------------------------------------------------------------------------

    def test_admin_clock_moves_and_resets(self):
        before = self.admin("GET", "/_kinesd/clock")
        self.assertEqual(before["offsetMs"], 0)
        moved = self.advance(25 * HOUR)
        self.assertEqual(moved["offsetMs"], 25 * HOUR * 1000)
        self.assertGreaterEqual(moved["now"] - before["now"], 25 * HOUR * 1000)
        self.assertEqual(self.admin("POST", "/_kinesd/clock", {"reset": True})["offsetMs"], 0)

    def test_records_expire_after_24_hours_and_their_files_go(self):
        name = self.create_stream(1)
        self.assertEqual(self.kinesis.describe_stream(StreamName=name)["StreamDescription"]
                         ["RetentionPeriodHours"], 24)
        old_seqs = self.put(name, "old", 12)
        old_files = self.segment_files(name)
        self.assertGreaterEqual(len(old_files), 3)
        self.assertEqual(len(self.read_shard(name, SHARD0)), 12)

        self.advance(24 * HOUR + 60)
        # Reads honour retention at once, before the reaper has run or not.
        self.assertEqual(self.read_shard(name, SHARD0), [])
        self.wait_until_gone(old_files)
        self.assertEqual(self.read_shard(name, SHARD0), [])

        # New puts still work and are read back from TRIM_HORIZON.
        self.put(name, "new", 2)
        self.assertEqual(self.tags(self.read_shard(name, SHARD0)), ["new-0", "new-1"])
        # A sequence number of an expired record reads from the oldest retained one, as on AWS.
        self.assertEqual(
            self.tags(self.read_shard(name, SHARD0, iterator_type="AT_SEQUENCE_NUMBER",
                                      StartingSequenceNumber=old_seqs[3])),
            ["new-0", "new-1"])

    def test_raised_retention_keeps_records_through_30_hours(self):
        kept = self.create_stream(1)
        control = self.create_stream(1)
        self.kinesis.increase_stream_retention_period(StreamName=kept, RetentionPeriodHours=48)
        self.wait_active(kept)
        summary = self.kinesis.describe_stream_summary(StreamName=kept)["StreamDescriptionSummary"]
        self.assertEqual(summary["RetentionPeriodHours"], 48)
        self.put(kept, "kept", 12)
        self.put(control, "gone", 12)
        kept_files = self.segment_files(kept)
        control_files = self.segment_files(control)

        self.advance(30 * HOUR)
        # The control stream (24 hours) shows that a reaper pass ran after the advance.
        self.wait_until_gone(control_files)
        self.assertTrue(all(os.path.exists(f) for f in kept_files))
        self.assertEqual(self.tags(self.read_shard(kept, SHARD0)), [f"kept-{i}" for i in range(12)])
        self.assertEqual(self.read_shard(control, SHARD0), [])

        # Back to 24 hours: the records are 30 hours old, so they go.
        self.kinesis.decrease_stream_retention_period(StreamName=kept, RetentionPeriodHours=24)
        self.assertEqual(self.read_shard(kept, SHARD0), [])
        self.wait_until_gone(kept_files)

    def test_retention_period_errors(self):
        name = self.create_stream(1)
        with self.assertAwsError("InvalidArgumentException",
                                 "Minimum allowed retention period is 24 hours. Requested "
                                 "retention period (12 hours) is too short."):
            self.kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=12)
        with self.assertAwsError("InvalidArgumentException",
                                 "Maximum allowed retention period is 8760 hours. Requested "
                                 "retention period (9000 hours) is too long."):
            self.kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=9000)
        with self.assertAwsError("InvalidArgumentException",
                                 f"Requested retention period (48 hours) for stream {name} can not "
                                 "be longer than existing retention period (24 hours). Use "
                                 "IncreaseRetentionPeriod API."):
            self.kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
        self.kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=8760)
        self.wait_active(name)
        with self.assertAwsError("InvalidArgumentException",
                                 f"Requested retention period (100 hours) for stream {name} can "
                                 "not be shorter than existing retention period (8760 hours). Use "
                                 "DecreaseRetentionPeriod API."):
            self.kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=100)
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.increase_stream_retention_period(StreamName=name + "-missing",
                                                          RetentionPeriodHours=48)


if __name__ == "__main__":
    unittest.main()
