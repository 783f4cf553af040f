"""The sample events in events/ stay valid: each reaches its function's route and gets a documented answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from devicekeys.errors import DeviceKeysError
from devicekeys_local.events import LambdaContext
from devicekeys_local.functions import LocalFunctions

EVENTS = Path(__file__).resolve().parents[1] / "events"
FUNCTIONS = LocalFunctions()
# The device-key functions (HTTP and direct); the journey starter's samples live in events/journeys.
BY_DIR = {
    fn.code_dir.name: fn
    for fn in FUNCTIONS.definitions.values()
    if fn.routes and all(route.path.startswith("/v1/users/") for route in fn.routes)
}

# What a valid sample may still be refused with on an empty table: a refusal by the domain, not a
# shape error (invalid_request) or a failure.
SAMPLE_REFUSALS = {"invalid_proof", "challenge_not_found", "device_not_found"}


@pytest.mark.parametrize("name", sorted(BY_DIR))
def test_each_function_has_an_http_and_a_direct_sample_event(name: str) -> None:
    assert (EVENTS / "http" / f"{name}.json").is_file()
    assert (EVENTS / "direct" / f"{name}.json").is_file()


@pytest.mark.parametrize("name", sorted(BY_DIR))
def test_the_http_sample_matches_a_template_route_and_gets_a_documented_answer(name: str, dynamodb: Any) -> None:
    fn = BY_DIR[name]
    event = json.loads((EVENTS / "http" / f"{name}.json").read_text())
    assert event["routeKey"] in {f"{route.method} {route.path}" for route in fn.routes}
    response = FUNCTIONS.handler(fn.logical_id)(event, LambdaContext(function_name=fn.logical_id))
    body = json.loads(response["body"]) if response.get("body") else None
    # on an empty table: challenges succeed; the samples' proofs were signed long ago (their iat is
    # outside the clock skew); key operations meet an unknown key
    assert response["statusCode"] in (200, 201, 204, 401, 404), body
    if response["statusCode"] >= 400:
        assert body["error"]["code"] in SAMPLE_REFUSALS


@pytest.mark.parametrize("name", sorted(BY_DIR))
def test_the_direct_sample_is_accepted_as_input(name: str, dynamodb: Any) -> None:
    fn = BY_DIR[name]
    document = json.loads((EVENTS / "direct" / f"{name}.json").read_text())
    try:
        outcome: Any = FUNCTIONS.invoke_direct(fn.logical_id, document)
    except DeviceKeysError as exc:
        outcome = exc.code
    assert isinstance(outcome, dict) or outcome in SAMPLE_REFUSALS, outcome
