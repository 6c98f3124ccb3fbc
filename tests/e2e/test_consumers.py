"""Stream consumers: RegisterStreamConsumer, DescribeStreamConsumer (by ARN or by stream ARN and
name), ListStreamConsumers (paging), DeregisterStreamConsumer, the CREATING/ACTIVE/DELETING life
cycle, the 20-consumer limit, ConsumerCount, and DeleteStream with EnforceConsumerDeletion."""
import http.client
import json
import re
import time
import unittest

from kinesd_harness import ACCOUNT, KinesdTestCase, stream_arn, unique_name


def advance_clock(server, seconds):
    """Moves the server's clock forward through the admin API (needs --admin on)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", "/_kinesd/clock", body=json.dumps({"advanceSeconds": seconds}))
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise AssertionError(f"advancing the clock failed: {resp.status}")
    finally:
        conn.close()


class Consumers(KinesdTestCase):
    def register(self, name, consumer, **kwargs):
        return self.kinesis.register_stream_consumer(
            StreamARN=stream_arn(name), ConsumerName=consumer, **kwargs
        )["Consumer"]

    def test_register_describe_list_deregister(self):
        name = self.create_stream()
        before = time.time()
        consumer = self.register(name, "app-1")
        self.assertEqual(consumer["ConsumerName"], "app-1")
        self.assertEqual(consumer["ConsumerStatus"], "CREATING")
        arn = consumer["ConsumerARN"]
        m = re.fullmatch(
            rf"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{re.escape(name)}/consumer/app-1:(\d+)", arn
        )
        self.assertIsNotNone(m, arn)
        self.assertLessEqual(abs(int(m.group(1)) - before), 5)
        self.assertEqual(int(consumer["ConsumerCreationTimestamp"].timestamp()), int(m.group(1)))

        by_arn = self.kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]
        self.assertEqual(by_arn["ConsumerStatus"], "ACTIVE")  # no --create-stream-ms delay here
        self.assertEqual(by_arn["StreamARN"], stream_arn(name))
        self.assertEqual(by_arn["ConsumerARN"], arn)
        by_name = self.kinesis.describe_stream_consumer(
            StreamARN=stream_arn(name), ConsumerName="app-1"
        )["ConsumerDescription"]
        self.assertEqual(by_name, by_arn)

        listed = self.kinesis.list_stream_consumers(StreamARN=stream_arn(name))["Consumers"]
        self.assertEqual([c["ConsumerARN"] for c in listed], [arn])
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["ConsumerCount"], 1)

        self.kinesis.deregister_stream_consumer(ConsumerARN=arn)
        with self.assertAwsError("ResourceNotFoundException", contains="app-1"):
            self.kinesis.describe_stream_consumer(ConsumerARN=arn)
        self.assertEqual(self.kinesis.list_stream_consumers(StreamARN=stream_arn(name))["Consumers"], [])
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["ConsumerCount"], 0)

    def test_deregister_by_stream_arn_and_name(self):
        name = self.create_stream()
        self.register(name, "app")
        self.kinesis.deregister_stream_consumer(StreamARN=stream_arn(name), ConsumerName="app")
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.deregister_stream_consumer(StreamARN=stream_arn(name), ConsumerName="app")

    def test_duplicate_consumer_name(self):
        name = self.create_stream()
        self.register(name, "dup")
        with self.assertAwsError(
            "ResourceInUseException",
            f"Consumer dup under stream {name} under account {ACCOUNT} already exists.",
        ):
            self.register(name, "dup")
        # The same name on another stream is another consumer.
        other = self.create_stream()
        self.register(other, "dup")

    def test_list_stream_consumers_pages(self):
        name = self.create_stream()
        for i in range(7):
            self.register(name, f"c{i}")
        seen, token = [], None
        for _ in range(10):
            args = {"StreamARN": stream_arn(name), "MaxResults": 3}
            if token:
                args["NextToken"] = token
            page = self.kinesis.list_stream_consumers(**args)
            self.assertLessEqual(len(page["Consumers"]), 3)
            seen += [c["ConsumerName"] for c in page["Consumers"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(sorted(seen), [f"c{i}" for i in range(7)])
        self.assertEqual(len(seen), 7)
        with self.assertAwsError("InvalidArgumentException", contains="NextToken"):
            self.kinesis.list_stream_consumers(StreamARN=stream_arn(name), NextToken="garbage")

    def test_at_most_twenty_consumers(self):
        name = self.create_stream()
        for i in range(20):
            self.register(name, f"c{i}")
        client = self.server.client(max_attempts=1)
        with self.assertAwsError("LimitExceededException", contains="20"):
            client.register_stream_consumer(StreamARN=stream_arn(name), ConsumerName="c20")
        self.kinesis.deregister_stream_consumer(StreamARN=stream_arn(name), ConsumerName="c0")
        self.register(name, "c20")

    def test_unknown_stream_and_consumer_and_bad_arns(self):
        missing = unique_name("missing")
        with self.assertAwsError("ResourceNotFoundException",
                                 f"Stream {missing} under account {ACCOUNT} not found."):
            self.register(missing, "app")
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.list_stream_consumers(StreamARN=stream_arn(missing))
        name = self.create_stream()
        with self.assertAwsError("ResourceNotFoundException", contains="nobody"):
            self.kinesis.describe_stream_consumer(StreamARN=stream_arn(name), ConsumerName="nobody")
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.describe_stream_consumer(
                ConsumerARN=stream_arn(name) + "/consumer/nobody:1700000000")
        # A consumer ARN with the wrong creation time names no consumer.
        arn = self.register(name, "app")["ConsumerARN"]
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.describe_stream_consumer(ConsumerARN=arn.rsplit(":", 1)[0] + ":1")
        client = self.server.client(validate=False)
        with self.assertAwsError("ValidationException", contains="consumerARN"):
            client.describe_stream_consumer(ConsumerARN="arn:aws:kinesis:nope")
        with self.assertAwsError("InvalidArgumentException"):
            self.kinesis.describe_stream_consumer(ConsumerName="app")

    def test_delete_stream_with_consumers_needs_enforce_consumer_deletion(self):
        name = self.create_stream()
        self.register(name, "app")
        with self.assertAwsError(
            "ResourceInUseException",
            f"DeleteStream can't delete {ACCOUNT}:{name} because there are consumers associated "
            f"with this data stream. To delete {name} anyway, set the EnforceConsumerDeletion "
            "parameter to true to force the deletion of all the consumers that are associated with it.",
        ):
            self.kinesis.delete_stream(StreamName=name)
        self.kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        self.wait_gone(name)
        # A new stream of the same name starts without consumers.
        self.create_stream(name=name)
        self.assertEqual(self.kinesis.list_stream_consumers(StreamARN=stream_arn(name))["Consumers"], [])


class ConsumerLifecycle(KinesdTestCase):
    """With --create-stream-ms and --delete-stream-ms, consumers take time to create and delete;
    the admin clock moves time on, so nothing here waits for the wall clock."""

    server_args = ("--admin", "on", "--create-stream-ms", "600000", "--delete-stream-ms", "600000")

    def test_creating_active_deleting_gone(self):
        name = unique_name()
        self.kinesis.create_stream(StreamName=name, ShardCount=1)
        advance_clock(self.server, 601)
        self.wait_active(name)
        arn = self.kinesis.register_stream_consumer(
            StreamARN=stream_arn(name), ConsumerName="app")["Consumer"]["ConsumerARN"]
        status = lambda: self.kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]["ConsumerStatus"]
        self.assertEqual(status(), "CREATING")
        advance_clock(self.server, 601)
        self.assertEqual(status(), "ACTIVE")

        self.kinesis.deregister_stream_consumer(ConsumerARN=arn)
        self.assertEqual(status(), "DELETING")
        listed = self.kinesis.list_stream_consumers(StreamARN=stream_arn(name))["Consumers"]
        self.assertEqual([c["ConsumerStatus"] for c in listed], ["DELETING"])
        with self.assertAwsError("ResourceInUseException", contains="is not in ACTIVE status"):
            self.kinesis.deregister_stream_consumer(ConsumerARN=arn)
        with self.assertAwsError("ResourceInUseException",
                                 f"Consumer app with creation timestamp {arn.rsplit(':', 1)[1]} under "
                                 f"stream {name} and account {ACCOUNT} is not in ACTIVE status."):
            self.kinesis.put_resource_policy(ResourceARN=arn, Policy="{}")
        advance_clock(self.server, 601)
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.describe_stream_consumer(ConsumerARN=arn)


class ConsumersSurviveRestart(KinesdTestCase):
    def test_consumers_and_their_tags_persist(self):
        name = self.create_stream()
        arn = self.kinesis.register_stream_consumer(
            StreamARN=stream_arn(name), ConsumerName="app", Tags={"k": "v"})["Consumer"]["ConsumerARN"]
        self.server.restart()
        client = self.server.client()
        desc = client.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]
        self.assertEqual(desc["ConsumerName"], "app")
        self.assertEqual(client.list_tags_for_resource(ResourceARN=arn)["Tags"], [{"Key": "k", "Value": "v"}])
        summary = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["ConsumerCount"], 1)


if __name__ == "__main__":
    unittest.main()
