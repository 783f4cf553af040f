"""Schema-driven fuzzing: schemathesis generates requests from the served OpenAPI document and
sends them to the local API over HTTP, both requests the schema allows and requests it does not
(negative mode: wrong types, unknown fields, out-of-range values, NUL bytes). No response may be a
5xx; every error must have the documented shape and a documented code for its status; every
success must match the response schema the document gives for it."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import schemathesis
from devicekeys.errors import ERROR_STATUS
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from .conftest import LocalApi

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api_schema(local_api: LocalApi) -> Any:
    schema = schemathesis.openapi.from_url(f"{local_api.url}/openapi.json").include(path_regex="^/v1/")
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_x00=True)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_never_get_a_5xx_or_an_undocumented_answer(case: Any, local_api: LocalApi) -> None:
    # alternate an admin token, a user's own token and none, so every authorization branch runs
    caller = hash(str(case.path_parameters) + str(case.body)) % 3
    headers = {}
    if caller < 2:
        subject = "fuzz-admin" if caller == 0 else str((case.path_parameters or {}).get("user_id", "fuzz"))
        headers["Authorization"] = f"Bearer {local_api.token(subject, admin=caller == 0)}"
    response = case.call(headers=headers)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    if not response.content:
        return
    body = response.json()
    if response.status_code < 400:
        assert_matches_documented_response(case, response.status_code, body)
        return
    if body in ({"message": "Unauthorized"}, {"message": "Not Found"}):
        return  # API Gateway's own answers (authorizer, unknown route), before any function runs
    if body == {"message": "Forbidden"}:  # a Lambda authorizer's refusal: only where the document says so
        assert_matches_documented_response(case, response.status_code, body)
        return
    assert set(body) == {"error", "request_id"}, body
    assert ERROR_STATUS[body["error"]["code"]] == response.status_code, body


def assert_matches_documented_response(case: Any, status: int, body: Any) -> None:
    document = case.operation.schema.raw_schema
    operation = document["paths"][case.path][case.method.lower()]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": document["components"]}).validate(body)
