"""The container image without a Docker engine: what can be checked here is checked.

- The runtime stage of docker/Dockerfile installs the Debian package of every shared library
  `ldd kinesd` lists, and the build stage every build dependency of scripts/setup-deps.sh.
- The Dockerfile has what a service container needs (non-root user, /data volume, port 4567,
  HEALTHCHECK through the entrypoint), and compose.yaml waits for kinesd to be healthy.
- docker/entrypoint.sh runs kinesd configured by environment variables only, and its
  `healthcheck` command answers by GET /_kinesd/ready.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import boto3
import botocore.config

from kinesd_harness import ACCESS_KEY, REPO_ROOT, SECRET_KEY, KinesdServer, free_port, kinesd_binary

DOCKERFILE = os.path.join(REPO_ROOT, "docker", "Dockerfile")
ENTRYPOINT = os.path.join(REPO_ROOT, "docker", "entrypoint.sh")
COMPOSE = os.path.join(REPO_ROOT, "docker", "compose.yaml")
WAIT_S = 15.0


def dockerfile_stages():
    """{stage name: [instruction lines, continuations joined]} of docker/Dockerfile."""
    with open(DOCKERFILE) as f:
        text = f.read()
    text = re.sub(r"\\\n", " ", text)
    stages, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if m:
            current = stages.setdefault(m.group(2) or m.group(1), [])
            current.append(line)
        elif current is not None:
            current.append(line)
    return stages


def apt_installed(stage_lines):
    """Package names given to apt-get install in a stage."""
    packages = set()
    for line in stage_lines:
        for cmd in re.split(r"&&|;", line):
            words = cmd.split()
            if "apt-get" in words and "install" in words:
                packages |= {w for w in words[words.index("install") + 1:] if not w.startswith("-")}
    return packages


class DockerfileChecks(unittest.TestCase):
    def setUp(self):
        self.stages = dockerfile_stages()
        self.assertIn("build", self.stages)
        self.assertIn("runtime", self.stages)

    def test_runtime_stage_installs_every_library_kinesd_links(self):
        if shutil.which("dpkg") is None or shutil.which("ldd") is None:
            self.skipTest("needs dpkg and ldd (Debian)")
        out = subprocess.run(["ldd", kinesd_binary()], capture_output=True, text=True, timeout=60, check=True)
        libs = re.findall(r"=>\s+(/\S+)", out.stdout)
        self.assertTrue(libs, out.stdout)
        self.assert_runtime_stage_installs(libs)

    def assert_runtime_stage_installs(self, libs):
        """Each shared library in `libs` comes from a package the runtime stage installs."""
        installed = apt_installed(self.stages["runtime"])
        # A sanitizer build (scripts/test-sanitizers.sh) also links the sanitizers' runtimes; the
        # image is built without them, so they are not the runtime stage's business.
        sanitizer_runtimes = re.compile(r"/lib(asan|ubsan|tsan|lsan)\.so")
        for lib in sorted(libs):
            if sanitizer_runtimes.search(lib):
                continue
            owner = None
            # /lib is a symlink to /usr/lib on Debian 12, and dpkg knows one of the names.
            for path in (lib, os.path.realpath(lib), lib.replace("/usr/lib/", "/lib/", 1)):
                q = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, timeout=60)
                if q.returncode == 0:
                    owner = q.stdout.split(":")[0].strip()
                    break
            self.assertIsNotNone(owner, f"no Debian package owns {lib}")
            self.assertIn(owner, installed, f"{lib} comes from {owner}, which the runtime stage does not install")

    def test_runtime_stage_installs_every_library_kinesd_loads_at_run_time(self):
        # kinesd loads OpenSSL with dlopen on first use, so ldd does not list it: these are the
        # libraries mapped by a server that has hashed a partition key (MD5) and issued a shard
        # iterator (HMAC).
        if shutil.which("dpkg") is None or shutil.which("ldd") is None:
            self.skipTest("needs dpkg and ldd (Debian)")
        linked = subprocess.run(["ldd", kinesd_binary()], capture_output=True, text=True, timeout=60, check=True)
        # Loading OpenSSL at exec cost about 4 ms of every start (docs/benchmarks.md).
        self.assertNotIn("libcrypto", linked.stdout, "kinesd should load OpenSSL on first use, not at exec")
        with KinesdServer() as server:
            kinesis = server.client()
            kinesis.create_stream(StreamName="libs", ShardCount=1)
            kinesis.get_waiter("stream_exists").wait(StreamName="libs", WaiterConfig={"Delay": 0.1})
            kinesis.put_record(StreamName="libs", Data=b"x", PartitionKey="k")
            shard_id = kinesis.list_shards(StreamName="libs")["Shards"][0]["ShardId"]
            kinesis.get_shard_iterator(StreamName="libs", ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")
            with open(f"/proc/{server.pid}/maps") as f:
                mapped = {line.split()[-1] for line in f if ".so" in line.split()[-1]}
        self.assertTrue(any("libssl.so" in lib for lib in mapped), mapped)
        self.assertTrue(any("libcrypto.so" in lib for lib in mapped), mapped)
        self.assert_runtime_stage_installs(mapped)

    def test_build_stage_installs_what_setup_deps_builds_with(self):
        with open(os.path.join(REPO_ROOT, "scripts", "setup-deps.sh")) as f:
            m = re.search(r"^need=\(([^)]*)\)", f.read(), re.MULTILINE)
        self.assertIsNotNone(m)
        missing = set(m.group(1).split()) - apt_installed(self.stages["build"])
        self.assertEqual(missing, set())

    def test_stages_and_service_settings(self):
        build, runtime = self.stages["build"], self.stages["runtime"]
        self.assertRegex(build[0], r"^FROM debian:\$\{DEBIAN_RELEASE\}")
        self.assertRegex(runtime[0], r"^FROM debian:\$\{DEBIAN_RELEASE\}-slim")
        with open(DOCKERFILE) as f:
            self.assertIn("ARG DEBIAN_RELEASE=bookworm", f.read())  # Debian 12
        text = "\n".join(runtime)
        user = re.search(r"^USER\s+(\S+)", text, re.MULTILINE)
        self.assertIsNotNone(user)
        self.assertNotIn(user.group(1).split(":")[0], ("root", "0"))
        self.assertRegex(text, r'VOLUME\s+\["/data"\]')
        self.assertRegex(text, r"EXPOSE\s+4567")
        self.assertRegex(text, r"KINESD_DATA_DIR=/data")
        self.assertRegex(text, r'HEALTHCHECK .*CMD \["kinesd-entrypoint", "healthcheck"\]')
        self.assertRegex(text, r'ENTRYPOINT \["kinesd-entrypoint"\]')
        self.assertRegex(text, r"COPY docker/entrypoint.sh /usr/local/bin/kinesd-entrypoint")
        self.assertTrue(os.access(ENTRYPOINT, os.X_OK), "entrypoint.sh must be executable")

    def test_dockerignore_keeps_build_and_data_dirs_out_of_the_context(self):
        with open(os.path.join(REPO_ROOT, ".dockerignore")) as f:
            patterns = f.read().split()
        for p in ("build*/", "data/", ".git"):
            self.assertIn(p, patterns)

    def test_compose_runs_the_app_once_kinesd_is_healthy(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("needs PyYAML")
        with open(COMPOSE) as f:
            doc = yaml.safe_load(f)
        kinesd = doc["services"]["kinesd"]
        self.assertEqual(kinesd["build"]["dockerfile"], "docker/Dockerfile")
        self.assertIn("KINESD_CREATE_STREAMS", kinesd["environment"])
        self.assertTrue(any(v.endswith(":/data") for v in kinesd["volumes"]))
        app = doc["services"]["app"]
        self.assertEqual(app["depends_on"]["kinesd"]["condition"], "service_healthy")


class Entrypoint(unittest.TestCase):
    """docker/entrypoint.sh with the image's environment, kinesd found on PATH as in the image."""

    def setUp(self):
        if shutil.which("bash") is None:
            self.skipTest("needs bash")
        self.tmp = tempfile.mkdtemp(prefix="kinesd-e2e-docker-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        bindir = os.path.join(self.tmp, "bin")
        os.mkdir(bindir)
        os.symlink(os.path.abspath(kinesd_binary()), os.path.join(bindir, "kinesd"))
        self.port = free_port()
        self.data_dir = os.path.join(self.tmp, "data")
        # Only what a `docker run -e ...` would give: no flags at all.
        self.env = {
            "PATH": bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            "KINESD_HOST": "127.0.0.1",
            "KINESD_PORT": str(self.port),
            "KINESD_DATA_DIR": self.data_dir,
            "KINESD_CREATE_STREAMS": "orders:2,clicks:1:ON_DEMAND",
            "KINESD_LOG_FORMAT": "json",
            "KINESD_LOG_LEVEL": "info",
        }

    def healthcheck(self):
        return subprocess.run(["bash", ENTRYPOINT, "healthcheck"], env=self.env, capture_output=True,
                              text=True, timeout=30).returncode

    def start(self):
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        with open(self.stderr_path, "wb") as err:
            proc = subprocess.Popen(["bash", ENTRYPOINT], env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=err, stderr=err)
        self.addCleanup(self.stop, proc)
        return proc

    def stop(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        return proc.returncode

    def wait_healthy(self, proc):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            self.assertIsNone(proc.poll(), self.stderr())
            if self.healthcheck() == 0:
                return
            time.sleep(0.05)  # polling, bounded by the deadline
        self.fail(f"not healthy within {WAIT_S} s\n{self.stderr()}")

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def test_healthcheck_fails_while_nothing_listens(self):
        self.assertNotEqual(self.healthcheck(), 0)

    def test_environment_only_configuration(self):
        proc = self.start()
        self.wait_healthy(proc)
        # exec: the entrypoint's process is kinesd itself, so docker stop's SIGTERM reaches it.
        self.assertEqual(os.path.realpath(f"/proc/{proc.pid}/exe"), os.path.realpath(kinesd_binary()))
        client = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name="us-east-1"
        ).client("kinesis", endpoint_url=f"http://127.0.0.1:{self.port}",
                 config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))
        self.assertEqual(sorted(client.list_streams()["StreamNames"]), ["clicks", "orders"])
        summary = client.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]
        self.assertEqual(summary["OpenShardCount"], 2)
        self.assertTrue(os.path.isdir(os.path.join(self.data_dir, "streams")))
        self.assertEqual(self.stop(proc), 0)
        lines = [json.loads(l) for l in self.stderr().splitlines() if l.strip()]  # KINESD_LOG_FORMAT
        self.assertTrue(any("listening on 127.0.0.1:%d" % self.port in l["message"] for l in lines), lines)

    def test_flags_after_the_image_name_reach_kinesd(self):
        out = subprocess.run(["bash", ENTRYPOINT, "--version"], env=self.env, capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out)
        self.assertTrue(out.stdout.startswith("kinesd "), out.stdout)


if __name__ == "__main__":
    unittest.main()
