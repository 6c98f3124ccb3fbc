"""Health, readiness and GET /metrics: the endpoints answer without credentials, /metrics parses
as Prometheus text, and its counters move by exactly what known puts and gets did."""
import unittest

import prometheus_text
from kinesd_harness import DEFAULT_REGION, KinesdTestCase, http_get, unique_name


class HealthAndReady(KinesdTestCase):
    def test_health_and_ready_answer_without_credentials_or_admin(self):
        for path in ("/_kinesd/health", "/_kinesd/ready"):
            resp = http_get(self.server.port, path)
            self.assertEqual(resp.status, 200, resp)
            self.assertEqual(resp.json(), {"status": "ok"})
            self.assertTrue(resp.headers["content-type"].startswith("application/json"))

    def test_kinesis_api_still_answers_next_to_them(self):
        # The operational paths are GETs; the Kinesis API is POST / and unaffected.
        self.assertIn("StreamNames", self.kinesis.list_streams())
        resp = self.server.raw("ListStreams", {})
        self.assertEqual(resp.status, 200, resp)


class Metrics(KinesdTestCase):
    def scrape(self):
        resp = http_get(self.server.port, "/metrics")
        self.assertEqual(resp.status, 200, resp)
        self.assertTrue(resp.headers["content-type"].startswith("text/plain; version=0.0.4"), resp.headers)
        return prometheus_text.parse(resp.body.decode("utf-8"))

    def stream_value(self, families, family, name):
        return families[family].value(region=DEFAULT_REGION, stream=name)

    def requests(self, families, operation, code):
        return families["kinesd_requests_total"].get(operation=operation, code=code)

    def test_every_documented_family_is_there_with_its_type(self):
        families = self.scrape()
        expected = {
            "kinesd_incoming_records_total": "counter",
            "kinesd_incoming_bytes_total": "counter",
            "kinesd_outgoing_records_total": "counter",
            "kinesd_outgoing_bytes_total": "counter",
            "kinesd_write_provisioned_throughput_exceeded_total": "counter",
            "kinesd_read_provisioned_throughput_exceeded_total": "counter",
            "kinesd_iterator_age_milliseconds": "gauge",
            "kinesd_requests_total": "counter",
            "kinesd_request_duration_seconds": "histogram",
            "kinesd_open_connections": "gauge",
            "kinesd_stream_disk_bytes": "gauge",
            "kinesd_ready": "gauge",
            "kinesd_storage_quarantined_segments_total": "counter",
            "kinesd_storage_append_failures_total": "counter",
            "kinesd_storage_fsync_failures_total": "counter",
            "kinesd_storage_fsync_rounds_total": "counter",
            "kinesd_storage_fsync_waits_total": "counter",
            "kinesd_storage_file_system_syncs_total": "counter",
            "kinesd_storage_journal_writes_total": "counter",
            "kinesd_storage_journal_checkpoints_total": "counter",
        }
        for name, type_ in expected.items():
            self.assertIn(name, families)
            self.assertEqual(families[name].type, type_, name)
            self.assertTrue(families[name].help, name)
        self.assertEqual(families["kinesd_ready"].value(), 1)
        # This scrape's own connection is open while it is answered.
        self.assertGreaterEqual(families["kinesd_open_connections"].value(), 1)

    def test_counters_move_by_what_puts_and_gets_did(self):
        name = self.create_stream(shards=2)
        before = self.scrape()
        self.assertEqual(self.stream_value(before, "kinesd_incoming_records_total", name), 0)
        put_calls_before = self.requests(before, "PutRecord", "200")
        puts_calls_before = self.requests(before, "PutRecords", "200")
        get_calls_before = self.requests(before, "GetRecords", "200")
        hist_before = before["kinesd_request_duration_seconds"].get(suffix="_count", operation="PutRecord")

        payloads = [b"x" * n for n in (1, 10, 100, 1000, 0)]
        for i, data in enumerate(payloads):
            self.kinesis.put_record(StreamName=name, PartitionKey=f"pk-{i}", Data=data)
        batch = [{"PartitionKey": f"b-{i}", "Data": bytes([i]) * (i * 7)} for i in range(20)]
        resp = self.kinesis.put_records(StreamName=name, Records=batch)
        self.assertEqual(resp["FailedRecordCount"], 0)
        put_bytes = sum(len(p) for p in payloads) + sum(len(e["Data"]) for e in batch)
        put_records = len(payloads) + len(batch)

        after_put = self.scrape()
        self.assertEqual(self.stream_value(after_put, "kinesd_incoming_records_total", name), put_records)
        self.assertEqual(self.stream_value(after_put, "kinesd_incoming_bytes_total", name), put_bytes)
        self.assertEqual(self.requests(after_put, "PutRecord", "200") - put_calls_before, len(payloads))
        self.assertEqual(self.requests(after_put, "PutRecords", "200") - puts_calls_before, 1)
        self.assertEqual(
            after_put["kinesd_request_duration_seconds"].get(suffix="_count", operation="PutRecord")
            - hist_before, len(payloads))
        self.assertGreater(self.stream_value(after_put, "kinesd_stream_disk_bytes", name), put_bytes)
        self.assertEqual(self.stream_value(after_put, "kinesd_stream_open_shards", name), 2)

        read = self.read_stream(name)
        got = [r for records in read.values() for r in records]
        self.assertEqual(len(got), put_records)
        after_get = self.scrape()
        self.assertEqual(self.stream_value(after_get, "kinesd_outgoing_records_total", name), put_records)
        self.assertEqual(self.stream_value(after_get, "kinesd_outgoing_bytes_total", name), put_bytes)
        # read_stream ends each shard with an empty answer: the consumers are caught up.
        self.assertEqual(self.stream_value(after_get, "kinesd_iterator_age_milliseconds", name), 0)
        self.assertGreaterEqual(self.requests(after_get, "GetRecords", "200") - get_calls_before, 4)
        # Nothing was written by the reads.
        self.assertEqual(self.stream_value(after_get, "kinesd_incoming_records_total", name), put_records)
        self.assertEqual(self.stream_value(after_get, "kinesd_write_provisioned_throughput_exceeded_total", name), 0)

    def test_errors_are_counted_by_status_and_unknown_operations_add_no_labels(self):
        before = self.scrape()
        missing = unique_name("missing")
        with self.assertAwsError("ResourceNotFoundException"):
            self.server.client(max_attempts=1).describe_stream_summary(StreamName=missing)
        for target in ("NoSuchOperation", "Evil\"Label"):
            resp = self.server.raw(target, {})
            self.assertEqual(resp.status, 400, resp)
        after = self.scrape()
        self.assertEqual(self.requests(after, "DescribeStreamSummary", "400")
                         - self.requests(before, "DescribeStreamSummary", "400"), 1)
        self.assertEqual(self.requests(after, "unknown", "400") - self.requests(before, "unknown", "400"), 2)
        operations = {labels["operation"] for labels, _ in after["kinesd_requests_total"].series()}
        self.assertNotIn("NoSuchOperation", operations)
        self.assertNotIn('Evil"Label', operations)

    def test_deleted_streams_leave_the_exposition(self):
        name = self.create_stream(shards=1)
        self.assertIn(name, {l["stream"] for l, _ in self.scrape()["kinesd_incoming_records_total"].series()})
        self.delete_stream(name)
        self.assertNotIn(name, {l["stream"] for l, _ in self.scrape()["kinesd_incoming_records_total"].series()})

    def test_enhanced_monitoring_gives_per_shard_series(self):
        name = self.create_stream(shards=2)
        self.kinesis.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingRecords"])
        self.wait_active(name)
        shards = [s["ShardId"] for s in self.shards(name)]
        for i in range(3):  # all to the first shard
            self.kinesis.put_record(StreamName=name, PartitionKey="k", ExplicitHashKey="0", Data=b"x")
        families = self.scrape()
        incoming = families["kinesd_incoming_records_total"]
        self.assertEqual(incoming.value(region=DEFAULT_REGION, stream=name, shard=shards[0]), 3)
        self.assertEqual(incoming.value(region=DEFAULT_REGION, stream=name, shard=shards[1]), 0)
        self.assertIsNone(incoming.get(None, region=DEFAULT_REGION, stream=name))
        # Metrics not enabled stay per stream.
        self.assertEqual(families["kinesd_incoming_bytes_total"].value(region=DEFAULT_REGION, stream=name), 3)

    def test_other_paths_and_methods_are_not_metrics(self):
        self.assertEqual(http_get(self.server.port, "/metrics?name[]=x").status, 200)
        self.assertEqual(http_get(self.server.port, "/metricsx").status, 400)  # the Kinesis API: POST only


class ThrottleMetrics(KinesdTestCase):
    # Small limits so that one request is enough to exceed them.
    server_args = ("--throttle", "on", "--shard-write-records-per-sec", "10", "--shard-read-calls-per-sec", "1")

    def scrape(self):
        return prometheus_text.parse(http_get(self.server.port, "/metrics").body.decode("utf-8"))

    def test_refusals_are_counted_per_stream(self):
        name = self.create_stream(shards=1)
        client = self.server.client(max_attempts=1)
        resp = client.put_records(StreamName=name,
                                  Records=[{"PartitionKey": "k", "Data": b"x"} for _ in range(30)])
        refused = resp["FailedRecordCount"]
        self.assertGreater(refused, 0)
        families = self.scrape()
        self.assertEqual(families["kinesd_write_provisioned_throughput_exceeded_total"].value(
            region=DEFAULT_REGION, stream=name), refused)
        self.assertEqual(families["kinesd_incoming_records_total"].value(region=DEFAULT_REGION, stream=name),
                         30 - refused)

        shard = self.shards(name)[0]["ShardId"]
        iterator = client.get_shard_iterator(StreamName=name, ShardId=shard,
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        throttled = 0
        # Raw requests: boto3 retries throttled GetRecords calls by itself. 1 call/s allowed, so
        # back-to-back calls are soon refused.
        for _ in range(20):
            resp = self.server.raw("GetRecords", {"ShardIterator": iterator, "Limit": 1})
            if resp.status == 400:
                self.assertEqual(resp.json()["__type"], "ProvisionedThroughputExceededException")
                throttled += 1
                if throttled == 2:
                    break
            else:
                self.assertEqual(resp.status, 200, resp)
        self.assertEqual(throttled, 2)
        self.assertEqual(self.scrape()["kinesd_read_provisioned_throughput_exceeded_total"].value(
            region=DEFAULT_REGION, stream=name), throttled)
        self.assertIn("throughput exceeded on stream " + name, self.server.stderr_text())


if __name__ == "__main__":
    unittest.main()
