"""The local API started as a developer starts it (``python -m devicekeys_local serve``), driven over HTTP.

One server runs for the whole session, with a short challenge lifetime and a small device limit
so expiry and the limit can be exercised; tests that need their own server (restarts, another
DynamoDB) start one with ``start_server``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from devicekeys_client import DeviceKeyPair, DeviceKeysClient
from devicekeys_local.events import ADMIN_SCOPE
from devicekeys_local.issuer import request_token

ROOT = Path(__file__).resolve().parents[2]
CHALLENGE_TTL = 10  # the template's minimum
MAX_DEVICES = 3
TTL_SWEEP_SECONDS = 1  # the local stand-in for DynamoDB's TTL, fast enough to watch


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a developer's shell in the repository: the packages importable, nothing else set up."""
    paths = [str(ROOT / "local"), str(ROOT / "clients" / "python" / "src")]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONUNBUFFERED": "1", **extra}


@dataclass
class LocalServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/_local/health", timeout=5) as response:  # noqa: S310
            return dict(json.load(response))

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Stop as Ctrl-C does; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"the local API did not stop on signal {sig}:\n{self.output()}")
        return self.process.returncode


_STARTED: list[LocalServer] = []


@pytest.fixture(scope="session", autouse=True)
def _no_server_outlives_the_session() -> Iterator[None]:
    """A test that fails half-way must not leave a server running after pytest exits."""
    yield
    for server in _STARTED:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def start_server(log_dir: Path, *args: str, port: int | None = None, timeout: float = 30.0) -> LocalServer:
    """Run ``python -m devicekeys_local serve`` and wait until it answers."""
    port = port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"server-{port}-{uuid.uuid4().hex[:6]}.log"
    command = [sys.executable, "-m", "devicekeys_local", "serve", "--port", str(port), *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=subprocess_env())  # noqa: S603
    server = LocalServer(f"http://127.0.0.1:{port}", port, process, log_path)
    _STARTED.append(server)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the local API exited with {process.returncode}:\n{server.output()}")
        try:
            server.health()
            return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    server.stop()
    pytest.fail(f"the local API was not ready within {timeout}s:\n{server.output()}")


@dataclass
class StaleChallenge:
    """A verify challenge issued as the session started: expired by the time the last tests run."""

    user_id: str
    challenge: str
    issued_at: float


@dataclass
class LocalApi:
    server: LocalServer
    state_dir: Path
    stale_challenge: StaleChallenge

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, subject: str, *, admin: bool = False, lifetime: int = 3600) -> str:
        return request_token(self.url, subject, [ADMIN_SCOPE] if admin else [], lifetime)

    def client(self, subject: str | None = None, *, admin: bool = False) -> DeviceKeysClient:
        """A client with a token for ``subject`` (no token when None)."""
        return DeviceKeysClient(self.url, self.token(subject, admin=admin) if subject else None)


def http(
    local_api: LocalApi,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
    raw: bytes | None = None,
) -> tuple[int, dict[str, str], Any]:
    """A plain HTTP call: status, headers (lowercased) and the parsed JSON body (None if empty)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(local_api.url + path, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status, header_items, payload = response.status, response.headers.items(), response.read()
    except urllib.error.HTTPError as error:
        status, header_items, payload = error.code, error.headers.items(), error.read()
    return status, {k.lower(): v for k, v in header_items}, json.loads(payload) if payload else None


@pytest.fixture(scope="session")
def local_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    state_dir = tmp_path_factory.mktemp("state")
    server = start_server(
        tmp_path_factory.mktemp("logs"),
        "--state-dir",
        str(state_dir),
        "--ttl-sweep-seconds",
        str(TTL_SWEEP_SECONDS),
        "--parameter-overrides",
        f"ChallengeTtlSeconds={CHALLENGE_TTL}",
        f"MaxDevicesPerUser={MAX_DEVICES}",
    )
    try:
        user = f"stale-{uuid.uuid4().hex[:8]}"
        challenge = DeviceKeysClient(server.url).issue_challenge(user, "verify").challenge
        yield LocalApi(server, state_dir, StaleChallenge(user, challenge, time.monotonic()))
    finally:
        status = server.stop()
    assert status == 0, server.output()


@pytest.fixture
def new_user() -> Callable[[], str]:
    """Fresh user ids, so tests sharing the session's server never see each other's keys."""
    return lambda: f"user-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def user_id(new_user: Callable[[], str]) -> str:
    return new_user()


@pytest.fixture
def device() -> DeviceKeyPair:
    return DeviceKeyPair.generate("ES256")
