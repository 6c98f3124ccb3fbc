"""Logs as operators see them: --log-format json writes one JSON object per line, the per-request
debug line carries operation, stream, status, latency and request id, and payloads never appear."""
import base64
import json
import unittest

from kinesd_harness import KinesdServer, unique_name


class JsonRequestLog(unittest.TestCase):
    def test_json_lines_with_one_structured_line_per_request_and_no_payloads(self):
        server = KinesdServer("--log-format", "json", log_level="debug")
        self.addCleanup(server.close)
        server.start()
        kinesis = server.client()
        name = unique_name()
        kinesis.create_stream(StreamName=name, ShardCount=1)
        kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 150})
        secret = b"SECRET-PAYLOAD-7f3a9c"
        resp = kinesis.put_record(StreamName=name, PartitionKey="pk", Data=secret)
        request_id = resp["ResponseMetadata"]["RequestId"]
        missing = server.client(max_attempts=1)
        with self.assertRaises(missing.exceptions.ResourceNotFoundException):
            missing.describe_stream_summary(StreamName=name + "-missing")
        server.stop()

        lines = [l for l in server.stderr_text(limit=10**7).splitlines() if l.strip()]
        self.assertTrue(lines)
        entries = [json.loads(l) for l in lines]  # every line is one JSON object
        for e in entries:
            self.assertEqual({"time", "level", "logger", "message"} - set(e), set(), e)
        requests = [e for e in entries if e["logger"] == "request"]
        put = [e for e in requests if e.get("request_id") == request_id]
        self.assertEqual(len(put), 1, requests)
        self.assertEqual(put[0]["operation"], "PutRecord")
        self.assertEqual(put[0]["stream"], name)
        self.assertEqual(put[0]["status"], 200)
        self.assertEqual(put[0]["level"], "debug")
        self.assertIsInstance(put[0]["latency_ms"], (int, float))
        failed = [e for e in requests if e.get("operation") == "DescribeStreamSummary"]
        self.assertEqual(len(failed), 1, requests)
        self.assertEqual(failed[0]["status"], 400)
        self.assertEqual(failed[0]["error"], "ResourceNotFoundException")
        self.assertEqual(failed[0]["stream"], name + "-missing")
        text = "\n".join(lines)
        self.assertNotIn(secret.decode(), text)
        self.assertNotIn(base64.b64encode(secret).decode(), text)

    def test_at_info_no_request_lines(self):
        server = KinesdServer("--log-format", "json", log_level="info")
        self.addCleanup(server.close)
        server.start()
        server.client().list_streams()
        server.stop()
        entries = [json.loads(l) for l in server.stderr_text().splitlines() if l.strip()]
        self.assertTrue(any(e["logger"] == "main" for e in entries))
        self.assertFalse(any(e["logger"] == "request" for e in entries))


if __name__ == "__main__":
    unittest.main()
