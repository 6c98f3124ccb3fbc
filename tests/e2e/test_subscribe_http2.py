"""SubscribeToShard over HTTP/2 with the AWS SDK for JavaScript v3 (its default handler, h2c):
records put after subscribing are pushed in order, each soon after its PutRecord (the server
wakes on append instead of polling); closing the event stream leaves the connection usable;
stopping the server ends a subscription at once and the process exits.

Skipped, saying so, only when node or npm is not installed."""
import json
import signal
import subprocess
import time
import unittest

from kinesd_harness import (
    JS_DIR,
    KinesdServer,
    KinesdTestCase,
    ensure_js_sdk,
    run_node,
    stream_arn,
    unique_name,
)


def last_json_line(stdout):
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def active_consumer(kinesis, name, consumer="js-app"):
    arn = kinesis.register_stream_consumer(StreamARN=stream_arn(name), ConsumerName=consumer)[
        "Consumer"]["ConsumerARN"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        desc = kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]
        if desc["ConsumerStatus"] == "ACTIVE":
            return arn
        time.sleep(0.1)
    raise AssertionError("consumer did not become ACTIVE")


class SubscribeOverHttp2(KinesdTestCase):
    def test_put_records_are_pushed_in_order_over_http2(self):
        name = self.create_stream()
        arn = active_consumer(self.kinesis, name)
        code, out, err = run_node("subscribe_flow.js", "flow", self.server.endpoint, name, arn, 20,
                                  timeout=240)
        self.assertEqual(code, 0, err[-4000:])
        result = last_json_line(out)
        self.assertEqual(result["got"], result["puts"])  # each once, in order
        self.assertEqual(result["data"], [f"event {i}" for i in range(20)])
        self.assertEqual(result["after"], "ACTIVE")
        # Pushed on append, not at the next 5 s heartbeat (bounded loosely: a loaded machine).
        self.assertLess(result["maxLatencyMs"], 4000)


class SubscriptionOnShutdown(unittest.TestCase):
    def test_sigterm_ends_an_http2_subscription_and_exits_zero(self):
        node = ensure_js_sdk()
        server = KinesdServer()
        try:
            server.start()
            kinesis = server.client(max_attempts=1)
            name = unique_name("substop")
            kinesis.create_stream(StreamName=name, ShardCount=1)
            kinesis.get_waiter("stream_exists").wait(
                StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 150})
            arn = active_consumer(kinesis, name)
            proc = subprocess.Popen(
                [node, "subscribe_flow.js", "until-end", server.endpoint, arn], cwd=JS_DIR,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                line = proc.stdout.readline()
                self.assertEqual(line.strip(), "subscribed", proc.stderr.read() if not line else line)
                started = time.monotonic()
                server.proc.send_signal(signal.SIGTERM)
                self.assertEqual(server.proc.wait(timeout=15), 0)
                # Promptly: not after the drain timeout, nor the subscription's 5 minutes.
                self.assertLess(time.monotonic() - started, 4)
                out, err = proc.communicate(timeout=15)
                self.assertEqual(proc.returncode, 0, err)
                self.assertTrue(json.loads(out.strip().splitlines()[-1])["ended"])
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()
