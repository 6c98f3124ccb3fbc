"""Settings of one stream: Start/StopStreamEncryption (with the UPDATING transition),
Enable/DisableEnhancedMonitoring, UpdateMaxRecordSize (PutRecord(s) and GetRecords honour it),
UpdateStreamWarmThroughput; each reflected in DescribeStream(Summary) and kept across restarts."""
import http.client
import json
import unittest

from kinesd_harness import ACCOUNT, KinesdTestCase, stream_arn, unique_name

ALL_METRICS = [
    "IncomingBytes", "OutgoingBytes", "IncomingRecords", "OutgoingRecords",
    "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
]


def advance_clock(server, seconds):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", "/_kinesd/clock", body=json.dumps({"advanceSeconds": seconds}))
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, resp.status
    finally:
        conn.close()


class Encryption(KinesdTestCase):
    def summary(self, name):
        return self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]

    def test_start_and_stop(self):
        name = self.create_stream()
        self.assertEqual(self.summary(name)["EncryptionType"], "NONE")
        self.kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        self.wait_active(name)
        desc = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual((desc["EncryptionType"], desc["KeyId"]), ("KMS", "alias/aws/kinesis"))
        summary = self.summary(name)
        self.assertEqual((summary["EncryptionType"], summary["KeyId"]), ("KMS", "alias/aws/kinesis"))
        # Records still flow; encryption is transparent to clients.
        ack = self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"secret")
        self.assertEqual([r["Data"] for r in self.read_shard(name, ack["ShardId"])], [b"secret"])

        self.kinesis.stop_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        self.wait_active(name)
        summary = self.summary(name)
        self.assertEqual(summary["EncryptionType"], "NONE")
        self.assertNotIn("KeyId", summary)

    def test_errors(self):
        name = self.create_stream()
        with self.assertAwsError("InvalidArgumentException"):
            self.kinesis.start_stream_encryption(StreamName=name, EncryptionType="NONE", KeyId="k")
        with self.assertAwsError("InvalidArgumentException", contains="not encrypted"):
            self.kinesis.stop_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="k")
        client = self.server.client(validate=False)
        with self.assertAwsError("ValidationException", contains="encryptionType"):
            client.start_stream_encryption(StreamName=name, EncryptionType="AES", KeyId="k")
        missing = unique_name("missing")
        with self.assertAwsError("ResourceNotFoundException", f"Stream {missing} under account {ACCOUNT} not found."):
            self.kinesis.start_stream_encryption(StreamName=missing, EncryptionType="KMS", KeyId="k")


class EncryptionUpdating(KinesdTestCase):
    server_args = ("--admin", "on", "--update-stream-ms", "600000")

    def test_stream_is_updating_then_active(self):
        name = self.create_stream()
        self.kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="k1")
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamStatus"], "UPDATING")
        # Records can be written while the stream is UPDATING, as on AWS.
        self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"x")
        with self.assertAwsError("ResourceInUseException",
                                 f"Stream {name} under account {ACCOUNT} not ACTIVE, instead in state UPDATING"):
            self.kinesis.stop_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="k1")
        advance_clock(self.server, 601)
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamStatus"], "ACTIVE")


class EnhancedMonitoring(KinesdTestCase):
    def test_enable_and_disable(self):
        name = self.create_stream()
        resp = self.kinesis.enable_enhanced_monitoring(
            StreamName=name, ShardLevelMetrics=["IncomingBytes", "OutgoingRecords"])
        self.assertEqual(resp["StreamName"], name)
        self.assertEqual(resp["StreamARN"], stream_arn(name))
        self.assertEqual(resp["CurrentShardLevelMetrics"], [])
        self.assertEqual(resp["DesiredShardLevelMetrics"], ["IncomingBytes", "OutgoingRecords"])

        resp = self.kinesis.enable_enhanced_monitoring(StreamARN=stream_arn(name), ShardLevelMetrics=["ALL"])
        self.assertEqual(resp["CurrentShardLevelMetrics"], ["IncomingBytes", "OutgoingRecords"])
        self.assertEqual(resp["DesiredShardLevelMetrics"], ALL_METRICS)
        desc = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual(desc["EnhancedMonitoring"], [{"ShardLevelMetrics": ALL_METRICS}])

        resp = self.kinesis.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingBytes"])
        self.assertEqual(resp["DesiredShardLevelMetrics"], ALL_METRICS[1:])
        resp = self.kinesis.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
        self.assertEqual(resp["DesiredShardLevelMetrics"], [])
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])

    def test_errors(self):
        name = self.create_stream()
        client = self.server.client(validate=False)
        with self.assertAwsError("ValidationException", contains="shardLevelMetrics"):
            client.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["Bogus"])
        with self.assertAwsError("ValidationException", contains="shardLevelMetrics"):
            client.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=[])
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.enable_enhanced_monitoring(StreamName=unique_name("missing"), ShardLevelMetrics=["ALL"])


class MaxRecordSize(KinesdTestCase):
    def test_raise_the_limit_and_round_trip_a_big_record(self):
        name = self.create_stream()
        client = self.server.client(max_attempts=1)
        big = bytes(range(256)) * (3 * 1024 * 4)  # 3 MiB
        with self.assertAwsError(("ValidationException", "InvalidArgumentException")):
            client.put_record(StreamName=name, PartitionKey="k", Data=big)

        self.kinesis.update_max_record_size(StreamARN=stream_arn(name), MaxRecordSizeInKiB=4096)
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["MaxRecordSizeInKiB"], 4096)
        ack = client.put_record(StreamName=name, PartitionKey="k", Data=big)
        resp = client.put_records(StreamName=name, Records=[{"PartitionKey": "k", "Data": big}])
        self.assertEqual(resp["FailedRecordCount"], 0)
        records = self.read_shard(name, ack["ShardId"])
        self.assertEqual([r["Data"] for r in records], [big, big])

        self.server.restart()
        client = self.server.client(max_attempts=1)
        summary = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["MaxRecordSizeInKiB"], 4096)
        client.put_record(StreamName=name, PartitionKey="k", Data=big)

    def test_limits(self):
        name = self.create_stream()
        client = self.server.client(validate=False)
        for bad in (1023, 10241):
            with self.assertAwsError("ValidationException", contains="maxRecordSizeInKiB"):
                client.update_max_record_size(StreamARN=stream_arn(name), MaxRecordSizeInKiB=bad)
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.update_max_record_size(StreamARN=stream_arn(unique_name("missing")), MaxRecordSizeInKiB=2048)


class WarmThroughput(KinesdTestCase):
    def test_on_demand_stream(self):
        name = self.create_stream(shards=None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        resp = self.kinesis.update_stream_warm_throughput(StreamName=name, WarmThroughputMiBps=100)
        self.assertEqual(resp["StreamName"], name)
        self.assertEqual(resp["StreamARN"], stream_arn(name))
        self.assertEqual(resp["WarmThroughput"], {"TargetMiBps": 100, "CurrentMiBps": 100})
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["WarmThroughput"], {"TargetMiBps": 100, "CurrentMiBps": 100})
        # A setting of ON_DEMAND streams: switching to PROVISIONED drops it.
        self.kinesis.update_stream_mode(StreamARN=stream_arn(name),
                                        StreamModeDetails={"StreamMode": "PROVISIONED"})
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertNotIn("WarmThroughput", summary)

    def test_provisioned_stream_is_refused(self):
        name = self.create_stream()
        with self.assertAwsError("InvalidArgumentException", contains="ON_DEMAND"):
            self.kinesis.update_stream_warm_throughput(StreamName=name, WarmThroughputMiBps=100)


class SettingsSurviveRestart(KinesdTestCase):
    def test_encryption_and_monitoring_persist(self):
        name = self.create_stream()
        self.kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="k9")
        self.kinesis.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingRecords"])
        self.server.restart()
        summary = self.server.client().describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual((summary["EncryptionType"], summary["KeyId"]), ("KMS", "k9"))
        self.assertEqual(summary["EnhancedMonitoring"], [{"ShardLevelMetrics": ["IncomingRecords"]}])


if __name__ == "__main__":
    unittest.main()
