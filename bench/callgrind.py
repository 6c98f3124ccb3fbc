#!/usr/bin/env python3
"""Instructions per request of the hot operations, under valgrind --tool=callgrind.

Counts only inside kinesd::api::dispatch (request parsing, validation, the handler and the
storage append/read), so the figure is repeatable on a loaded machine. Each operation runs twice:
with the ordinary body (fast path) and with an extra unknown member, which AWS ignores but which
makes the fast path decline (generic path: nlohmann + model validation), so one binary shows both.

Usage: bench/callgrind.py [--build-dir build/dev] [--requests 2000]
Loopback only; stops only the kinesd it started (by PID).
"""
import argparse
import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(conn, op, body):
    conn.request("POST", "/", json.dumps(body), {"X-Amz-Target": f"Kinesis_20131202.{op}",
                                                 "Content-Type": "application/x-amz-json-1.1"})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"{op}: {resp.status} {data[:200]!r}")
    return json.loads(data) if data else {}


def measure(kinesd, op, generic, n, work):
    port = free_port()
    out = os.path.join(work, f"cg.{op}.{'generic' if generic else 'fast'}")
    data_dir = tempfile.mkdtemp(dir=work)
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                             "--toggle-collect=kinesd::api::dispatch*", kinesd, "--host", "127.0.0.1",
                             "--port", str(port), "--data-dir", data_dir, "--log-level", "warn",
                             "--throttle", "off"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                call(conn, "ListStreams", {})
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("kinesd under valgrind did not start")
                time.sleep(0.2)
        extra = {"XUnknownMember": 1} if generic else {}
        call(conn, "CreateStream", {"StreamName": "cg", "ShardCount": 1})
        for _ in range(600):
            if call(conn, "DescribeStreamSummary", {"StreamName": "cg"})["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
                break
            time.sleep(0.1)
        payload = base64.b64encode(os.urandom(1024)).decode()
        if op == "GetRecords":
            batch = [{"PartitionKey": f"k{i}", "Data": payload} for i in range(500)]
            for _ in range(max(1, n // 500)):
                call(conn, "PutRecords", {"StreamName": "cg", "Records": batch})
            # The iterator too is set-up: its first HMAC loads OpenSSL's providers (~5.6 million
            # instructions, once per process), which would be counted against the records read.
            shard = call(conn, "ListShards", {"StreamName": "cg"})["Shards"][0]["ShardId"]
            it = call(conn, "GetShardIterator", {"StreamName": "cg", "ShardId": shard,
                                                 "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
        # Snapshot before the measured loop so setup is excluded.
        subprocess.run(["callgrind_control", "--zero", str(proc.pid)], capture_output=True, timeout=60)
        if op == "PutRecord":
            for i in range(n):
                call(conn, op, {"StreamName": "cg", "PartitionKey": f"k{i}", "Data": payload, **extra})
            units, unit = n, "request"
        elif op == "PutRecords":
            reqs = max(1, n // 100)
            batch = [{"PartitionKey": f"k{i}", "Data": payload} for i in range(500)]
            for _ in range(reqs):
                call(conn, op, {"StreamName": "cg", "Records": batch, **extra})
            units, unit = reqs * 500 * 1024, "payload byte"
        else:
            got = 0
            while True:
                r = call(conn, op, {"ShardIterator": it, "Limit": 10000, **extra})
                got += len(r["Records"])
                it = r["NextShardIterator"]
                if not r["Records"]:
                    break
            units, unit = got * 1024, "payload byte"
        subprocess.run(["callgrind_control", "--dump", str(proc.pid)], capture_output=True, timeout=60)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # The dump after --zero holds only the measured loop; take the largest "summary:" of the dumps.
    best = 0
    for name in os.listdir(work):
        if name.startswith(os.path.basename(out)):
            with open(os.path.join(work, name)) as f:
                for line in f:
                    m = re.match(r"(summary|totals): (\d+)", line)
                    if m:
                        best = max(best, int(m.group(2)))
    return best / units, unit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "dev"))
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()
    kinesd = os.path.join(args.build_dir, "kinesd")
    with tempfile.TemporaryDirectory(prefix="kinesd-callgrind-") as work:
        for op in ("PutRecord", "PutRecords", "GetRecords"):
            for generic in (False, True):
                ir, unit = measure(kinesd, op, generic, args.requests, work)
                path = "generic" if generic else "fast"
                print(f"callgrind.{op}.{path} {ir:.4g} instructions/{unit}".replace("/payload byte", "/byte"),
                      flush=True)


if __name__ == "__main__":
    sys.exit(main())
