"""TLS: boto3 and the AWS CLI over https:// with the certificate kinesd makes for itself (trusting
nothing, and trusting its CA file), ALPN, the TLS-only port, the user's own certificate, and the
generated certificate surviving a restart."""
import base64
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest
import warnings

import boto3
import botocore.config

from kinesd_harness import (
    ACCESS_KEY,
    DEFAULT_REGION,
    SECRET_KEY,
    KinesdServer,
    KinesdTestCase,
    _cli_env,
    aws_clis,
    https_endpoint,
    tls_ca_file,
    unique_name,
)


def tls_client(endpoint, verify):
    config = botocore.config.Config(region_name=DEFAULT_REGION, retries={"mode": "standard", "max_attempts": 2},
                                    connect_timeout=5, read_timeout=60)
    return boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                                 region_name=DEFAULT_REGION).client(
        "kinesis", endpoint_url=endpoint, verify=verify, config=config)


def alpn(port, protocols, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(protocols)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.selected_alpn_protocol()


class Https(KinesdTestCase):
    server_args = ("--tls", "on")

    def core_path(self, kinesis):
        name = self.create_stream(1, client=kinesis)
        ack = kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"over tls")
        batch = kinesis.put_records(StreamName=name, Records=[
            {"PartitionKey": f"k{i}", "Data": f"r{i}".encode()} for i in range(3)])
        self.assertEqual(batch["FailedRecordCount"], 0)
        records = self.read_shard(name, ack["ShardId"], client=kinesis)
        self.assertEqual([r["Data"] for r in records], [b"over tls", b"r0", b"r1", b"r2"])
        with self.assertAwsError("ResourceNotFoundException",
                                 f"Stream {name}-x under account 000000000000 not found."):
            kinesis.describe_stream_summary(StreamName=name + "-x")
        self.delete_stream(name, client=kinesis)

    def test_boto3_trusting_the_generated_ca(self):
        self.core_path(tls_client(https_endpoint(self.server), tls_ca_file(self.server)))

    def test_boto3_trusting_the_ca_by_ip_address(self):
        self.core_path(tls_client(https_endpoint(self.server, "127.0.0.1"), tls_ca_file(self.server)))

    def test_boto3_without_verification(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # urllib3's InsecureRequestWarning
            self.core_path(tls_client(https_endpoint(self.server), False))

    def test_verification_fails_without_the_ca(self):
        # The system's CAs do not trust kinesd's certificate: it is the user's to trust.
        kinesis = tls_client(https_endpoint(self.server), True)
        with self.assertRaises(Exception) as ctx:
            kinesis.list_streams()
        self.assertIn("SSL", type(ctx.exception).__name__ + str(ctx.exception))

    def test_plain_http_still_works_on_the_same_port(self):
        self.assertEqual(self.kinesis.list_streams()["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_alpn_offers_h2_and_http11(self):
        ca = tls_ca_file(self.server)
        self.assertEqual(alpn(self.server.port, ["h2", "http/1.1"], ca), "h2")
        self.assertEqual(alpn(self.server.port, ["http/1.1"], ca), "http/1.1")
        self.assertIsNone(alpn(self.server.port, ["spdy/3"], ca))

    def cli(self, version, *args):
        path = aws_clis().get(version)
        if path is None:
            raise unittest.SkipTest(f"AWS CLI v{version} is not installed")
        cmd = [path, "--endpoint-url", https_endpoint(self.server), "--region", DEFAULT_REGION,
               "--output", "json", *args]
        if version >= 2:
            cmd.insert(1, "--no-cli-pager")
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                             env=_cli_env(DEFAULT_REGION), stdin=subprocess.DEVNULL)
        self.assertEqual(out.returncode, 0, f"{cmd}\n{out.stderr}")
        return json.loads(out.stdout) if out.stdout.strip() else None

    def cli_core_path(self, version, *tls_args):
        name = unique_name("cli-tls")
        self.cli(version, *tls_args, "kinesis", "create-stream", "--stream-name", name, "--shard-count", "1")
        self.wait_active(name)
        # v1 sends --data as given; v2 wants to be told that it is raw text.
        raw = ["--cli-binary-format", "raw-in-base64-out"] if version >= 2 else []
        ack = self.cli(version, *tls_args, "kinesis", "put-record", "--stream-name", name,
                       "--partition-key", "k", "--data", "cli over tls", *raw)
        it = self.cli(version, *tls_args, "kinesis", "get-shard-iterator", "--stream-name", name,
                      "--shard-id", ack["ShardId"], "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
        got = self.cli(version, *tls_args, "kinesis", "get-records", "--shard-iterator", it)
        self.assertEqual([base64.b64decode(r["Data"]) for r in got["Records"]], [b"cli over tls"])
        self.cli(version, *tls_args, "kinesis", "delete-stream", "--stream-name", name)

    def test_aws_cli_v1_with_no_verify_ssl(self):
        self.cli_core_path(1, "--no-verify-ssl")

    def test_aws_cli_v1_with_the_ca_bundle(self):
        self.cli_core_path(1, "--ca-bundle", tls_ca_file(self.server))

    def test_aws_cli_v2_with_no_verify_ssl(self):
        self.cli_core_path(2, "--no-verify-ssl")

    def test_aws_cli_v2_with_the_ca_bundle(self):
        self.cli_core_path(2, "--ca-bundle", tls_ca_file(self.server))


class TlsOnlyPort(unittest.TestCase):
    def test_a_second_port_serves_tls_only(self):
        from kinesd_harness import free_port

        tls_port = free_port()
        with KinesdServer("--tls-port", tls_port) as server:
            ca = tls_ca_file(server)
            kinesis = tls_client(f"https://localhost:{tls_port}", ca)
            self.assertEqual(kinesis.list_streams()["StreamNames"], [])
            # Plain HTTP on the TLS port is not answered; the main port stays plain.
            with socket.create_connection(("127.0.0.1", tls_port), timeout=10) as s:
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                try:
                    self.assertEqual(s.recv(100), b"")
                except ConnectionResetError:
                    pass
            self.assertEqual(server.client().list_streams()["StreamNames"], [])


class Certificates(unittest.TestCase):
    def test_the_ca_path_is_logged_at_first_start(self):
        with KinesdServer("--tls", "on", log_level="info") as server:
            self.assertIn(f"trust its CA {tls_ca_file(server)}", server.stderr_text())

    def test_the_generated_certificate_is_kept_across_restarts(self):
        with KinesdServer("--tls", "on") as server:
            with open(tls_ca_file(server), "rb") as f:
                first = f.read()
            server.restart()
            with open(tls_ca_file(server), "rb") as f:
                self.assertEqual(f.read(), first)
            kinesis = tls_client(https_endpoint(server), tls_ca_file(server))
            self.assertEqual(kinesis.list_streams()["StreamNames"], [])

    @unittest.skipUnless(shutil.which("openssl"), "openssl command not installed")
    def test_the_users_own_certificate(self):
        # A self-signed certificate for localhost made with the openssl command.
        d = tempfile.mkdtemp(prefix="kinesd-cert-")
        try:
            cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
            out = subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=DNS:localhost", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,digitalSignature,keyCertSign"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            with KinesdServer("--tls", "on", "--tls-cert", cert, "--tls-key", key) as server:
                kinesis = tls_client(https_endpoint(server), cert)
                self.assertEqual(kinesis.list_streams()["StreamNames"], [])
                self.assertFalse(os.path.exists(tls_ca_file(server)))  # nothing generated
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_a_key_without_a_certificate_is_refused_at_start(self):
        server = KinesdServer("--tls", "on", "--tls-key", "/nonexistent/key.pem")
        try:
            with self.assertRaises(Exception) as ctx:
                server.start()
            self.assertIn("--tls-cert and --tls-key must be given together", str(ctx.exception))
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()
