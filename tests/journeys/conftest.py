"""Journeys executed from their real ASL by moto's Step Functions, against the real handlers.

This directory is a package (``__init__.py``) so this conftest does not shadow ``tests/conftest.py``
for the ``from conftest import ...`` the other test modules use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from devicekeys.errors import ERROR_STATUS
from devicekeys_client import DeviceKeyPair
from devicekeys_local.asl import state_names
from devicekeys_local.functions import LocalFunctions
from devicekeys_local.journeys import JourneyExecution, LambdaRouter, LocalJourneys, journey_definitions
from devicekeys_local.openapi import journey_outcome_schema, response_schemas

CHALLENGES_TABLE = "test-challenges"
_ASL = {journey.name: json.loads(journey.definition_path.read_text()) for journey in journey_definitions()}
_RESPONSES = response_schemas()


def lambda_throttled() -> Exception:
    """What Lambda answers when it throttles an invocation: the state machine sees Lambda.TooManyRequestsException."""
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError("TooManyRequestsException", "Rate exceeded")
    error.code = 429
    return error


class Journeys:
    """Runs journeys and sets the scene for them: challenges, proofs and keys made the real way."""

    def __init__(self, local: LocalJourneys, functions: LocalFunctions, dynamodb: Any) -> None:
        self.local = local
        self.functions = functions
        self.dynamodb = dynamodb

    @property
    def router(self) -> LambdaRouter:
        return self.local.router

    def run(self, journey: str, document: dict[str, Any]) -> JourneyExecution:
        return self.local.run(journey, document)

    def succeeded(self, journey: str, document: dict[str, Any]) -> dict[str, Any]:
        """Run ``journey`` and return its output, asserting the execution succeeded."""
        execution = self.run(journey, document)
        assert execution.status == "SUCCEEDED", execution
        assert isinstance(execution.output, dict)
        return execution.output

    # --- the device's side of the protocol, through the functions' direct invocations ---

    def challenge(self, user_id: str, purpose: str) -> str:
        issued = self.functions.invoke_direct("IssueChallengeFunction", {"user_id": user_id, "purpose": purpose})
        return str(issued["challenge"])

    def verify_proof(self, user_id: str, device: DeviceKeyPair, **options: Any) -> str:
        challenge = self.challenge(user_id, "verify")
        return device.proof(challenge=challenge, user_id=user_id, purpose="verify", **options)

    def register_proof(self, user_id: str, device: DeviceKeyPair, **options: Any) -> str:
        challenge = self.challenge(user_id, "register")
        return device.proof(challenge=challenge, user_id=user_id, purpose="register", **options)

    def register(self, user_id: str, device: DeviceKeyPair, **fields: Any) -> dict[str, Any]:
        """Register ``device`` outside any journey, to set the scene."""
        proof = self.register_proof(user_id, device)
        document = {"user_id": user_id, "proof": proof, **fields}
        return dict(self.functions.invoke_direct("RegisterDeviceKeyFunction", document))

    def block(self, user_id: str, device: DeviceKeyPair) -> None:
        self.functions.invoke_direct("BlockDeviceKeyFunction", {"user_id": user_id, "key_id": device.key_id})

    def delete(self, user_id: str, key_id: str) -> None:
        self.functions.invoke_direct("DeleteDeviceKeyFunction", {"user_id": user_id, "key_id": key_id})

    def record(self, user_id: str, device: DeviceKeyPair) -> dict[str, Any]:
        return dict(self.functions.invoke_direct("GetDeviceKeyFunction", {"user_id": user_id, "key_id": device.key_id}))

    def key_ids(self, user_id: str) -> list[str]:
        page = self.functions.invoke_direct("ListDeviceKeysFunction", {"user_id": user_id})
        return sorted(key["key_id"] for key in page["device_keys"])

    def expire(self, challenge: str) -> None:
        """Age a challenge past its lifetime, as if the device answered too late (TTL has not run yet)."""
        raw = base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4))
        key = base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).rstrip(b"=").decode()
        self.dynamodb.update_item(
            TableName=CHALLENGES_TABLE,
            Key={"challenge_hash": {"S": key}},
            UpdateExpression="SET expires_at = :t",
            ConditionExpression="attribute_exists(challenge_hash)",
            ExpressionAttributeValues={":t": {"N": str(int(time.time()) - 1)}},
        )

    def calls_to(self, logical_id: str) -> int:
        return sum(1 for called, _ in self.router.calls if called == logical_id)


def assert_documented_outcome(journey: str, output: Any) -> None:
    """The output is one of the outcomes the OpenAPI document derives from the journey's ASL."""
    schema = {**journey_outcome_schema(_ASL[journey]), "components": {"schemas": _RESPONSES}}
    jsonschema.Draft202012Validator(schema).validate(output)
    reason = output.get("reason")
    assert reason is None or reason in ERROR_STATUS or reason == "no_device_proof", reason


@contextmanager
def running_journeys(functions: LocalFunctions, dynamodb: Any) -> Iterator[Journeys]:
    """The template's state machines, run by moto inside the test's DynamoDB mock; their paths are recorded.

    Every execution that succeeded must also have answered a documented outcome.
    """
    with LocalJourneys(functions) as local:
        try:
            yield Journeys(local, functions, dynamodb)
        finally:
            for name, execution in local.executions:
                ENTERED[name].update(execution.states)
            for name, execution in local.executions:
                if execution.status == "SUCCEEDED":
                    assert_documented_outcome(name, execution.output)


@pytest.fixture
def journeys(dynamodb: Any, functions: LocalFunctions) -> Iterator[Journeys]:
    with running_journeys(functions, dynamodb) as running:
        yield running


# --- every branch taken: a run of this whole directory must enter every state of every journey ---

ENTERED: dict[str, set[str]] = defaultdict(set)
_HERE = Path(__file__).resolve().parent
_deselected: list[bool] = []


def pytest_deselected(items: list[pytest.Item]) -> None:
    if any(_HERE in Path(item.path).resolve().parents for item in items):
        _deselected.append(True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session when every journey test ran and passed, yet some state was never entered."""
    if exitstatus != 0 or _deselected or session.config.option.collectonly or hasattr(session.config, "workerinput"):
        return
    ran = {Path(item.path).resolve() for item in session.items}
    if not all(path.resolve() in ran for path in _HERE.glob("test_*.py")):
        return
    never = {
        journey.name: sorted(state_names(json.loads(journey.definition_path.read_text())) - ENTERED[journey.name])
        for journey in journey_definitions()
    }
    never = {name: states for name, states in never.items() if states}
    if never:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_sep("=", "journey states no test entered", red=True)
            for name, states in sorted(never.items()):
                reporter.write_line(f"{name}: {', '.join(states)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
