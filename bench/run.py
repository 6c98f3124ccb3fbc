#!/usr/bin/env python3
"""Runs every benchmark scenario against kinesd (and, with --kinesalite, against kinesalite in the
same run) and prints one line per figure: "<target>.<scenario> <value> <unit>".

Usage: bench/run.py [--build-dir build/bench] [--kinesalite] [--kinesalite-dir DIR] [--quick]
                    [--fill-mib 1024] [--kinesalite-fill-mib 64]

Everything listens on 127.0.0.1 only, every server is stopped by its PID, and every loop is
bounded. kinesd runs with --throttle off (the scenarios measure the server, not AWS's limits).
kinesalite (npm package, installed into a temp folder) is measured with the same load generator.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def list_streams_answered(port):
    """True once the server at `port` answers ListStreams with 200. Sent from this process (not
    by spawning kinesd-bench) so the startup figure holds no process start of the client."""
    body = b"{}"
    req = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
           b"X-Amz-Target: Kinesis_20131202.ListStreams\r\nConnection: close\r\n"
           b"Authorization: AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/kinesis/aws4_request, "
           b"SignedHeaders=host, Signature=0\r\nX-Amz-Date: 20260101T000000Z\r\n"
           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as c:
            c.sendall(req)
            head = c.recv(64)
            return head.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def rss_kib(pid):
    """(VmRSS, RssAnon) of a process in KiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                fields[key] = int(value.split()[0])
    return fields.get("VmRSS", 0), fields.get("RssAnon", 0)


class Target:
    def __init__(self, name, bench, argv, env=None):
        self.name, self.bench, self.argv, self.env = name, bench, argv, env
        self.proc = None
        self.port = None

    def start(self, extra=()):
        self.port = free_port()
        argv = [a.replace("{port}", str(self.port)) for a in self.argv] + list(extra)
        started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=self.env)
        deadline = started + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
            if list_streams_answered(self.port):
                return (time.monotonic() - started) * 1000.0
            time.sleep(0.001)  # polling a starting server: the startup figure is what we measure
        raise RuntimeError(f"{self.name} did not answer within 60 s")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def call(self, *args, check=True, label=None):
        argv = [self.bench, "--endpoint", f"http://127.0.0.1:{self.port}", *args]
        if label:
            argv += ["--label", f"{self.name}.{label}"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        if check and out.returncode != 0:
            sys.stderr.write(out.stderr)
        if label:
            sys.stdout.write(out.stdout)
            # The machine may be shared: the 1-minute load average after each scenario.
            print(f"{self.name}.{label}.loadavg {load_average():.2f} load", flush=True)
        return out

    def emit(self, scenario, value, unit):
        print(f"{self.name}.{scenario} {value:.6g} {unit}", flush=True)


def run_scenarios(t, quick, fill_mib, durable, probe_dir=None):
    try:
        scenarios(t, quick, fill_mib, durable, probe_dir)
    finally:
        t.stop()  # also when a scenario failed: never leave a server running


def page_cache_probe(directory, seconds):
    """MiB/s of one writer appending 500 KiB blocks (a PutRecords batch of 500 x 1 KiB) to one
    new file in `directory`, without fsync, for `seconds`: what the page cache takes on this
    machine at this moment. PutRecords on one shard writes its log the same way, so its figure
    moves with this one. On the benchmark VM it moves with the hour (a C probe of the same shape
    gave 435 to 2,585 MiB/s on one day)."""
    path = os.path.join(directory, "page-cache-probe")
    block = os.urandom(500 * 1024)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    written = 0
    try:
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            written += os.pwrite(fd, block, written)
        elapsed = time.monotonic() - start
    finally:
        os.close(fd)
        os.unlink(path)
    return written / elapsed / (1 << 20)


def scenarios(t, quick, fill_mib, durable, probe_dir):
    secs = "2" if quick else "5"
    t.emit("startup_empty", t.start(), "ms")
    vm, anon = rss_kib(t.proc.pid)
    t.emit("rss_idle", vm / 1024, "MiB")
    t.call("create-stream", "--stream", "s16", "--shards", "16")
    t.call("create-stream", "--stream", "s1", "--shards", "1")
    t.call("put-record", "--stream", "s16", "--connections", "32", "--seconds", secs, label="put_record.c32.s16")
    t.call("put-record", "--stream", "s1", "--connections", "32", "--seconds", secs, label="put_record.c32.s1")
    t.call("put-record", "--stream", "s16", "--connections", "1", "--seconds", secs, label="put_record.c1.s16")
    t.call("put-record", "--stream", "s1", "--connections", "1", "--seconds", secs, label="put_record.c1.s1")
    t.call("create-stream", "--stream", "drain", "--shards", "1")
    if probe_dir:  # the page cache's speed right before PutRecords, to read its figure against
        print(f"disk.page_cache_probe {page_cache_probe(probe_dir, float(secs)):.6g} MiB/s", flush=True)
    t.call("put-records", "--stream", "drain", "--connections", "4", "--seconds", secs, label="put_records.c4")
    # Twice: the first drain after start also pays for the first touch of the memory its
    # answers are built in (perf stat on the benchmark VM: 14,000 page faults and 440 ms of
    # server CPU for the first drain, ~80 ms for later ones); the second is the steady state
    # of a server that has answered GetRecords before.
    t.call("get-records", "--stream", "drain", "--records", "100000", label="get_records.first")
    t.call("get-records", "--stream", "drain", "--records", "100000", label="get_records")
    t.call("create-stream", "--stream", "lat", "--shards", "1")
    t.call("put-to-get", "--stream", "lat", "--seconds", secs, "--rate", "500", label="put_to_get")
    # SubscribeToShard (enhanced fan-out) over HTTP/1.1; kinesalite has no consumers: no figure.
    t.call("put-to-push", "--stream", "lat", "--seconds", secs, "--rate", "500", label="put_to_push",
           check=False)
    if fill_mib:
        records = fill_mib * 1024  # 1 KiB records
        t.call("create-stream", "--stream", "big", "--shards", "4")
        t.call("fill", "--stream", "big", "--connections", "4", "--records", str(records), label="fill")
        vm, anon = rss_kib(t.proc.pid)
        t.emit("rss_after_fill", vm / 1024, "MiB")
        t.emit("anon_after_fill", anon / 1024, "MiB")
        if durable:
            t.stop(signal.SIGKILL)
            t.emit("recovery_after_kill", t.start(), "ms")
            vm, anon = rss_kib(t.proc.pid)
            t.emit("anon_after_recovery", anon / 1024, "MiB")
            t.stop()
            t.emit("startup_with_data", t.start(), "ms")
    t.stop()


def fsync_probe(probe, quick, work):
    # The same shapes without a server (bench/fsync_probe.cpp): what group commit gets from this
    # disk, to read the --fsync always figures against. `shared`: one round at a time for every
    # file, one syncfs when several are dirty (kinesd's commit pipeline); `per-file`: a round
    # thread per file (kinesd before the pipeline).
    seconds = "2" if quick else "5"
    for files, producers, mode in ((16, 2, "shared"), (16, 2, "per-file"), (4, 8, "shared"),
                                   (1, 32, "shared")):
        label = f"disk.fsync_probe.{mode}.f{files}p{producers}"
        try:
            out = subprocess.run([probe, work, str(files), str(producers), seconds, label, mode],
                                 capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:  # a reference figure: the run goes on without it
            sys.stderr.write(f"{label}: no answer within 120 s (killed)\n")
            continue
        sys.stdout.write(out.stdout)
        sys.stdout.flush()


def fsync_scenario(t, quick, data):
    # 32 producers on 16, 4 and 1 shards: the commit pipeline runs one fsync round at a time for
    # every shard log (docs/durability.md), so the figures should not depend on the shard count.
    for shards in (16, 4, 1):
        shutil.rmtree(data, ignore_errors=True)
        t.start(["--fsync", "always"])
        try:
            t.call("create-stream", "--stream", "sync", "--shards", str(shards))
            t.call("put-record", "--stream", "sync", "--connections", "32", "--seconds", "2" if quick else "5",
                   label=f"fsync_always.put_record.c32.s{shards}")
        finally:
            t.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--kinesalite", action="store_true", help="also measure kinesalite 3.3.3 (npm)")
    ap.add_argument("--quick", action="store_true", help="shorter runs")
    ap.add_argument("--kinesalite-dir", help="a folder where `npm install kinesalite@3.3.3` already ran")
    ap.add_argument("--fill-mib", type=int, default=1024, help="data for the memory/recovery figures (0: skip)")
    ap.add_argument("--kinesalite-fill-mib", type=int, default=64,
                    help="kinesalite keeps everything in the heap of one node process: a smaller fill")
    ap.add_argument("--skip-kinesd", action="store_true", help="measure only kinesalite")
    args = ap.parse_args()

    bench = os.path.join(args.build_dir, "kinesd-bench")
    kinesd = os.path.join(args.build_dir, "kinesd")
    probe = os.path.join(args.build_dir, "fsync-probe")
    for path in (bench, kinesd, probe):
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: cmake -S . -B {args.build_dir} -DCMAKE_BUILD_TYPE=Release "
                     f"-DKINESD_BUILD_TESTS=OFF && cmake --build {args.build_dir}")
    work = tempfile.mkdtemp(prefix="kinesd-bench-")
    try:
        data = os.path.join(work, "kinesd-data")
        t = Target("kinesd", bench, [kinesd, "--host", "127.0.0.1", "--port", "{port}", "--data-dir", data,
                                     "--log-level", "warn", "--throttle", "off"])
        if not args.skip_kinesd:
            # The fsync figures first: after the fill's 1 GiB is deleted, a file system mounted
            # with `discard` (this VM's) flushes about 25% slower for a while (docs/benchmarks.md).
            fsync_scenario(t, args.quick, data)
            fsync_probe(probe, args.quick, work)
            shutil.rmtree(data, ignore_errors=True)
            run_scenarios(t, args.quick, args.fill_mib, durable=True, probe_dir=work)
            shutil.rmtree(data, ignore_errors=True)
        if args.kinesalite or args.kinesalite_dir:
            prefix = args.kinesalite_dir
            if not prefix:
                prefix = os.path.join(work, "kinesalite")
                subprocess.run(["npm", "install", "--prefix", prefix, "--no-audit", "--no-fund", "kinesalite@3.3.3"],
                               check=True, capture_output=True, timeout=600)
            cli = os.path.join(prefix, "node_modules", "kinesalite", "cli.js")
            k = Target("kinesalite", bench, ["node", cli, "--port", "{port}", "--createStreamMs", "0",
                                             "--deleteStreamMs", "0", "--shardLimit", "1000"])
            run_scenarios(k, args.quick, args.kinesalite_fill_mib, durable=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
