"""Runs a real kinesd for the end-to-end tests and gives them clients for it.

The tests drive kinesd only through what a Kinesis client sees (boto3, the AWS CLI, raw HTTP), so
they could run against AWS too. Each TestCase class starts its own server (see KinesdTestCase) on
a free loopback port with a temporary data directory; tests use unique stream names.

The binary comes from $KINESD_BIN (ctest sets it), else from build/test/kinesd in the repository.
"""
import atexit
import datetime
import functools
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
import weakref

try:
    import boto3
    import botocore.auth
    import botocore.awsrequest
    import botocore.config
    import botocore.credentials
    import botocore.exceptions
except ImportError as e:  # pragma: no cover - depends on the machine
    raise ImportError(
        f"the end-to-end tests need boto3 for {sys.executable}: {e}. "
        "Run them with a python3 that has it (scripts/setup-deps.sh test installs one)."
    ) from e

ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
ACCESS_KEY = "AKIDKINESDTEST"
SECRET_KEY = "kinesd-test-secret"
MAX_HASH_KEY = 2**128 - 1

# Sanitizer builds run several times slower (scripts/test-sanitizers.sh sets this, e.g. to 4): every
# time limit a test waits up to is multiplied by it, never a fixed sleep. 1 for normal builds.
TIMEOUT_SCALE = float(os.environ.get("KINESD_TEST_TIMEOUT_SCALE") or 1.0)


def scaled(seconds):
    """A time limit of `seconds` on a normal build, stretched for a sanitizer build."""
    return seconds * TIMEOUT_SCALE


START_TIMEOUT_S = scaled(10.0)
STOP_TIMEOUT_S = scaled(10.0)
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Flags every test server gets before its own (a later flag wins). Tests write and read as fast
# as they can into 1-shard streams, which AWS's per-shard limits (on by default) would throttle:
# only tests about throttling turn it on, with "--throttle", "on" in their own arguments.
DEFAULT_SERVER_ARGS = ("--throttle", "off")

# What a sanitizer build prints when it finds something (ASan, LSan, UBSan, TSan).
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: ",
                     "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer")


def _isolate_from_user_aws_config():
    """Keeps ~/.aws and AWS_* variables of whoever runs the tests out of boto3 in this process."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            del os.environ[key]
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


_isolate_from_user_aws_config()


def kinesd_binary():
    """The kinesd executable to test; raises unittest.SkipTest when there is none to find."""
    path = os.environ.get("KINESD_BIN")
    if path:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise RuntimeError(f"KINESD_BIN={path} is not an executable file")
        return path
    path = os.path.join(REPO_ROOT, "build", "test", "kinesd")
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    raise unittest.SkipTest(f"kinesd is not built: set KINESD_BIN or build {path}")


def free_port():
    """A loopback TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_inodes(port):
    """Inodes of the sockets listening on 127.0.0.1/0.0.0.0:port, from /proc/net/tcp."""
    inodes = set()
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.split(":")[1], 16) == port:
                    inodes.add(inode)
    except OSError:
        return None
    return inodes


def _pid_listens_on(pid, port):
    """True when process `pid` owns a socket listening on `port` (None if /proc cannot tell)."""
    inodes = _listening_inodes(port)
    if inodes is None:
        return None
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return True
    except OSError:
        return None
    return False


def _set_parent_death_signal():
    """Runs in the child before exec: SIGKILL it if the test process dies without cleaning up."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: atexit still stops the server on a normal exit
        pass


_live_servers = weakref.WeakSet()


@atexit.register
def _stop_leftover_servers():
    for server in list(_live_servers):
        server.close()


class ServerStartError(RuntimeError):
    pass


class KinesdServer:
    """One kinesd process on a loopback port with its own data directory.

    start() returns once the process listens; stop() sends SIGTERM and, after STOP_TIMEOUT_S,
    SIGKILL; kill9() simulates a crash; restart() starts again on the same data directory.
    close() stops the server and removes its temporary directory.
    """

    def __init__(self, *extra_args, log_level="warn"):
        self.binary = kinesd_binary()
        self.extra_args = [str(a) for a in extra_args]
        self.log_level = log_level
        self.base_dir = tempfile.mkdtemp(prefix="kinesd-e2e-")
        self.data_dir = os.path.join(self.base_dir, "data")
        os.mkdir(self.data_dir)
        self.port = None
        self.proc = None
        self.starts = 0
        self._stderr_path = None
        _live_servers.add(self)

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def is_running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, port=None):
        """Starts kinesd; retries on another port if the chosen one turned out to be taken."""
        if self.is_running():
            raise RuntimeError("kinesd is already running")
        ports = [port] if port else []
        ports += [free_port() for _ in range(3)]
        last_error = None
        for candidate in ports:
            try:
                self._start_on(candidate)
                return self
            except ServerStartError as e:
                last_error = e
                if self._stderr_mentions_bind_failure():
                    continue  # someone took the port between our check and kinesd's bind
                raise
        raise last_error

    def _start_on(self, port):
        self.starts += 1
        self._stderr_path = os.path.join(self.base_dir, f"stderr.{self.starts}.log")
        cmd = [
            self.binary,
            "--host", "127.0.0.1",
            "--port", str(port),
            "--data-dir", self.data_dir,
            "--log-level", self.log_level,
            *DEFAULT_SERVER_ARGS,
            *self.extra_args,
        ]
        with open(self._stderr_path, "wb") as err, open(os.devnull, "rb") as devnull:
            self.proc = subprocess.Popen(
                cmd, stdin=devnull, stdout=err, stderr=err, preexec_fn=_set_parent_death_signal
            )
        self.port = port
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            code = self.proc.poll()
            if code is not None:
                raise ServerStartError(
                    f"kinesd exited with status {code} before it listened on port {port}; "
                    f"command: {' '.join(cmd)}\nstderr:\n{self.stderr_text()}"
                )
            if self._accepts_connections(port):
                return
            if time.monotonic() > deadline:
                self._kill_and_reap()
                raise ServerStartError(
                    f"kinesd did not listen on port {port} within {START_TIMEOUT_S} s; "
                    f"command: {' '.join(cmd)}\nstderr:\n{self.stderr_text()}"
                )
            time.sleep(0.02)  # polling for the listener, bounded by the deadline above

    def _accepts_connections(self, port):
        owned = _pid_listens_on(self.proc.pid, port)
        if owned is False:
            return False  # not (yet) our listener, even if some other process has the port
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    def _stderr_mentions_bind_failure(self):
        text = self.stderr_text().lower()
        return "address already in use" in text or "bind" in text

    def stderr_text(self, limit=20000):
        if not self._stderr_path or not os.path.exists(self._stderr_path):
            return ""
        with open(self._stderr_path, "rb") as f:
            data = f.read()
        return data[-limit:].decode("utf-8", "replace")

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM, then SIGKILL if it has not exited within `timeout`. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._kill_and_reap()
        return self.proc.returncode

    def kill9(self):
        """Crashes the server: SIGKILL, no chance to flush or clean up."""
        if self.proc is not None and self.proc.poll() is None:
            self._kill_and_reap()
        return self.proc.returncode if self.proc else None

    def _kill_and_reap(self):
        self.proc.kill()
        self.proc.wait(timeout=STOP_TIMEOUT_S)

    def restart(self):
        """Stops (gracefully) if running, then starts on the same data dir, same port if free."""
        self.stop()
        return self.start(port=self.port)

    def sanitizer_reports(self):
        """Sanitizer reports (ASan, LSan, UBSan, TSan) in the stderr of every start of this
        server, as {log file name: text}. A sanitizer build writes them to stderr whatever its
        log_path (UBSan in an ASan build does), and a server stopped at the end of a test has no
        exit status anyone checks: close() looks here instead."""
        reports = {}
        for name in sorted(os.listdir(self.base_dir)) if os.path.isdir(self.base_dir) else ():
            if not name.startswith("stderr."):
                continue
            with open(os.path.join(self.base_dir, name), "rb") as f:
                text = f.read().decode("utf-8", "replace")
            if any(marker in text for marker in SANITIZER_MARKERS):
                reports[name] = text
        return reports

    def close(self):
        try:
            self.stop()
            reports = self.sanitizer_reports()
            if reports:
                report_dir = os.environ.get("KINESD_SANITIZER_REPORT_DIR")
                if report_dir:  # scripts/test-sanitizers.sh fails the run on any file there
                    os.makedirs(report_dir, exist_ok=True)
                    for name, text in reports.items():
                        path = os.path.join(report_dir, f"e2e-server.{os.getpid()}.{id(self)}.{name}")
                        with open(path, "w") as f:
                            f.write(text)
                excerpt = "\n".join(text[-4000:] for text in reports.values())
                raise AssertionError(f"sanitizer report from kinesd:\n{excerpt}")
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            _live_servers.discard(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # --- clients ---------------------------------------------------------------------------

    def client(self, region=DEFAULT_REGION, max_attempts=3, validate=True):
        """A boto3 Kinesis client for this server.

        max_attempts=1 surfaces every error at once (botocore's standard mode would otherwise
        retry LimitExceededException and ProvisionedThroughputExceededException with backoff).
        validate=False turns off botocore's client-side parameter checks so that bad input
        reaches the server.
        """
        config = botocore.config.Config(
            region_name=region,
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=5,
            read_timeout=60,
            parameter_validation=validate,
        )
        return boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=region
        ).client("kinesis", endpoint_url=self.endpoint, config=config)

    def raw(self, target, body, region=DEFAULT_REGION, headers=None, sign=True,
            content_type="application/x-amz-json-1.1", timeout=30):
        """POSTs `body` (bytes, str, or a dict to JSON-encode) as-is; returns a RawResponse.

        target is the operation name ("ListStreams") or None to leave X-Amz-Target out.
        """
        if isinstance(body, dict):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        hdrs = {}
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        if target is not None:
            hdrs["X-Amz-Target"] = f"Kinesis_20131202.{target}"
        hdrs.update(headers or {})
        if sign:
            hdrs = sign_request(self.endpoint, body, hdrs, region)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("POST", "/", body=body, headers=hdrs)
            resp = conn.getresponse()
            return RawResponse(resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()


class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def __repr__(self):
        return f"RawResponse({self.status}, {self.headers}, {self.body[:300]!r})"


def sign_request(endpoint, body, headers, region=DEFAULT_REGION):
    """Headers with a SigV4 Authorization for a POST of `body` to `endpoint` (as boto3 signs)."""
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=endpoint + "/", data=body, headers=dict(headers)
    )
    credentials = botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY)
    botocore.auth.SigV4Auth(credentials, "kinesis", region).add_auth(request)
    return dict(request.headers.items())


# --- Kinesis facts a client can compute --------------------------------------------------------


def stream_arn(name, region=DEFAULT_REGION, account=ACCOUNT):
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}"


def hash_key_of(partition_key):
    """The hash key Kinesis routes a partition key by: MD5 of its UTF-8 bytes, big-endian."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def shard_for_hash_key(shards, hash_key):
    """The ShardId of the (open) shard whose HashKeyRange contains `hash_key`."""
    found = [
        s["ShardId"]
        for s in shards
        if int(s["HashKeyRange"]["StartingHashKey"]) <= hash_key
        <= int(s["HashKeyRange"]["EndingHashKey"])
        and "EndingSequenceNumber" not in s.get("SequenceNumberRange", {})
    ]
    if len(found) != 1:
        raise AssertionError(f"hash key {hash_key} is in {len(found)} open shards: {shards}")
    return found[0]


def even_split(n):
    """The HashKeyRanges CreateStream gives n shards: step floor(2^128/n), last one to 2^128-1."""
    step = 2**128 // n
    return [(i * step, MAX_HASH_KEY if i == n - 1 else (i + 1) * step - 1) for i in range(n)]


def unique_name(prefix="e2e"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def epoch_ms(dt):
    """Milliseconds since the epoch of an aware datetime, rounded (boto3 parses floats)."""
    return round(dt.timestamp() * 1000)


# --- AWS CLI ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def aws_clis():
    """{1: path, 2: path} for the AWS CLI major versions installed (by `aws --version`)."""
    candidates = []
    for d in os.environ.get("PATH", "").split(os.pathsep) + [
        os.path.expanduser("~/.pyenv/shims"), "/usr/bin", "/usr/local/bin"
    ]:
        path = os.path.join(d, "aws")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            real = os.path.realpath(path)
            if path not in candidates and real not in candidates:
                candidates.append(path)
    found = {}
    for path in candidates:
        try:
            out = subprocess.run(
                [path, "--version"], capture_output=True, text=True, timeout=60,
                env=_cli_env(DEFAULT_REGION),
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        m = re.search(r"aws-cli/(\d+)\.", out.stdout + out.stderr)
        if out.returncode == 0 and m:
            found.setdefault(int(m.group(1)), path)
    return found


def _cli_env(region):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=region,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_PAGER="",
        AWS_RETRY_MODE="standard",
        AWS_MAX_ATTEMPTS="2",
    )
    return env


class CliError(AssertionError):
    def __init__(self, args, returncode, stdout, stderr):
        super().__init__(
            f"aws {' '.join(args)} exited {returncode}\nstdout: {stdout}\nstderr: {stderr}"
        )
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def run_aws_cli(version, server, *args, region=DEFAULT_REGION, timeout=120):
    """Runs `aws kinesis <args>` (CLI major `version`) against `server`; returns parsed JSON
    output, or None when the command prints nothing. Raises CliError on a non-zero exit."""
    path = aws_clis().get(version)
    if path is None:
        raise unittest.SkipTest(f"AWS CLI v{version} is not installed")
    cmd = [path, "--endpoint-url", server.endpoint, "--region", region, "--output", "json"]
    if version >= 2:
        cmd.append("--no-cli-pager")
    cmd += ["kinesis", *args]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env=_cli_env(region),
        stdin=subprocess.DEVNULL,
    )
    if out.returncode != 0:
        raise CliError(args, out.returncode, out.stdout, out.stderr)
    return json.loads(out.stdout) if out.stdout.strip() else None


# --- the base TestCase ----------------------------------------------------------------------------


class KinesdTestCase(unittest.TestCase):
    """Starts one kinesd per TestCase class (server_args are extra command-line flags)."""

    server_args = ()
    server = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = KinesdServer(*cls.server_args)
        try:
            cls.server.start()
        except BaseException:
            cls.server.close()
            raise
        cls.kinesis = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.close()
        super().tearDownClass()

    # --- helpers --------------------------------------------------------------------------

    def waiter_config(self, seconds=15):
        return {"Delay": 0.1, "MaxAttempts": int(seconds / 0.1)}

    def create_stream(self, shards=1, name=None, client=None, wait=True, **kwargs):
        """Creates a stream (unique name unless given), waits until it is ACTIVE."""
        client = client or self.kinesis
        name = name or unique_name()
        if shards is not None:
            kwargs["ShardCount"] = shards
        client.create_stream(StreamName=name, **kwargs)
        if wait:
            self.wait_active(name, client)
        return name

    def wait_active(self, name, client=None):
        (client or self.kinesis).get_waiter("stream_exists").wait(
            StreamName=name, WaiterConfig=self.waiter_config()
        )

    def wait_gone(self, name, client=None):
        (client or self.kinesis).get_waiter("stream_not_exists").wait(
            StreamName=name, WaiterConfig=self.waiter_config()
        )

    def delete_stream(self, name, client=None):
        client = client or self.kinesis
        client.delete_stream(StreamName=name)
        self.wait_gone(name, client)

    def shards(self, name, client=None):
        """Every shard of the stream, through ListShards with NextToken paging."""
        client = client or self.kinesis
        resp = client.list_shards(StreamName=name)
        shards = list(resp["Shards"])
        while resp.get("NextToken"):
            resp = client.list_shards(NextToken=resp["NextToken"])
            shards += resp["Shards"]
        return shards

    def read_shard(self, name, shard_id, client=None, iterator_type="TRIM_HORIZON",
                   limit=None, max_calls=2000, **iterator_args):
        """Every record from the iterator to the tip of the shard, chaining NextShardIterator
        until a call returns nothing with MillisBehindLatest 0."""
        client = client or self.kinesis
        iterator = client.get_shard_iterator(
            StreamName=name, ShardId=shard_id, ShardIteratorType=iterator_type, **iterator_args
        )["ShardIterator"]
        records = []
        for _ in range(max_calls):
            args = {"ShardIterator": iterator}
            if limit:
                args["Limit"] = limit
            resp = client.get_records(**args)
            records += resp["Records"]
            if not resp["Records"] and resp.get("MillisBehindLatest") == 0:
                return records
            iterator = resp.get("NextShardIterator")
            if iterator is None:  # closed shard, read to its end
                return records
        self.fail(f"shard {shard_id} of {name} not caught up after {max_calls} GetRecords calls")

    def read_stream(self, name, client=None):
        """{ShardId: [records]} for every shard of the stream, from TRIM_HORIZON."""
        return {
            s["ShardId"]: self.read_shard(name, s["ShardId"], client=client)
            for s in self.shards(name, client)
        }

    def assertAwsError(self, code, message=None, contains=()):
        """Context manager: the block raises a botocore ClientError with this error code
        (and this exact message, and/or these fragments in the message)."""
        return _AwsErrorContext(self, code, message, contains)


class _AwsErrorContext:
    def __init__(self, test, code, message, contains):
        self.test = test
        self.code = code
        self.message = message
        self.contains = (contains,) if isinstance(contains, str) else tuple(contains)
        self.exception = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.test.fail(f"expected {self.code}, but the call succeeded")
        if not issubclass(exc_type, botocore.exceptions.ClientError):
            return False
        self.exception = exc
        error = exc.response["Error"]
        codes = (self.code,) if isinstance(self.code, str) else tuple(self.code)
        self.test.assertIn(error["Code"], codes, f"unexpected error: {error}")
        self.test.assertEqual(exc.response["ResponseMetadata"]["HTTPStatusCode"], 400, error)
        if self.message is not None:
            self.test.assertEqual(error["Message"], self.message)
        for fragment in self.contains:
            self.test.assertIn(fragment, error["Message"])
        return True

    @property
    def error(self):
        return self.exception.response["Error"]


def utc(epoch_seconds):
    return datetime.datetime.fromtimestamp(epoch_seconds, tz=datetime.timezone.utc)


# --- HTTP/2, TLS and the AWS SDK for JavaScript v3 ------------------------------------------------

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


def https_endpoint(server, host="localhost"):
    """The https:// endpoint of a server started with --tls on (same port as http://)."""
    return f"https://{host}:{server.port}"


def tls_ca_file(server):
    """The CA a server made for itself (with --tls on and no --tls-cert), to trust."""
    return os.path.join(server.data_dir, "tls", "ca.pem")


def ensure_js_sdk():
    """Installs tests/e2e/js's locked packages (the AWS SDK for JavaScript v3) with `npm ci` when
    they are missing; returns the node executable. Raises SkipTest when node or npm is absent.
    A lock file keeps test files run in parallel from installing at the same time."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise unittest.SkipTest("node and npm are not installed: the AWS SDK for JavaScript tests "
                                "need them (apt-get install nodejs npm)")
    import fcntl

    marker = os.path.join(JS_DIR, "node_modules", "@aws-sdk", "client-kinesis", "package.json")
    with open(os.path.join(tempfile.gettempdir(), "kinesd-e2e-npm.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(marker):
            out = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR,
                capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
            )
            if out.returncode != 0:
                raise RuntimeError(f"npm ci in {JS_DIR} failed:\n{out.stdout}\n{out.stderr}")
    return node


def run_node(script, *args, env=None, timeout=300):
    """Runs tests/e2e/js/<script> with node; returns (returncode, stdout, stderr)."""
    node = ensure_js_sdk()
    full_env = dict(os.environ)
    full_env.update(env or {})
    out = subprocess.run(
        [node, os.path.join(JS_DIR, script), *[str(a) for a in args]], cwd=JS_DIR,
        capture_output=True, text=True, timeout=timeout, env=full_env, stdin=subprocess.DEVNULL,
    )
    return out.returncode, out.stdout, out.stderr


# --- plain HTTP GETs (health, readiness, metrics) -------------------------------------------------


def http_get(port, path, timeout=10):
    """GETs `path` from kinesd on 127.0.0.1:port without credentials; returns a RawResponse."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return RawResponse(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


def wait_ready(port, timeout=START_TIMEOUT_S):
    """Polls GET /_kinesd/ready until it answers 200 (bounded by `timeout`); returns the response."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = http_get(port, "/_kinesd/ready", timeout=2)
            if last.status == 200:
                return last
        except OSError as e:
            last = e
        time.sleep(0.02)  # polling, bounded by the deadline
    raise AssertionError(f"kinesd on port {port} not ready within {timeout} s: {last!r}")
