"""Durability as a client sees it: SIGTERM during a put load exits 0 and keeps every acknowledged
record; --fsync always acknowledges concurrent producers' records and keeps them; --fsync
options are validated."""
import platform
import subprocess
import threading
import time
import unittest

import botocore.exceptions

import prometheus_text
from kinesd_harness import KinesdServer, KinesdTestCase, http_get, kinesd_binary, unique_name

LOAD_TIMEOUT_S = 30


class Loader(threading.Thread):
    """PutRecords batches until stopped or the server goes away; keeps the acknowledged ones."""

    def __init__(self, client, stream, tag):
        super().__init__(daemon=True)
        self.client, self.stream, self.tag = client, stream, tag
        self.acked = {}  # (ShardId, SequenceNumber) -> data
        self.batches = 0
        self.stop_flag = threading.Event()
        self.error = None

    def run(self):
        n = 0
        try:
            while not self.stop_flag.is_set():
                entries = []
                for _ in range(10):
                    entries.append({"PartitionKey": f"{self.tag}-{n}",
                                    "Data": f"{self.tag}:{n}".encode()})
                    n += 1
                try:
                    resp = self.client.put_records(StreamName=self.stream, Records=entries)
                except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                    return  # the server stopped
                for entry, result in zip(entries, resp["Records"]):
                    if "SequenceNumber" in result:
                        self.acked[(result["ShardId"], result["SequenceNumber"])] = entry["Data"]
                self.batches += 1
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)  # polling, bounded by the deadline


def read_all(test, client, stream):
    """{(ShardId, SequenceNumber): Data} of every record of the stream."""
    out = {}
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        records = test.read_shard(stream, shard["ShardId"], client=client)
        for r in records:
            key = (shard["ShardId"], r["SequenceNumber"])
            test.assertNotIn(key, out)
            out[key] = r["Data"]
    return out


class GracefulShutdown(KinesdTestCase):
    def test_sigterm_during_a_put_load_exits_0_and_keeps_every_acknowledged_record(self):
        stream = self.create_stream(shards=2)
        client = self.server.client(max_attempts=1)
        loaders = [Loader(client, stream, f"p{i}") for i in range(2)]
        for loader in loaders:
            loader.start()
        wait_for(lambda: all(l.batches >= 3 for l in loaders), LOAD_TIMEOUT_S, "acknowledged puts")
        status = self.server.stop()
        self.assertEqual(status, 0, f"exit status {status}\n{self.server.stderr_text()}")
        for loader in loaders:
            loader.join(timeout=LOAD_TIMEOUT_S)
            self.assertFalse(loader.is_alive())
            self.assertIsNone(loader.error)

        self.server.start(port=self.server.port)
        client = self.server.client()
        stored = read_all(self, client, stream)
        for loader in loaders:
            for key, data in loader.acked.items():
                self.assertEqual(stored.get(key), data, f"acknowledged record {key} lost")


class FsyncAlways(KinesdTestCase):
    server_args = ("--fsync", "always", "--throttle", "off")

    def test_concurrent_producers_are_acknowledged_and_kept_across_a_crash(self):
        self.check_producers_across_a_crash(shards=1)

    def test_producers_on_several_shards_share_rounds_and_are_kept_across_a_crash(self):
        # Each PutRecords writes to several shards: its rounds cover several shard logs, which
        # the commit pipeline makes durable with one write of its commit journal (or, for the
        # first round of a new log, one syncfs) where the kernel reports syncfs errors. After
        # the crash, the restart replays the journal into the segment files.
        families = self.check_producers_across_a_crash(shards=4)
        if kernel_reports_syncfs_errors():
            self.assertGreater(families["kinesd_storage_journal_writes_total"].value(), 0)
            self.assertRegex(self.server.stderr_text(), r"commit journal: [1-9]\d* entries replayed")

    def check_producers_across_a_crash(self, shards):
        """Returns the metrics read before the crash."""
        stream = self.create_stream(shards=shards)
        loaders = [Loader(self.server.client(max_attempts=1), stream, f"c{i}") for i in range(4)]
        for loader in loaders:
            loader.start()
        wait_for(lambda: all(l.batches >= 5 for l in loaders), LOAD_TIMEOUT_S, "acknowledged puts")
        for loader in loaders:
            loader.stop_flag.set()
        for loader in loaders:
            loader.join(timeout=LOAD_TIMEOUT_S)
            self.assertIsNone(loader.error)
        # A put is answered after its fsync, and counted then: every answered batch waited for
        # one, and the request metrics count each once, as 200.
        families = prometheus_text.parse(http_get(self.server.port, "/metrics").body.decode())
        batches = sum(l.batches for l in loaders)
        self.assertEqual(families["kinesd_requests_total"].get(operation="PutRecords", code="200"),
                         batches)
        self.assertGreaterEqual(families["kinesd_storage_fsync_waits_total"].value(), batches)
        self.assertLessEqual(families["kinesd_storage_fsync_rounds_total"].value(),
                             families["kinesd_storage_fsync_waits_total"].value())
        self.server.kill9()
        self.server.start(port=self.server.port)
        client = self.server.client()
        stored = read_all(self, client, stream)
        for loader in loaders:
            self.assertGreaterEqual(len(loader.acked), 50)
            self.assertEqual(len({shard for shard, _ in loader.acked}), shards)
            for key, data in loader.acked.items():
                self.assertEqual(stored.get(key), data, f"acknowledged record {key} lost")
        return families


def kernel_reports_syncfs_errors():
    """Linux 5.8 and later (kinesd uses syncfs only there)."""
    major, minor = (int(part) for part in platform.release().split(".")[:2])
    return (major, minor) >= (5, 8)


class FsyncOptions(unittest.TestCase):
    def run_kinesd(self, *args):
        return subprocess.run([kinesd_binary(), *args], capture_output=True, text=True,
                              timeout=30, stdin=subprocess.DEVNULL)

    def test_bad_values_stop_kinesd_with_status_2(self):
        out = self.run_kinesd("--fsync", "sometimes")
        self.assertEqual(out.returncode, 2)
        self.assertIn("invalid value 'sometimes' for fsync: expected never, interval or always",
                      out.stderr)
        out = self.run_kinesd("--fsync-interval-ms", "0")
        self.assertEqual(out.returncode, 2)
        self.assertIn("fsync-interval-ms", out.stderr)

    def test_help_lists_the_options(self):
        out = self.run_kinesd("--help")
        self.assertEqual(out.returncode, 0)
        self.assertIn("--fsync never|interval|always", out.stdout)
        self.assertIn("--fsync-interval-ms MS", out.stdout)

    def test_every_mode_starts_and_serves(self):
        for mode in ("never", "interval", "always"):
            with self.subTest(mode=mode), KinesdServer("--fsync", mode,
                                                       "--fsync-interval-ms", "50") as server:
                client = server.client()
                name = unique_name()
                client.create_stream(StreamName=name, ShardCount=1)
                client.get_waiter("stream_exists").wait(
                    StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 150})
                ack = client.put_record(StreamName=name, PartitionKey="k", Data=b"v")
                self.assertEqual(ack["ShardId"], "shardId-000000000000")
                self.assertEqual(server.stop(), 0, server.stderr_text())


if __name__ == "__main__":
    unittest.main()
