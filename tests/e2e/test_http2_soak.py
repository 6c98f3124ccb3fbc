"""Soak: mixed HTTP/1.1 (boto3 threads) and HTTP/2 (the AWS SDK for JavaScript v3, one shared
session plus a session per call) load on loopback for KINESD_SOAK_SECONDS (default 60) seconds.
No call may fail, and kinesd's anonymous memory (RssAnon: heap, not the mapped segment files)
must stay flat after warm-up."""
import json
import os
import subprocess
import threading
import time
import unittest

from kinesd_harness import JS_DIR, KinesdTestCase, ensure_js_sdk

SOAK_SECONDS = float(os.environ.get("KINESD_SOAK_SECONDS", "60"))
HTTP1_THREADS = 3
H2_CONCURRENCY = 8
# Growth of RssAnon allowed from the end of warm-up to the end: allocator noise, not a leak.
# (Seen here: about 5.4 MiB, flat to 0.3 MiB, over some 30k calls in 60 s; a leak of 300 bytes
# per call, or of one buffer per connection of the per-call client, would exceed it.)
ALLOWED_GROWTH_KIB = 8 * 1024


def rss_anon_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise AssertionError("no RssAnon in /proc/PID/status")


class Soak(KinesdTestCase):
    server_args = ("--throttle", "off")

    def test_mixed_http1_and_http2_load(self):
        node = ensure_js_sdk()
        name = self.create_stream(2)
        deadline = time.monotonic() + SOAK_SECONDS
        js = subprocess.Popen(
            [node, "kinesis_flow.js", "soak", self.server.endpoint, str(SOAK_SECONDS), name, str(H2_CONCURRENCY)],
            cwd=JS_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        counts = {"calls": 0, "errors": []}
        lock = threading.Lock()

        def http1_loop(i):
            kinesis = self.server.client(max_attempts=1)
            shard = self.shards(name, kinesis)[i % 2]["ShardId"]
            it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard,
                                            ShardIteratorType="LATEST")["ShardIterator"]
            n = 0
            while time.monotonic() < deadline:
                try:
                    if n % 2 == 0:
                        kinesis.put_record(StreamName=name, PartitionKey=f"py-{i}-{n}", Data=os.urandom(700))
                    else:
                        it = kinesis.get_records(ShardIterator=it, Limit=100)["NextShardIterator"]
                except Exception as e:  # every failure is reported below
                    with lock:
                        counts["errors"].append(repr(e))
                with lock:
                    counts["calls"] += 1
                n += 1

        threads = [threading.Thread(target=http1_loop, args=(i,), daemon=True) for i in range(HTTP1_THREADS)]
        for t in threads:
            t.start()
        samples = []  # (seconds since start, RssAnon KiB)
        started = time.monotonic()
        while time.monotonic() < deadline:
            samples.append((time.monotonic() - started, rss_anon_kib(self.server.pid)))
            time.sleep(1)  # sampling period; the load runs in the threads and in node
        for t in threads:
            t.join(timeout=60)
        try:
            out, err = js.communicate(timeout=120)
        finally:
            if js.poll() is None:
                js.kill()
                js.wait(timeout=10)
        self.assertEqual(js.returncode, 0, err[-4000:])
        h2 = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
        self.assertEqual(counts["errors"], [], "HTTP/1.1 calls failed")
        self.assertEqual(h2["failed"], 0, h2["errors"])
        self.assertGreater(counts["calls"], 50)
        self.assertGreater(h2["calls"], 200)
        self.assertTrue(self.server.is_running())

        # Flat memory: after the first third (warm-up: buffers, arenas, caches fill), the
        # highest sample may not exceed the warm-up level by more than ALLOWED_GROWTH_KIB.
        warm = [kib for t, kib in samples if t >= SOAK_SECONDS / 3]
        self.assertGreaterEqual(len(warm), 3, samples)
        growth = max(warm) - warm[0]
        print(f"\nsoak: {counts['calls']} HTTP/1.1 calls, {h2['calls']} HTTP/2 calls "
              f"({h2['records']} records); RssAnon {warm[0]} -> {warm[-1]} KiB (max {max(warm)})")
        self.assertLess(growth, ALLOWED_GROWTH_KIB, f"RssAnon grew by {growth} KiB: {samples}")


if __name__ == "__main__":
    unittest.main()
