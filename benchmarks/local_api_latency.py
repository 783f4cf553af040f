"""Local API: how long ``serve`` takes to start, and each operation's latency through it.

Starts ``python -m devicekeys_local serve`` as a developer does (a fresh process, embedded
DynamoDB), several times to time startup: until the health route answers ("ready"), and until
a first real API call (a challenge) has succeeded. Then, on one server, times each operation
over HTTP with the SDK's transport (urllib, one connection per call, as the CLI does): only the
HTTP round trip is timed; keys, tokens and proofs are made beforehand.

    .venv/bin/python benchmarks/local_api_latency.py [--calls 200] [--starts 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(ROOT / "local"),
    str(ROOT / "clients" / "python" / "src"),
]  # a script, not a test: run from a checkout

from devicekeys_client import DeviceKeyPair, DeviceKeysClient  # noqa: E402
from devicekeys_local.issuer import request_token  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(port: int) -> tuple[subprocess.Popen[bytes], float, float]:
    """A fresh ``serve``; returns it with the seconds until ready and until a first API call worked."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:2])}
    command = [sys.executable, "-m", "devicekeys_local", "serve", "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = started + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}")
        if time.perf_counter() > deadline:
            stop(process)
            raise RuntimeError("serve was not ready within 60 s")
        try:
            with urllib.request.urlopen(url + "/_local/health", timeout=5):  # noqa: S310 - http only
                break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.01)
    ready = time.perf_counter() - started
    try:
        DeviceKeysClient(url).issue_challenge("warm-up", "verify")
    except Exception:
        stop(process)
        raise
    first_call = time.perf_counter() - started
    return process, ready, first_call


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure_operations(url: str, calls: int) -> dict[str, list[float]]:
    """Milliseconds per call, per operation: ``calls`` users, each with one device, through their lifecycle."""
    admin = DeviceKeysClient(url, request_token(url, "bench-admin", ["device-keys/admin"]))
    anonymous = DeviceKeysClient(url)
    users = [f"bench-{index}" for index in range(calls)]
    devices = [DeviceKeyPair.generate("ES256") for _ in users]
    samples: dict[str, list[float]] = {name: [] for name in ("health (floor)", "challenge", "register", "verify")}

    health = urllib.request.Request(url + "/_local/health")  # noqa: S310 - http only

    def floor() -> None:
        with urllib.request.urlopen(health, timeout=10) as response:  # noqa: S310 - http only
            response.read()

    for _ in users:
        samples["health (floor)"].append(timed(floor))
    for user in users:
        samples["challenge"].append(timed(lambda user=user: anonymous.issue_challenge(user, "verify")))
    for user, device in zip(users, devices, strict=True):
        challenge = anonymous.issue_challenge(user, "register").challenge
        proof = device.proof(challenge=challenge, user_id=user, purpose="register")
        samples["register"].append(timed(lambda user=user, proof=proof: admin.register_proof(user, proof)))
    for user, device in zip(users, devices, strict=True):
        challenge = anonymous.issue_challenge(user, "verify").challenge
        proof = device.proof(challenge=challenge, user_id=user, purpose="verify")
        samples["verify"].append(timed(lambda user=user, proof=proof: anonymous.verify_proof(user, proof)))
    lifecycle: dict[str, Callable[[str, str], Any]] = {
        "get": admin.get,
        "list": lambda user, key_id: admin.list(user),
        "update": lambda user, key_id: admin.rename(user, key_id, "benchmark"),
        "block": admin.block,
        "unblock": admin.unblock,
        "delete": admin.delete,
    }
    for name, operation in lifecycle.items():
        samples[name] = [
            timed(lambda user=user, key_id=device.key_id, op=operation: op(user, key_id))
            for user, device in zip(users, devices, strict=True)
        ]
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per operation (default: 200)")
    parser.add_argument("--starts", type=int, default=5, help="fresh starts to time (default: 5)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    readiness, first_calls = [], []
    for _ in range(args.starts):
        process, ready, first_call = start(free_port())
        readiness.append(ready)
        first_calls.append(first_call)
        stop(process)
    print(f"serve startup over {args.starts} starts (python {platform.python_version()}, {platform.machine()})")
    print(f"  ready (health answers):      median {statistics.median(readiness):.2f} s, max {max(readiness):.2f} s")
    print(f"  first API call answered:     median {statistics.median(first_calls):.2f} s, max {max(first_calls):.2f} s")

    port = free_port()
    process, _, _ = start(port)
    try:
        samples = measure_operations(f"http://127.0.0.1:{port}", args.calls)
    finally:
        stop(process)
    print(f"\nlatency through the local API, {args.calls} calls each (ms)")
    print(f"  {'operation':<16}{'median':>8}{'p95':>8}{'max':>8}")
    results = {}
    for name, values in samples.items():
        results[name] = {
            "median_ms": statistics.median(values),
            "p95_ms": percentile(values, 0.95),
            "calls": len(values),
        }
        print(f"  {name:<16}{statistics.median(values):>8.2f}{percentile(values, 0.95):>8.2f}{max(values):>8.2f}")
    if args.json:
        startup = {
            "ready_median_s": statistics.median(readiness),
            "first_call_median_s": statistics.median(first_calls),
        }
        args.json.write_text(json.dumps({"startup": startup, "operations": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
