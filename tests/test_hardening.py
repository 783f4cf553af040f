"""Hostile input, injected storage faults and limits: never a 500, never partial state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from conftest import Api, HttpResult, device_for
from devicekeys.errors import ERROR_STATUS as DOCUMENTED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = "/v1/users/alice/device-keys"


def assert_documented(result: HttpResult) -> None:
    assert result.status < 500, result.body
    if result.status >= 400:
        assert set(result.body) == {"error", "request_id"}, result.body
        assert set(result.body["error"]) == {"code", "message"}
        assert DOCUMENTED[result.body["error"]["code"]] == result.status


def assert_storage_holds_only_text(dynamodb: Any) -> None:
    """Every string DynamoDB holds could be written as UTF-8: nothing a client sent got past the rules."""
    for item in table_items(dynamodb):
        for attribute in item.values():
            for value in attribute.values():
                if isinstance(value, str):
                    value.encode("utf-8")
                    assert "\x00" not in value


def table_items(dynamodb: Any) -> list[Any]:
    return sorted(
        (item for table in ("test-device-keys", "test-challenges") for item in dynamodb.scan(TableName=table)["Items"]),
        key=str,
    )


# --- hostile input ------------------------------------------------------------------------------

# Any text a client can put in JSON, lone surrogates and NUL included (json.dumps escapes them),
# and any float, NaN and the infinities included (json.dumps writes NaN and Infinity).
any_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "proof": any_text | json_values,
            "purpose": st.sampled_from(["register", "verify", "", "x"]) | json_values,
            "display_name": any_text | json_values,
            "custom_data": json_values,
            "reason": any_text | json_values,
        },
    ).map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
)
segments = st.one_of(
    st.just("alice"),
    st.just("me"),
    st.text(alphabet=st.characters(blacklist_characters="/?#"), min_size=1, max_size=140).map(
        lambda text: text.encode("utf-8", "surrogatepass").hex() if not text.isprintable() else text
    ),
)
ROUTES = [
    ("POST", "/v1/users/{u}/device-keys/challenges"),
    ("POST", "/v1/users/{u}/device-keys"),
    ("POST", "/v1/users/{u}/device-keys/verify"),
    ("GET", "/v1/users/{u}/device-keys"),
    ("GET", "/v1/users/{u}/device-keys/{k}"),
    ("PATCH", "/v1/users/{u}/device-keys/{k}"),
    ("DELETE", "/v1/users/{u}/device-keys/{k}"),
    ("POST", "/v1/users/{u}/device-keys/{k}/block"),
    ("POST", "/v1/users/{u}/device-keys/{k}/unblock"),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(ROUTES),
    user=segments,
    key=segments | st.just("A" * 43),
    body=bodies,
    caller=st.sampled_from([None, "alice", "mallory", "admin"]),
    query=st.dictionaries(st.sampled_from(["status", "limit", "next_token", "x"]), st.text(max_size=20), max_size=3),
)
def test_no_body_path_or_query_yields_a_5xx_or_an_undocumented_error(
    api: Api,
    dynamodb: Any,
    route: tuple[str, str],
    user: str,
    key: str,
    body: bytes,
    caller: str | None,
    query: dict[str, str],
) -> None:
    method, template = route
    path = template.format(u=user, k=key)
    if api.functions.match(method, path) is None:
        return  # API Gateway answers unknown paths itself
    result = api.call(method, path, raw_body=body, as_user=caller, admin=caller == "admin", query=query or None)
    assert_documented(result)
    assert_storage_holds_only_text(dynamodb)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(display_name=any_text | st.none(), custom_data=json_values, reason=any_text | st.none())
def test_with_a_valid_proof_hostile_text_is_refused_before_the_challenge_or_stored_as_text(
    api: Api, dynamodb: Any, display_name: Any, custom_data: Any, reason: Any
) -> None:
    """Property: a registration is stored with text only, or refused without burning its challenge."""
    device = device_for("ES256", 7)
    challenge = api.challenge("alice", "register")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="register")
    body = json.dumps({"proof": proof, "display_name": display_name, "custom_data": custom_data}).encode()
    registered = api.call("POST", KEYS, raw_body=body, as_user="alice")
    assert_documented(registered)
    if registered.status != 201:
        retry = api.call("POST", KEYS, {"proof": proof}, as_user="alice")
        assert retry.status == 201, "a request refused on its face must not burn the challenge"
    blocked = api.call(
        "POST",
        f"{KEYS}/{device.key_id}/block",
        raw_body=json.dumps({"reason": reason}).encode(),
        as_user="x",
        admin=True,
    )
    assert_documented(blocked)
    assert_storage_holds_only_text(dynamodb)
    api.call("DELETE", f"{KEYS}/{device.key_id}", as_user="x", admin=True)


# JSON escapes, as a client sends them: the body itself is valid UTF-8.
BAD_ESCAPES = [r"\ud800", r"\udfff", r"a\u0000b"]


@pytest.mark.parametrize("field", ["display_name", "custom_data", "custom_data_name", "proof"])
@pytest.mark.parametrize("bad", BAD_ESCAPES)
def test_a_lone_surrogate_or_nul_anywhere_in_a_registration_is_a_400_and_keeps_the_challenge(
    api: Api, dynamodb: Any, field: str, bad: str
) -> None:
    device = device_for("ES256")
    challenge = api.challenge("alice", "register")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="register")
    raw = {
        "display_name": f'{{"proof": "{proof}", "display_name": "x{bad}y"}}',
        "custom_data": f'{{"proof": "{proof}", "custom_data": {{"k": "{bad}"}}}}',
        "custom_data_name": f'{{"proof": "{proof}", "custom_data": {{"{bad}": 1}}}}',
        "proof": f'{{"proof": "{proof}{bad}"}}',
    }[field]
    result = api.call("POST", KEYS, raw_body=raw.encode(), as_user="alice")
    assert (result.status, result.error_code) == (400, "invalid_request"), result.body
    assert api.call("POST", KEYS, {"proof": proof}, as_user="alice").status == 201


@pytest.mark.parametrize("route", ["PATCH", "block"])
@pytest.mark.parametrize("bad", [r"\ud800", r"\u202e", r"\u0007", r"\u2066x\u2069", r"\u0085"])
def test_bad_text_in_a_name_or_reason_is_a_400_at_once(api: Api, route: str, bad: str) -> None:
    device = device_for("ES256")
    assert api.register("alice", device).status == 201
    if route == "PATCH":
        raw = f'{{"display_name": "x{bad}"}}'.encode()
        result = api.call("PATCH", f"{KEYS}/{device.key_id}", raw_body=raw, as_user="alice")
    else:
        raw = f'{{"reason": "x{bad}"}}'.encode()
        result = api.call("POST", f"{KEYS}/{device.key_id}/block", raw_body=raw, as_user="admin", admin=True)
    assert (result.status, result.error_code) == (400, "invalid_request"), result.body
    assert api.call("GET", f"{KEYS}/{device.key_id}", as_user="alice").body["status"] == "active"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.dictionaries(st.sampled_from(["alg", "typ", "kid", "jwk", "crit", "b64", "x"]), json_values, max_size=5),
    payload=st.dictionaries(st.sampled_from(["challenge", "sub", "purpose", "iat", "aud"]), json_values, max_size=5),
    signature=st.binary(max_size=80),
    purpose=st.sampled_from(["register", "verify"]),
)
def test_forged_proofs_of_any_shape_are_refused_cleanly(
    api: Api, header: dict[str, Any], payload: dict[str, Any], signature: bytes, purpose: str
) -> None:
    import base64

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    proof = ".".join([b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)])
    path = KEYS if purpose == "register" else f"{KEYS}/verify"
    result = api.call("POST", path, {"proof": proof}, as_user="alice")
    assert_documented(result)
    assert result.status >= 400


# --- injected storage faults -------------------------------------------------------------------


@contextmanager
def dynamodb_fails(operation: str, code: str = "ProvisionedThroughputExceededException") -> Iterator[list[str]]:
    """Make every DynamoDB ``operation`` fail with ``code`` (after botocore's own retries)."""
    calls: list[str] = []
    original = BaseClient._make_api_call

    def failing(client: Any, name: str, params: Any) -> Any:
        calls.append(name)
        if name == operation:
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, name)
        return original(client, name, params)

    with mock.patch.object(BaseClient, "_make_api_call", failing):
        yield calls


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"]
)
def test_a_throttled_registration_leaves_no_partial_state_and_can_be_retried(
    api: Api, dynamodb: Any, code: str
) -> None:
    device = device_for("ES256")
    challenge = api.challenge("alice", "register")
    before = [item for item in table_items(dynamodb) if "challenge_hash" not in item]
    proof = device.proof(challenge=challenge, user_id="alice", purpose="register")
    with dynamodb_fails("TransactWriteItems", code):
        result = api.call("POST", KEYS, {"proof": proof}, as_user="alice")
    assert result.status == 503 and result.error_code == "service_unavailable"
    assert result.headers.get("Retry-After") == "1"
    # nothing half-written: no key, no counter
    assert [item for item in table_items(dynamodb) if "challenge_hash" not in item] == before
    # the caller retries from a new challenge and succeeds
    assert api.register("alice", device).status == 201
    counter = dynamodb.get_item(
        TableName="test-device-keys", Key={"user_id": {"S": "alice"}, "key_id": {"S": "#devices"}}
    )
    assert counter["Item"]["device_count"] == {"N": "1"}


@pytest.mark.parametrize("operation", ["DeleteItem", "GetItem", "UpdateItem"])
def test_a_throttled_verification_is_retryable_and_changes_nothing(api: Api, dynamodb: Any, operation: str) -> None:
    device = device_for("ES256")
    assert api.register("alice", device).status == 201
    key_before = api.call("GET", f"{KEYS}/{device.key_id}", as_user="alice").body
    challenge = api.challenge("alice", "verify")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="verify")
    with dynamodb_fails(operation):
        result = api.call("POST", f"{KEYS}/verify", {"proof": proof})
    assert result.status == 503 and result.error_code == "service_unavailable"
    assert api.call("GET", f"{KEYS}/{device.key_id}", as_user="alice").body == key_before
    assert api.verify("alice", device).status == 200


def test_a_transaction_conflict_on_registration_is_retried_inside_the_call(api: Api, dynamodb: Any) -> None:
    # GIVEN DynamoDB cancels the first transaction for a conflict with a concurrent one
    device = device_for("ES256")
    challenge = api.challenge("alice", "register")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="register")
    original = BaseClient._make_api_call
    attempts: list[int] = []

    def conflict_once(client: Any, name: str, params: Any) -> Any:
        if name == "TransactWriteItems" and not attempts:
            attempts.append(1)
            error = {
                "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
            }
            raise ClientError(error, name)  # type: ignore[arg-type]
        return original(client, name, params)

    with mock.patch.object(BaseClient, "_make_api_call", conflict_once):
        result = api.call("POST", KEYS, {"proof": proof}, as_user="alice")
    # THEN the service retried and the one challenge was enough
    assert result.status == 201, result.body
    assert attempts == [1]


def test_a_key_deleted_between_read_and_write_of_a_verification_is_not_found(api: Api, dynamodb: Any) -> None:
    device = device_for("ES256")
    assert api.register("alice", device).status == 201
    challenge = api.challenge("alice", "verify")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="verify")
    original = BaseClient._make_api_call

    def delete_before_update(client: Any, name: str, params: Any) -> Any:
        if name == "UpdateItem":
            original(client, "DeleteItem", {"TableName": params["TableName"], "Key": params["Key"]})
        return original(client, name, params)

    with mock.patch.object(BaseClient, "_make_api_call", delete_before_update):
        result = api.call("POST", f"{KEYS}/verify", {"proof": proof})
    assert result.status == 404 and result.error_code == "device_not_found"
    # the conditional update did not resurrect the deleted key
    assert (
        dynamodb.get_item(
            TableName="test-device-keys", Key={"user_id": {"S": "alice"}, "key_id": {"S": device.key_id}}
        ).get("Item")
        is None
    )


def test_a_throttled_delete_keeps_key_and_count_together(api: Api, dynamodb: Any) -> None:
    device = device_for("ES256")
    assert api.register("alice", device).status == 201
    before = table_items(dynamodb)
    with dynamodb_fails("TransactWriteItems"):
        result = api.call("DELETE", f"{KEYS}/{device.key_id}", as_user="alice")
    assert result.status == 503
    assert table_items(dynamodb) == before


# --- limits -----------------------------------------------------------------------------------


def test_the_body_limit_is_exactly_16_kib(api: Api) -> None:
    def body_of(size: int) -> bytes:
        raw = json.dumps({"proof": ""}).encode()
        return json.dumps({"proof": "x" * (size - len(raw))}).encode()

    at_limit = api.call("POST", f"{KEYS}/verify", raw_body=body_of(16 * 1024))
    assert at_limit.status == 400  # parsed (the proof is too long for the schema), not refused for size
    over = api.call("POST", f"{KEYS}/verify", raw_body=body_of(16 * 1024 + 1))
    assert over.status == 413 and over.error_code == "payload_too_large"
