"""The core path with the AWS CLI, v1 (pip's awscli) and v2 (Debian's awscli), each skipped when
it is not installed."""
import base64
import unittest

from kinesd_harness import (
    ACCOUNT,
    CliError,
    KinesdTestCase,
    aws_clis,
    hash_key_of,
    run_aws_cli,
    shard_for_hash_key,
    stream_arn,
    unique_name,
)


class CliCorePath(KinesdTestCase):
    # The CLI waiters poll every 10 s; with no create/delete delay the first poll succeeds.
    server_args = ("--create-stream-ms", "0", "--delete-stream-ms", "0")

    def cli(self, version, *args, **kwargs):
        return run_aws_cli(version, self.server, *args, **kwargs)

    def raw_data_args(self, version):
        """Makes --data and put-records Data raw text on v2, as it always is on v1."""
        return ["--cli-binary-format", "raw-in-base64-out"] if version >= 2 else []

    def core_path(self, version):
        if version not in aws_clis():
            self.skipTest(f"AWS CLI v{version} is not installed")
        name = unique_name(f"cli-v{version}")
        self.assertIsNone(self.cli(version, "create-stream", "--stream-name", name,
                                   "--shard-count", "2"))
        self.cli(version, "wait", "stream-exists", "--stream-name", name)

        key = "cli-key"
        first = self.cli(version, "put-record", "--stream-name", name, "--partition-key", key,
                         "--data", "hello from the cli", *self.raw_data_args(version))
        shard_list = self.shards(name)
        self.assertEqual(first["ShardId"], shard_for_hash_key(shard_list, hash_key_of(key)))
        self.assertRegex(first["SequenceNumber"], r"^\d+$")
        if version >= 2:
            # v2's default: --data is base64.
            second = self.cli(version, "put-record", "--stream-name", name, "--partition-key", key,
                              "--data", base64.b64encode(b"\x00\x01binary\xff").decode())
            second_data = b"\x00\x01binary\xff"
        else:
            second = self.cli(version, "put-record", "--stream-name", name, "--partition-key", key,
                              "--data", "second")
            second_data = b"second"
        self.assertEqual(second["ShardId"], first["ShardId"])
        self.assertGreater(int(second["SequenceNumber"]), int(first["SequenceNumber"]))

        batch = self.cli(version, "put-records", "--stream-name", name, "--records",
                         '[{"Data": "batched", "PartitionKey": "cli-key"}]',
                         *self.raw_data_args(version))
        self.assertEqual(batch["FailedRecordCount"], 0)
        self.assertEqual(batch["Records"][0]["ShardId"], first["ShardId"])

        iterator = self.cli(version, "get-shard-iterator", "--stream-name", name,
                            "--shard-id", first["ShardId"],
                            "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
        got = self.cli(version, "get-records", "--shard-iterator", iterator)
        self.assertEqual([base64.b64decode(r["Data"]) for r in got["Records"]],
                         [b"hello from the cli", second_data, b"batched"])
        self.assertEqual([r["PartitionKey"] for r in got["Records"]], [key] * 3)
        self.assertEqual([r["SequenceNumber"] for r in got["Records"]],
                         [first["SequenceNumber"], second["SequenceNumber"],
                          batch["Records"][0]["SequenceNumber"]])
        self.assertIn("NextShardIterator", got)

        iterator = self.cli(version, "get-shard-iterator", "--stream-name", name,
                            "--shard-id", first["ShardId"],
                            "--shard-iterator-type", "AFTER_SEQUENCE_NUMBER",
                            "--starting-sequence-number", first["SequenceNumber"])["ShardIterator"]
        got = self.cli(version, "get-records", "--shard-iterator", iterator, "--limit", "1")
        self.assertEqual([base64.b64decode(r["Data"]) for r in got["Records"]], [second_data])

        # What the CLI wrote, boto3 reads byte for byte.
        records = self.read_shard(name, first["ShardId"])
        self.assertEqual([r["Data"] for r in records],
                         [b"hello from the cli", second_data, b"batched"])

        self.assertIn(name, self.cli(version, "list-streams")["StreamNames"])
        shards = self.cli(version, "list-shards", "--stream-name", name)["Shards"]
        self.assertEqual([s["ShardId"] for s in shards],
                         ["shardId-000000000000", "shardId-000000000001"])
        summary = self.cli(version, "describe-stream-summary",
                           "--stream-name", name)["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamARN"], stream_arn(name))
        self.assertEqual(summary["OpenShardCount"], 2)
        self.assertEqual(summary["StreamStatus"], "ACTIVE")
        desc = self.cli(version, "describe-stream", "--stream-name", name)["StreamDescription"]
        self.assertEqual(len(desc["Shards"]), 2)

        self.assertIsNone(self.cli(version, "delete-stream", "--stream-name", name))
        self.cli(version, "wait", "stream-not-exists", "--stream-name", name)
        with self.assertRaises(CliError) as ctx:
            self.cli(version, "describe-stream-summary", "--stream-name", name)
        self.assertIn("ResourceNotFoundException", ctx.exception.stderr)
        self.assertIn(f"Stream {name} under account {ACCOUNT} not found.", ctx.exception.stderr)
        self.assertNotIn(name, self.cli(version, "list-streams")["StreamNames"])

    def test_cli_v1(self):
        self.core_path(1)

    def test_cli_v2(self):
        self.core_path(2)

    def test_cli_region_flag_selects_the_region(self):
        versions = sorted(aws_clis())
        if not versions:
            self.skipTest("no AWS CLI is installed")
        version = versions[-1]
        name = unique_name("cli-region")
        self.cli(version, "create-stream", "--stream-name", name, "--shard-count", "1",
                 region="ap-southeast-2")
        self.cli(version, "wait", "stream-exists", "--stream-name", name, region="ap-southeast-2")
        summary = self.cli(version, "describe-stream-summary", "--stream-name", name,
                           region="ap-southeast-2")["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamARN"], stream_arn(name, region="ap-southeast-2"))
        self.assertNotIn(name, self.cli(version, "list-streams")["StreamNames"])


if __name__ == "__main__":
    unittest.main()
