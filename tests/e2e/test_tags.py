"""Tags: AddTagsToStream, RemoveTagsFromStream, ListTagsForStream (paging), TagResource,
UntagResource, ListTagsForResource for streams and consumers, Tags on CreateStream and
RegisterStreamConsumer, the 50-tag limit and the character rules."""
import unittest

from kinesd_harness import ACCOUNT, KinesdTestCase, aws_clis, run_aws_cli, stream_arn, unique_name


def tag_dict(tags):
    return {t["Key"]: t["Value"] for t in tags}


class StreamTags(KinesdTestCase):
    def test_create_stream_tags_then_add_overwrite_and_remove(self):
        name = self.create_stream(Tags={"team": "core", "env": "dev"})
        resp = self.kinesis.list_tags_for_stream(StreamName=name)
        self.assertEqual(resp["Tags"], [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "core"}])
        self.assertIs(resp["HasMoreTags"], False)

        self.kinesis.add_tags_to_stream(StreamName=name, Tags={"env": "prod", "owner": "me"})
        self.kinesis.remove_tags_from_stream(StreamName=name, TagKeys=["team", "not-there"])
        tags = self.kinesis.list_tags_for_stream(StreamARN=stream_arn(name))["Tags"]
        self.assertEqual(tag_dict(tags), {"env": "prod", "owner": "me"})

    def test_list_tags_for_stream_pages_with_exclusive_start_tag_key(self):
        name = self.create_stream()
        self.kinesis.add_tags_to_stream(StreamName=name, Tags={f"k{i:02}": str(i) for i in range(25)})
        # The default page holds 10 tags.
        first = self.kinesis.list_tags_for_stream(StreamName=name)
        self.assertEqual(len(first["Tags"]), 10)
        self.assertIs(first["HasMoreTags"], True)
        seen, start = [], None
        while True:
            args = {"StreamName": name, "Limit": 7}
            if start:
                args["ExclusiveStartTagKey"] = start
            page = self.kinesis.list_tags_for_stream(**args)
            seen += [t["Key"] for t in page["Tags"]]
            if not page["HasMoreTags"]:
                break
            start = page["Tags"][-1]["Key"]
        self.assertEqual(seen, [f"k{i:02}" for i in range(25)])

    def test_at_most_fifty_tags(self):
        name = self.create_stream()
        self.kinesis.add_tags_to_stream(StreamName=name, Tags={f"k{i}": "v" for i in range(50)})
        with self.assertAwsError(
            "InvalidArgumentException",
            f"Failed to add tags to stream {name} under account {ACCOUNT} because a given stream "
            "cannot have more than 50 tags associated with it.",
        ):
            self.kinesis.add_tags_to_stream(StreamName=name, Tags={"one-too-many": "v"})
        # Replacing the value of an existing key is not a new tag.
        self.kinesis.add_tags_to_stream(StreamName=name, Tags={"k0": "new"})
        self.assertEqual(len(self.kinesis.list_tags_for_stream(StreamName=name, Limit=50)["Tags"]), 50)

    def test_create_stream_with_too_many_tags_is_refused(self):
        name = unique_name()
        with self.assertAwsError("InvalidArgumentException", contains="cannot have more than 50 tags"):
            self.kinesis.create_stream(StreamName=name, ShardCount=1,
                                       Tags={f"k{i}": "v" for i in range(51)})
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.describe_stream_summary(StreamName=name)

    def test_tag_characters(self):
        name = self.create_stream()
        self.kinesis.add_tags_to_stream(StreamName=name, Tags={"a b_c.d/e=f+g-h@i:j": "Zürich 東京"})
        with self.assertAwsError(
            "InvalidArgumentException",
            "Some tags contain invalid characters. Valid characters: Unicode letters, digits, "
            "white space, _ . / = + - % @ :.",
        ):
            self.kinesis.add_tags_to_stream(StreamName=name, Tags={"bad*key": "v"})
        with self.assertAwsError("InvalidArgumentException", contains="illegal characters"):
            self.kinesis.add_tags_to_stream(StreamName=name, Tags={"k": "50%"})

    def test_model_limits_on_keys_and_values(self):
        name = self.create_stream()
        client = self.server.client(validate=False)
        with self.assertAwsError("ValidationException", contains="Member must have length less than or equal to 128"):
            client.add_tags_to_stream(StreamName=name, Tags={"k" * 129: "v"})
        with self.assertAwsError("ValidationException", contains="Member must have length less than or equal to 256"):
            client.add_tags_to_stream(StreamName=name, Tags={"k": "v" * 257})

    def test_unknown_stream(self):
        name = unique_name("missing")
        for call in (
            lambda: self.kinesis.add_tags_to_stream(StreamName=name, Tags={"a": "b"}),
            lambda: self.kinesis.list_tags_for_stream(StreamName=name),
            lambda: self.kinesis.remove_tags_from_stream(StreamName=name, TagKeys=["a"]),
            lambda: self.kinesis.list_tags_for_resource(ResourceARN=stream_arn(name)),
        ):
            with self.assertAwsError("ResourceNotFoundException",
                                     f"Stream {name} under account {ACCOUNT} not found."):
                call()


class ResourceTags(KinesdTestCase):
    def test_tag_resource_on_a_stream(self):
        name = self.create_stream()
        arn = stream_arn(name)
        self.kinesis.tag_resource(ResourceARN=arn, Tags={"a": "1", "b": "2"})
        self.kinesis.untag_resource(ResourceARN=arn, TagKeys=["a"])
        self.assertEqual(self.kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "b", "Value": "2"}])
        # The same tags as the stream API sees.
        self.assertEqual(self.kinesis.list_tags_for_stream(StreamName=name)["Tags"],
                         [{"Key": "b", "Value": "2"}])

    def test_tag_resource_on_a_consumer(self):
        name = self.create_stream()
        consumer = self.kinesis.register_stream_consumer(
            StreamARN=stream_arn(name), ConsumerName="app", Tags={"owner": "team-a"}
        )["Consumer"]
        carn = consumer["ConsumerARN"]
        self.assertEqual(self.kinesis.list_tags_for_resource(ResourceARN=carn)["Tags"],
                         [{"Key": "owner", "Value": "team-a"}])
        self.kinesis.tag_resource(ResourceARN=carn, Tags={"tier": "gold"})
        self.kinesis.untag_resource(ResourceARN=carn, TagKeys=["owner"])
        self.assertEqual(self.kinesis.list_tags_for_resource(ResourceARN=carn)["Tags"],
                         [{"Key": "tier", "Value": "gold"}])
        # Consumer tags are the consumer's own, not the stream's.
        self.assertEqual(self.kinesis.list_tags_for_stream(StreamName=name)["Tags"], [])
        with self.assertAwsError("InvalidArgumentException", contains="a given consumer cannot have more than 50 tags"):
            self.kinesis.tag_resource(ResourceARN=carn, Tags={f"k{i}": "v" for i in range(50)})

    def test_bad_and_unknown_resource_arns(self):
        name = self.create_stream()
        client = self.server.client(validate=False)
        with self.assertAwsError("ValidationException", contains="resourceARN"):
            client.list_tags_for_resource(ResourceARN="not-an-arn")
        missing = stream_arn(name) + "/consumer/nobody:1700000000"
        with self.assertAwsError("ResourceNotFoundException", contains="nobody"):
            self.kinesis.list_tags_for_resource(ResourceARN=missing)
        with self.assertAwsError("ResourceNotFoundException"):
            self.kinesis.tag_resource(ResourceARN=stream_arn(unique_name("missing")), Tags={"a": "b"})


class CliTagsAndConsumers(KinesdTestCase):
    """The control plane through the AWS CLI v1 and v2 (each skipped when not installed)."""

    def check(self, version):
        if version not in aws_clis():
            self.skipTest(f"AWS CLI v{version} is not installed")
        name = self.create_stream()
        cli = lambda *args: run_aws_cli(version, self.server, *args)
        self.assertIsNone(cli("add-tags-to-stream", "--stream-name", name, "--tags", "team=core,env=dev"))
        out = cli("list-tags-for-stream", "--stream-name", name)
        self.assertEqual(out["Tags"], [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "core"}])
        consumer = cli("register-stream-consumer", "--stream-arn", stream_arn(name),
                       "--consumer-name", "cli-app")["Consumer"]
        out = cli("describe-stream-consumer", "--consumer-arn", consumer["ConsumerARN"])
        self.assertEqual(out["ConsumerDescription"]["ConsumerName"], "cli-app")
        out = cli("list-stream-consumers", "--stream-arn", stream_arn(name))
        self.assertEqual([c["ConsumerName"] for c in out["Consumers"]], ["cli-app"])
        limits = cli("describe-limits")
        self.assertIn("ShardLimit", limits)

    def test_cli_v1(self):
        self.check(1)

    def test_cli_v2(self):
        self.check(2)


if __name__ == "__main__":
    unittest.main()
