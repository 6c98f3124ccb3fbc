"""Account-level operations: DescribeLimits, DescribeAccountSettings, UpdateAccountSettings."""
import unittest

from kinesd_harness import KinesdTestCase


class Limits(KinesdTestCase):
    server_args = ("--shard-limit", "40")

    def test_describe_limits_counts_open_shards_and_on_demand_streams(self):
        base = self.kinesis.describe_limits()
        self.assertEqual(base["ShardLimit"], 40)
        self.assertEqual(base["OnDemandStreamCountLimit"], 50)
        self.create_stream(shards=3)
        self.create_stream(shards=None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        limits = self.kinesis.describe_limits()
        self.assertEqual(limits["OpenShardCount"], base["OpenShardCount"] + 3 + 4)
        self.assertEqual(limits["OnDemandStreamCount"], base["OnDemandStreamCount"] + 1)
        # Another region is another namespace.
        other = self.server.client(region="eu-west-1").describe_limits()
        self.assertEqual((other["OpenShardCount"], other["OnDemandStreamCount"]), (0, 0))


class AccountSettings(KinesdTestCase):
    def test_default_is_disabled(self):
        client = self.server.client(region="ap-south-1")
        self.assertEqual(client.describe_account_settings()["MinimumThroughputBillingCommitment"],
                         {"Status": "DISABLED"})

    def test_enable_then_disable_before_the_earliest_end(self):
        client = self.server.client(region="eu-central-1")
        out = client.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
        commitment = out["MinimumThroughputBillingCommitment"]
        self.assertEqual(commitment["Status"], "ENABLED")
        self.assertEqual((commitment["EarliestAllowedEndAt"] - commitment["StartedAt"]).total_seconds(), 24 * 3600)
        self.assertEqual(client.describe_account_settings()["MinimumThroughputBillingCommitment"], commitment)

        out = client.update_account_settings(MinimumThroughputBillingCommitment={"Status": "DISABLED"})
        self.assertEqual(out["MinimumThroughputBillingCommitment"]["Status"], "ENABLED_UNTIL_EARLIEST_ALLOWED_END")
        # Enabling again cancels the pending end.
        out = client.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
        self.assertEqual(out["MinimumThroughputBillingCommitment"]["Status"], "ENABLED")
        self.assertEqual(out["MinimumThroughputBillingCommitment"]["StartedAt"], commitment["StartedAt"])

        self.server.restart()
        again = self.server.client(region="eu-central-1").describe_account_settings()
        self.assertEqual(again["MinimumThroughputBillingCommitment"]["Status"], "ENABLED")

    def test_bad_status(self):
        client = self.server.client(validate=False)
        with self.assertAwsError("ValidationException", contains="minimumThroughputBillingCommitment.status"):
            client.update_account_settings(MinimumThroughputBillingCommitment={"Status": "MAYBE"})


if __name__ == "__main__":
    unittest.main()
