"""What every benchmark shares: paths, the fake AWS environment, a local DynamoDB, statistics.

The local DynamoDB is moto's server in its own process, reached over HTTP like the real one,
so the benchmarked process pays for its own work only (not moto's) and several processes
(cold starts, the memory run) can share one set of tables.
"""

from __future__ import annotations

import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER_DIR = ROOT / "layers" / "devicekeys"
FUNCTIONS_DIR = ROOT / "functions"
RESULTS_DIR = ROOT / "benchmarks" / "results"
# Importable the way pytest sees the project (pyproject's pythonpath): layer, local tools, client.
PROJECT_PATHS = [LAYER_DIR, ROOT / "local", ROOT / "clients" / "python" / "src"]

TABLE_NAMES = {
    "DeviceKeysTable": "bench-device-keys",
    "ChallengesTable": "bench-challenges",
    "PublishedEventsTable": "bench-published-events",  # the stream publisher's idempotency records
}
REGION = "us-east-1"


def lambda_environment(endpoint: str | None = None) -> dict[str, str]:
    """The variables a deployed function sees (template.yaml Globals), with fake credentials."""
    env = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "DEVICE_KEYS_TABLE": TABLE_NAMES["DeviceKeysTable"],
        "CHALLENGES_TABLE": TABLE_NAMES["ChallengesTable"],
        "CHALLENGE_TTL_SECONDS": "600",
        "CLOCK_SKEW_SECONDS": "60",
        # Benchmarks register hundreds of keys for few users; the limit is not what is measured.
        "MAX_DEVICES_PER_USER": "1000",
        "ADMIN_SCOPE": "device-keys/admin",
        "POWERTOOLS_SERVICE_NAME": "devicekeys",
        "POWERTOOLS_METRICS_NAMESPACE": "DeviceKeysBench",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        # EventPublisherFunction's own variables: its module refuses to load without a bus.
        "EVENT_BUS_NAME": "bench-device-keys",
        "PUBLISHED_EVENTS_TABLE": TABLE_NAMES["PublishedEventsTable"],
    }
    if endpoint:
        env["DYNAMODB_ENDPOINT"] = endpoint
    return env


def use_project_paths() -> None:
    """Make the layer, the local tools and the client importable in this process."""
    for path in reversed(PROJECT_PATHS):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


# --- statistics -----------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: with 200 samples, p99 is the 198th smallest."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Summary:
    n: int
    median: float
    p99: float
    mean: float
    minimum: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        return cls(
            n=len(values),
            median=statistics.median(values),
            p99=percentile(values, 0.99),
            mean=statistics.fmean(values),
            minimum=min(values),
        )

    def to_dict(self, digits: int = 3) -> dict[str, float | int]:
        return {
            "n": self.n,
            "median": round(self.median, digits),
            "p99": round(self.p99, digits),
            "mean": round(self.mean, digits),
            "min": round(self.minimum, digits),
        }


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


# --- the local DynamoDB ---------------------------------------------------------------

# DynamoDB applies each request atomically; moto's threads can interleave two (a retried
# transaction with the attempt still running), so requests are serialised as the local API does.
_SERVER = """
import sys
sys.path.insert(0, sys.argv[2])
from devicekeys_local.atomic_moto import make_dynamodb_requests_atomic
from moto.server import ThreadedMotoServer
make_dynamodb_requests_atomic()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
print("ready", flush=True)
sys.stdin.read()  # until the parent closes our stdin
server.stop()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_dynamodb(python: str = sys.executable) -> Iterator[str]:
    """moto's DynamoDB on 127.0.0.1 in a child process, with the template's tables; yields its URL."""
    port = free_port()
    env = {**os.environ, **lambda_environment()}
    proc = subprocess.Popen(
        [python, "-c", _SERVER, str(port), str(ROOT / "local")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("moto server did not start")
        endpoint = f"http://127.0.0.1:{port}"
        create_tables(endpoint)
        yield endpoint
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def dynamodb_client(endpoint: str) -> Any:
    """A plain boto3 client for the local DynamoDB (the floor's, and the table creator's)."""
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
    )


class _WithoutStreams:
    """A client whose ``create_table`` leaves the stream out.

    moto makes a cancelled transaction undoable by deep-copying every table it touches, stream
    records included, before each TransactWriteItems: with the template's stream on, every
    register, delete and rotate got slower as the benchmark wrote (delete ~17 ms -> ~200 ms
    after a few thousand writes). DynamoDB's latency does not depend on its stream, and no
    benchmark reads it.
    """

    def __init__(self, client: Any) -> None:
        self._client = client

    def create_table(self, **spec: Any) -> Any:
        spec.pop("StreamSpecification", None)
        return self._client.create_table(**spec)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def create_tables(endpoint: str) -> None:
    use_project_paths()
    from devicekeys_local.template import create_tables as create_template_tables

    create_template_tables(_WithoutStreams(dynamodb_client(endpoint)), TABLE_NAMES)


# --- output ---------------------------------------------------------------------------


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def run_json(command: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 600) -> Any:
    """Run a child that prints one JSON document as its last stdout line; return that document."""
    completed = subprocess.run(
        list(command), capture_output=True, text=True, env=env, timeout=timeout, check=False, cwd=ROOT
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(
            f"{command[0]} failed ({completed.returncode}): {completed.stderr[-2000:] or completed.stdout[-2000:]}"
        )
    return json.loads(lines[-1])
