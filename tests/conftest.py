"""Shared fixtures: a moto DynamoDB built from template.yaml, the functions, and real device keys."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

# Settings are read when a function module is imported (its cold start): set them first.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "DEVICE_KEYS_TABLE": "test-device-keys",
        "CHALLENGES_TABLE": "test-challenges",
        "POWERTOOLS_SERVICE_NAME": "devicekeys",
        "POWERTOOLS_METRICS_NAMESPACE": "DeviceKeysTest",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "EVENT_BUS_NAME": "test-device-key-events",
        "PUBLISHED_EVENTS_TABLE": "test-published-events",
        # Bound sessions sign with this KMS key (tests/bound_session_helpers.py makes it per test).
        "DBSC_SIGNING_KEY_ID": "alias/test-dbsc-signing",
    }
)

from devicekeys_client import DeviceKeyPair
from devicekeys_local.atomic_moto import atomic_dynamodb_requests
from devicekeys_local.events import caller_claims
from devicekeys_local.functions import LocalFunctions
from devicekeys_local.issuer import Authorization, token_scopes
from devicekeys_local.template import create_tables
from moto import mock_aws

TABLE_NAMES = {
    "DeviceKeysTable": "test-device-keys",
    "ChallengesTable": "test-challenges",
    "PublishedEventsTable": "test-published-events",
}
pytest_plugins = ["iam_policies"]
_deselected: list[bool] = []


def pytest_deselected(items: list[pytest.Item]) -> None:
    _deselected.append(True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session when a function's AWS calls and its IAM policies disagree (tests/iam_policies.py)."""
    from iam_policies import policy_problems

    if exitstatus != 0 or session.config.option.collectonly or hasattr(session.config, "workerinput"):
        return
    root = Path(session.config.rootpath)
    whole_suite = not _deselected and {(root / arg).resolve() for arg in session.config.args} <= {
        (root / "tests").resolve(),
        root.resolve(),
    }
    problems = policy_problems(whole_suite=whole_suite)
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_sep("=", "IAM policies that do not match what the functions do", red=True)
            for problem in problems:
                reporter.write_line(problem)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """A fresh in-process DynamoDB with the template's tables, each request atomic as in DynamoDB."""
    with mock_aws(), atomic_dynamodb_requests():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, TABLE_NAMES)
        yield client


_FUNCTIONS = LocalFunctions()


@pytest.fixture(scope="session")
def functions() -> LocalFunctions:
    return _FUNCTIONS


@dataclass
class HttpResult:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error_code(self) -> str | None:
        return self.body["error"]["code"] if isinstance(self.body, dict) and "error" in self.body else None


class Api:
    """Calls the functions as API Gateway would, with the JWT authorizer's claims for ``as_user``."""

    def __init__(self, functions: LocalFunctions) -> None:
        self.functions = functions

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        as_user: str | None = None,
        admin: bool = False,
        query: dict[str, str] | None = None,
        raw_body: bytes | None = None,
        headers: dict[str, str] | None = None,
        authorization: Authorization | None = None,
    ) -> HttpResult:
        """Call a route as API Gateway would: for ``as_user``, or with a token's ``authorization``."""
        match = self.functions.match(method, path)
        assert match is not None, f"no route for {method} {path}"
        if raw_body is None and body is not None:
            raw_body = json.dumps(body).encode()
        if authorization is None and as_user is not None:
            claims = caller_claims(as_user, admin=admin)
            authorization = Authorization(claims=claims, scopes=token_scopes(claims))
        response = self.functions.invoke_http(
            match,
            raw_path=path,
            query=query,
            headers={"content-type": "application/json", **(headers or {})},
            body=raw_body,
            claims=authorization.claims if authorization else None,
            scopes=authorization.scopes if authorization else None,
        )
        text = response.get("body")
        return HttpResult(
            status=response["statusCode"],
            body=json.loads(text) if text else None,
            headers=response.get("headers") or {},
        )

    # The protocol, step by step, as a device and its app would drive it.
    def challenge(self, user_id: str, purpose: str, **auth: Any) -> str:
        result = self.call("POST", f"/v1/users/{user_id}/device-keys/challenges", {"purpose": purpose}, **auth)
        assert result.status == 201, result.body
        return str(result.body["challenge"])

    def register(self, user_id: str, device: DeviceKeyPair, **extra: Any) -> HttpResult:
        challenge = self.challenge(user_id, "register")
        proof = device.proof(challenge=challenge, user_id=user_id, purpose="register")
        return self.call("POST", f"/v1/users/{user_id}/device-keys", {"proof": proof, **extra}, as_user=user_id)

    def verify(self, user_id: str, device: DeviceKeyPair) -> HttpResult:
        challenge = self.challenge(user_id, "verify")
        proof = device.proof(challenge=challenge, user_id=user_id, purpose="verify")
        return self.call("POST", f"/v1/users/{user_id}/device-keys/verify", {"proof": proof})


@pytest.fixture
def api(dynamodb: Any, functions: LocalFunctions) -> Api:
    return Api(functions)


ALGORITHMS = ["ES256", "ES384", "Ed25519", "EdDSA", "RS256", "PS256"]
_KEY_CACHE: dict[str, DeviceKeyPair] = {}


def device_for(alg: str, slot: int = 0) -> DeviceKeyPair:
    """A real key pair per algorithm and slot, generated once per session (RSA is slow to make)."""
    name = f"{alg}:{slot}"
    if name not in _KEY_CACHE:
        _KEY_CACHE[name] = DeviceKeyPair.generate(alg)
    return _KEY_CACHE[name]


@pytest.fixture
def device() -> DeviceKeyPair:
    return device_for("ES256")
