"""What a handler's cold start must not import (docs/protocol.md section 12: at most 1.5x ``import boto3``).

Each function is imported in a fresh interpreter, as Lambda imports it (its directory, then the
layer, on ``sys.path``), and then serves one HTTP request that matches no route (no store is
needed for it). The modules below are heavy and not needed there; a test fails when someone
imports one again at module level. No timing here: the benchmark (``benchmarks/``) measures.

- ``aws_lambda_powertools.event_handler``: its ``__init__`` imports every resolver, AppSync's
  pulls in ``asyncio`` (devicekeys.http_routes replaces the resolver);
- ``aws_lambda_powertools.utilities.data_classes``: ~40 event classes for one
  (devicekeys.http_routes reads the event itself);
- ``fastjsonschema``: imported on the first body that is validated (devicekeys.inputs);
- ``pydantic``, ``jsonschema``: not used; Powertools' validation would bring pydantic;
- ``joserfc``, ``cryptography``: only the functions that check proofs need them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "devicekeys"
FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))

NEVER = ("aws_lambda_powertools.event_handler", "asyncio", "pydantic", "jsonschema")
NOT_FOR_HTTP = ("aws_lambda_powertools.utilities.data_classes", "fastjsonschema")
PROOF_LIBRARIES = ("joserfc", "cryptography")
DEVICE_KEY_FUNCTIONS = {
    "issue_challenge",
    "register_device_key",
    "verify_device_key",
    "rotate_device_key",
    "get_device_key",
    "list_device_keys",
    "update_device_key",
    "block_device_key",
    "unblock_device_key",
    "delete_device_key",
    "start_journey",
}
PROOF_FUNCTIONS = {"register_device_key", "verify_device_key", "rotate_device_key"}
# Bound sessions issue credentials with one KMS Sign: only the functions that check a browser's
# JWT (register, refresh) import the JOSE library at cold start; verifying a credential (the
# authorizer, a logout) imports it on that first use.
BOUND_SESSION_FUNCTIONS = {name for name in FUNCTIONS if "bound_session" in name} - {
    "register_bound_session",
    "refresh_bound_session",
}
# The stream consumer is no HTTP function: Powertools' batch utility imports its async processor.
NOT_HTTP = {"publish_events"}

CHILD = r"""
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
imported = {"import": sorted(sys.modules)}
if hasattr(app, "app"):
    class Context:
        function_name = "cold-imports"; memory_limit_in_mb = 256; function_version = "$LATEST"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cold-imports"
        aws_request_id = "00000000-0000-0000-0000-000000000000"
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": "/no/such/route", "rawQueryString": "",
        "headers": {}, "isBase64Encoded": False,
        "requestContext": {"http": {"method": "GET", "path": "/no/such/route"}, "requestId": "r", "stage": "$default"},
    }
    response = app.lambda_handler(event, Context())
    imported["status"] = response["statusCode"]
    imported["invoked"] = sorted(sys.modules)
print(json.dumps(imported))
"""


def cold_start(function: str) -> dict[str, list[str]]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "DEVICE_KEYS_TABLE": "cold-device-keys",
        "CHALLENGES_TABLE": "cold-challenges",
        "EVENT_BUS_NAME": "cold-bus",
        "PUBLISHED_EVENTS_TABLE": "cold-published",
        "POWERTOOLS_SERVICE_NAME": "devicekeys",
        "POWERTOOLS_METRICS_NAMESPACE": "DeviceKeysTest",
        "DYNAMODB_ENDPOINT": "http://127.0.0.1:9",  # never reached: no route matches
    }
    completed = subprocess.run(  # noqa: S603 - this interpreter, the repository's own files
        [sys.executable, "-I", "-c", CHILD, str(ROOT / "functions" / function), str(LAYER)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, list[str]] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def loaded(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return sorted({p for p in packages for m in modules if m == p or m.startswith(p + ".")})


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_cold_start_imports_nothing_it_does_not_need(function):
    result = cold_start(function)
    forbidden = NEVER if function in NOT_HTTP else NEVER + NOT_FOR_HTTP
    if function in DEVICE_KEY_FUNCTIONS - PROOF_FUNCTIONS:
        forbidden += PROOF_LIBRARIES
    if function in NOT_HTTP:
        forbidden = tuple(p for p in forbidden if p != "asyncio")
    assert loaded(result["import"], forbidden) == [], f"{function} imports them at module level"
    if function in BOUND_SESSION_FUNCTIONS:
        assert loaded(result["import"], ("joserfc",)) == [], f"{function} imports joserfc at module level"
    if "invoked" in result:
        assert result["status"] == 404
        assert loaded(result["invoked"], forbidden) == [], f"{function} imports them serving a request"


def test_the_proof_functions_do_load_the_proof_libraries():
    """The guard above is not vacuous: the modules are seen when they are imported."""
    result = cold_start("verify_device_key")
    assert loaded(result["import"], PROOF_LIBRARIES) == ["cryptography", "joserfc"]
    assert "devicekeys.http_routes" in result["import"]
