"""Resource policies: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy on streams and
consumers. kinesd stores and returns the policy; it does not enforce it."""
import json
import unittest

from kinesd_harness import KinesdTestCase, stream_arn, unique_name

POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator"],
        "Resource": "*",
    }],
})


class Policies(KinesdTestCase):
    def test_stream_policy_round_trip(self):
        name = self.create_stream()
        arn = stream_arn(name)
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=arn)["Policy"], "{}")
        self.kinesis.put_resource_policy(ResourceARN=arn, Policy=POLICY)
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=arn)["Policy"], POLICY)
        self.server.restart()
        client = self.server.client()
        self.assertEqual(client.get_resource_policy(ResourceARN=arn)["Policy"], POLICY)
        client.delete_resource_policy(ResourceARN=arn)
        self.assertEqual(client.get_resource_policy(ResourceARN=arn)["Policy"], "{}")
        with self.assertAwsError("ResourceNotFoundException"):
            client.delete_resource_policy(ResourceARN=arn)

    def test_consumer_policy_is_its_own(self):
        name = self.create_stream()
        carn = self.kinesis.register_stream_consumer(
            StreamARN=stream_arn(name), ConsumerName="app")["Consumer"]["ConsumerARN"]
        self.kinesis.put_resource_policy(ResourceARN=carn, Policy=POLICY)
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=carn)["Policy"], POLICY)
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=stream_arn(name))["Policy"], "{}")

    def test_errors(self):
        name = self.create_stream()
        with self.assertAwsError("InvalidArgumentException", contains="Policy"):
            self.kinesis.put_resource_policy(ResourceARN=stream_arn(name), Policy="not json")
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.get_resource_policy(ResourceARN=stream_arn(unique_name("missing")))
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.put_resource_policy(
                ResourceARN=stream_arn(name) + "/consumer/nobody:1700000000", Policy=POLICY)
        client = self.server.client(validate=False)
        with self.assertAwsError("ValidationException", contains="resourceARN"):
            client.get_resource_policy(ResourceARN="arn:aws:sqs:us-east-1:000000000000:q")


if __name__ == "__main__":
    unittest.main()
