"""HTTP/2 as the AWS SDKs use it: the AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis, from
npm into js/node_modules) with its default HTTP/2 handler over http:// (h2c, prior knowledge)
and https:// (ALPN h2), and with its HTTP/1.1 handler; 1000 concurrent calls on one HTTP/2
connection; a 10 MiB record. Raw probes (Node's http2 client, curl) check that errors look the
same on both HTTP versions, the h2c Upgrade, body limits, idle GOAWAY and GOAWAY on shutdown.

The JS tests are skipped, saying so, only when node or npm is not installed."""
import json
import select
import shutil
import signal
import socket
import subprocess
import time
import unittest

from kinesd_harness import (
    JS_DIR,
    KinesdServer,
    KinesdTestCase,
    ensure_js_sdk,
    https_endpoint,
    run_node,
    sign_request,
    tls_ca_file,
    unique_name,
)

def last_json_line(stdout):
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


class JsSdk(KinesdTestCase):
    # Throttling off: the 10 MiB record and the 1000-call burst exceed one shard's 1 MiB/s.
    server_args = ("--tls", "on", "--throttle", "off")

    def node(self, *args, env=None, timeout=300):
        code, out, err = run_node("kinesis_flow.js", *args, env=env, timeout=timeout)
        self.assertEqual(code, 0, f"node kinesis_flow.js {' '.join(map(str, args))} failed:\n{err[-4000:]}")
        return last_json_line(out)

    def check_core(self, out, protocol):
        self.assertEqual(out["handlerProtocol"], protocol)
        self.assertEqual(out["failed"], 0)
        self.assertEqual(out["data"], ["hello h2", "record 1", "record 2", "record 3"])
        self.assertEqual(out["sequences"][0], out["firstSequence"])
        self.assertEqual(out["sequences"], sorted(out["sequences"], key=int))
        error = out["error"]
        self.assertEqual(error["name"], "ResourceNotFoundException")
        self.assertEqual(error["status"], 400)
        self.assertRegex(error["message"], r"^Stream js-[0-9a-f]+-missing under account 000000000000 not found\.$")

    def test_core_path_with_the_default_handler_over_h2c(self):
        self.check_core(self.node("core-default", self.server.endpoint), "h2")

    def test_core_path_with_the_default_handler_over_https(self):
        out = self.node("core-default", https_endpoint(self.server),
                        env={"NODE_EXTRA_CA_CERTS": tls_ca_file(self.server)})
        self.check_core(out, "h2")

    def test_core_path_with_the_http1_handler(self):
        self.check_core(self.node("core-http1", self.server.endpoint), "http/1.1")

    def test_1000_concurrent_calls_on_one_http2_connection(self):
        out = self.node("concurrent", self.server.endpoint, 1000)
        self.assertEqual(out["failed"], 0, out["failures"])
        self.assertEqual(out["sessions"], 1)
        self.assertEqual(out["stored"], 1000)

    def test_1000_concurrent_calls_on_one_https_connection(self):
        out = self.node("concurrent", https_endpoint(self.server), 1000,
                        env={"NODE_EXTRA_CA_CERTS": tls_ca_file(self.server)})
        self.assertEqual(out["failed"], 0, out["failures"])
        self.assertEqual(out["sessions"], 1)
        self.assertEqual(out["stored"], 1000)

    def test_a_10_mib_record_in_and_out_over_http2(self):
        out = self.node("large", self.server.endpoint)
        self.assertEqual(out, {"records": 1, "bytes": 10 * 1024 * 1024 - 16, "equal": True})


def curl_has_http2():
    curl = shutil.which("curl")
    if not curl:
        return False
    out = subprocess.run([curl, "--version"], capture_output=True, text=True, timeout=30)
    return "HTTP2" in out.stdout


class SameOnBothVersions(KinesdTestCase):
    server_args = ("--max-request-bytes", "4096")

    def test_errors_are_identical_on_http1_and_http2(self):
        http1 = self.server.raw("NoSuchOperation", {})
        code, out, err = run_node("h2_probe.js", "same", self.server.endpoint)
        self.assertEqual(code, 0, err)
        h2 = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(h2["status"], http1.status)
        self.assertEqual(json.loads(h2["body"]), http1.json())
        for header in ("content-type", "x-amzn-errortype", "server"):
            self.assertEqual(h2["headers"][header], http1.headers[header], header)
        self.assertRegex(h2["headers"]["x-amzn-requestid"], r"^[0-9a-f-]{36}$")

    def test_a_body_over_the_limit_is_refused_and_the_connection_lives_on(self):
        code, out, err = run_node("h2_probe.js", "oversize", self.server.endpoint, 100000)
        self.assertEqual(code, 0, err)
        result = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(result["status"], 400)
        self.assertEqual(json.loads(result["body"]), {
            "__type": "SerializationException",
            "Message": "Request body is larger than the limit of 4096 bytes."})
        self.assertEqual(result["again"], 200)

    @unittest.skipUnless(curl_has_http2(), "curl without HTTP/2")
    def test_h2c_upgrade_from_http1(self):
        body = b"{}"
        headers = sign_request(self.server.endpoint, body, {
            "X-Amz-Target": "Kinesis_20131202.ListStreams",
            "Content-Type": "application/x-amz-json-1.1"})
        cmd = ["curl", "-sS", "-i", "--http2", "--max-time", "30", "--data-binary", "{}"]
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
        out = subprocess.run(cmd + [self.server.endpoint + "/"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("HTTP/1.1 101 Switching Protocols", out.stdout)
        self.assertIn("HTTP/2 200", out.stdout)
        self.assertIn('"StreamNames"', out.stdout)

    @unittest.skipUnless(curl_has_http2(), "curl without HTTP/2")
    def test_prior_knowledge_with_curl(self):
        out = subprocess.run(
            ["curl", "-sS", "-i", "--http2-prior-knowledge", "--max-time", "30",
             "-H", "X-Amz-Target: Kinesis_20131202.ListStreams", "--data-binary", "{}",
             self.server.endpoint + "/"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.startswith("HTTP/2 200"), out.stdout[:300])


class IdleConnections(KinesdTestCase):
    server_args = ("--idle-timeout-ms", "300")

    def test_an_idle_http2_connection_gets_goaway(self):
        code, out, err = run_node("h2_probe.js", "goaway", self.server.endpoint, timeout=60)
        self.assertEqual(code, 0, err)
        result = last_json_line(out)
        self.assertEqual(result["goaway"], 0)  # NO_ERROR
        self.assertTrue(result["streamOk"])
        self.assertGreaterEqual(result["afterMs"], 200)
        # --idle-timeout-ms (300 ms), not the 30 s read timeout of a request still arriving.
        self.assertLess(result["afterMs"], 10_000)

    def test_an_idle_http1_connection_is_closed(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            started = time.monotonic()
            self.assertEqual(s.recv(1), b"")  # closed by the server, not by our timeout
            self.assertLess(time.monotonic() - started, 8)


class MaxConnections(KinesdTestCase):
    server_args = ("--max-connections", "3")

    def test_connections_over_the_limit_are_closed_at_once(self):
        held = [socket.create_connection(("127.0.0.1", self.server.port), timeout=10) for _ in range(3)]
        try:
            time.sleep(0.2)  # let the server accept them (bounded; the assertion below polls)
            extra = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
            with extra:
                readable, _, _ = select.select([extra], [], [], 5)
                self.assertTrue(readable, "the extra connection was left open")
                try:
                    self.assertEqual(extra.recv(1), b"")
                except ConnectionResetError:
                    pass
        finally:
            for s in held:
                s.close()
        # Once they are gone, requests are served again.
        deadline = time.monotonic() + 10
        while True:
            try:
                self.assertEqual(self.server.raw("ListStreams", {}).status, 200)
                break
            except (ConnectionError, OSError, AssertionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


class Shutdown(unittest.TestCase):
    def test_sigterm_sends_goaway_and_exits_zero(self):
        node = ensure_js_sdk()
        server = KinesdServer()
        try:
            server.start()
            proc = subprocess.Popen(
                [node, "h2_probe.js", "goaway", server.endpoint], cwd=JS_DIR,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                line = proc.stdout.readline()
                self.assertEqual(line.strip(), "ready", proc.stderr.read() if not line else line)
                server.proc.send_signal(signal.SIGTERM)
                self.assertEqual(server.proc.wait(timeout=15), 0)
                out, err = proc.communicate(timeout=15)
                self.assertEqual(proc.returncode, 0, err)
                result = json.loads(out.strip().splitlines()[-1])
                self.assertEqual(result["goaway"], 0)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
        finally:
            server.close()


def admin(server, method, path, body=None):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


class DrainOnShutdown(unittest.TestCase):
    @unittest.skipUnless(curl_has_http2(), "curl without HTTP/2")
    def test_requests_in_flight_on_both_versions_are_answered_before_exit(self):
        import threading

        server = KinesdServer("--admin", "on")
        try:
            server.start()
            kinesis = server.client(max_attempts=1)
            name = unique_name("drain")
            kinesis.create_stream(StreamName=name, ShardCount=1)
            kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 150})
            # Every PutRecord waits 2 s in the server: long enough to be in flight at SIGTERM.
            status, _ = admin(server, "POST", "/_kinesd/faults",
                              {"operation": "PutRecord", "latencyMs": 2000, "rate": 1})
            self.assertEqual(status, 200)
            answers = {}

            def http1():
                try:
                    answers["http1"] = kinesis.put_record(StreamName=name, PartitionKey="a", Data=b"1")
                except Exception as e:  # reported by the assertion below
                    answers["http1"] = e

            thread = threading.Thread(target=http1, daemon=True)
            thread.start()
            body = json.dumps({"StreamName": name, "PartitionKey": "b", "Data": "Mg=="})
            curl = subprocess.Popen(
                ["curl", "-sS", "--http2-prior-knowledge", "--max-time", "30",
                 "-H", "X-Amz-Target: Kinesis_20131202.PutRecord",
                 "-H", "Content-Type: application/x-amz-json-1.1", "--data-binary", body,
                 server.endpoint + "/"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # Both requests have reached the fault (and so the handler) before the signal.
            deadline = time.monotonic() + 10
            while admin(server, "GET", "/_kinesd/faults")[1]["faults"][0]["fired"] < 2:
                self.assertLess(time.monotonic(), deadline, "the requests did not arrive")
                time.sleep(0.02)  # polling, bounded by the deadline
            server.proc.send_signal(signal.SIGTERM)
            self.assertEqual(server.proc.wait(timeout=15), 0)
            out, err = curl.communicate(timeout=30)
            thread.join(timeout=30)
            self.assertEqual(curl.returncode, 0, err)
            self.assertIn("SequenceNumber", json.loads(out))
            self.assertIn("SequenceNumber", answers.get("http1"), answers)
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()
