"""Direct invocations (Step Functions, IAM): documented JSON in and out, branchable results, named errors."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import device_for
from devicekeys import errors
from devicekeys_local.functions import LocalFunctions

ADMIN = {"kind": "admin", "subject": "security-team"}


@pytest.fixture
def invoke(dynamodb: Any, functions: LocalFunctions) -> Any:
    return functions.invoke_direct


def challenge(invoke: Any, user_id: str, purpose: str) -> str:
    result = invoke("IssueChallengeFunction", {"user_id": user_id, "purpose": purpose})
    assert set(result) == {"challenge", "purpose", "expires_at", "expires_in"}
    return str(result["challenge"])


def register(invoke: Any, user_id: str, slot: int = 0, **extra: Any) -> dict[str, Any]:
    device = device_for("ES256", slot)
    proof = device.proof(challenge=challenge(invoke, user_id, "register"), user_id=user_id, purpose="register")
    return dict(invoke("RegisterDeviceKeyFunction", {"user_id": user_id, "proof": proof, **extra}))


def verify(invoke: Any, user_id: str, slot: int = 0) -> dict[str, Any]:
    device = device_for("ES256", slot)
    proof = device.proof(challenge=challenge(invoke, user_id, "verify"), user_id=user_id, purpose="verify")
    return dict(invoke("VerifyDeviceKeyFunction", {"user_id": user_id, "proof": proof}))


def test_verify_returns_a_result_a_choice_state_can_branch_on(invoke: Any) -> None:
    record = register(invoke, "alice", display_name="Phone")
    known = verify(invoke, "alice")
    assert known["known"] is True and known["key_id"] == record["key_id"] and known["status"] == "active"
    unknown = verify(invoke, "alice", slot=1)
    assert unknown == {"known": False, "reason": "device_not_found", "message": unknown["message"], "key_id": None}
    invoke("BlockDeviceKeyFunction", {"user_id": "alice", "key_id": record["key_id"], "reason": "lost"})
    assert verify(invoke, "alice")["reason"] == "device_blocked"
    forged = invoke("VerifyDeviceKeyFunction", {"user_id": "alice", "proof": "a.b.c"})
    assert forged["known"] is False and forged["reason"] == "invalid_proof"


def test_every_lifecycle_operation_works_by_direct_invocation(invoke: Any) -> None:
    key_id = register(invoke, "alice")["key_id"]
    ids = {"user_id": "alice", "key_id": key_id}
    assert invoke("GetDeviceKeyFunction", ids)["key_id"] == key_id
    renamed = invoke("UpdateDeviceKeyFunction", {**ids, "display_name": "My work cellphone"})
    assert renamed["display_name"] == "My work cellphone"
    listed = invoke("ListDeviceKeysFunction", {"user_id": "alice"})
    assert listed["count"] == 1 and listed["device_keys"][0]["display_name"] == "My work cellphone"
    assert invoke("BlockDeviceKeyFunction", ids)["status"] == "blocked"
    assert invoke("UnblockDeviceKeyFunction", {**ids, "actor": ADMIN})["status"] == "active"
    assert invoke("DeleteDeviceKeyFunction", ids) == {"deleted": True, "key_id": key_id}
    assert invoke("ListDeviceKeysFunction", {"user_id": "alice"})["count"] == 0


def test_a_direct_invocation_without_an_admin_actor_cannot_undo_a_block(invoke: Any) -> None:
    # GIVEN a key an invocation blocked (a journey acting on a fraud signal may block)
    key_id = register(invoke, "alice")["key_id"]
    ids = {"user_id": "alice", "key_id": key_id}
    invoke("BlockDeviceKeyFunction", ids)
    # THEN neither the system nor a user actor may unblock it or remove it
    for actor in (None, {"kind": "user", "subject": "alice"}):
        document = ids if actor is None else {**ids, "actor": actor}
        with pytest.raises(errors.Forbidden):
            invoke("UnblockDeviceKeyFunction", document)
        with pytest.raises(errors.DeviceBlocked):
            invoke("DeleteDeviceKeyFunction", document)
    # and re-registering the key is refused while it stays blocked
    with pytest.raises(errors.DeviceBlocked):
        register(invoke, "alice")
    # AND an invocation that names an administrator may remove it
    assert invoke("DeleteDeviceKeyFunction", {**ids, "actor": ADMIN}) == {"deleted": True, "key_id": key_id}


@pytest.mark.parametrize(
    "actor",
    [
        "admin",
        {"kind": "root", "subject": "x"},
        {"kind": "admin"},
        {"kind": "admin", "subject": ""},
        {"kind": "admin", "subject": "x", "extra": 1},
        {"kind": "system", "subject": "x"},
    ],
)
def test_a_malformed_actor_is_an_invalid_request(invoke: Any, actor: Any) -> None:
    with pytest.raises(errors.InvalidRequest):
        invoke("UnblockDeviceKeyFunction", {"user_id": "alice", "key_id": "A" * 43, "actor": actor})


@pytest.mark.parametrize(
    ("function", "document", "error"),
    [
        ("GetDeviceKeyFunction", {"user_id": "alice", "key_id": "A" * 43}, errors.DeviceNotFound),
        ("DeleteDeviceKeyFunction", {"user_id": "alice", "key_id": "A" * 43}, errors.DeviceNotFound),
        ("GetDeviceKeyFunction", {"key_id": "A" * 43}, errors.InvalidRequest),
        ("GetDeviceKeyFunction", {"user_id": "me", "key_id": "A" * 43}, errors.Forbidden),
        ("UpdateDeviceKeyFunction", {"user_id": "alice", "key_id": "A" * 43}, errors.InvalidRequest),
        ("IssueChallengeFunction", {"user_id": "alice", "purpose": "login"}, errors.InvalidRequest),
        ("ListDeviceKeysFunction", {"user_id": "alice", "limit": 0}, errors.InvalidRequest),
        ("VerifyDeviceKeyFunction", {"user_id": "alice"}, errors.InvalidRequest),
        ("RegisterDeviceKeyFunction", {"user_id": "alice", "proof": "a.b.c"}, errors.InvalidProof),
    ],
)
def test_failures_raise_named_errors_a_catch_can_match(
    invoke: Any, function: str, document: dict[str, Any], error: type[Exception]
) -> None:
    # Lambda reports an uncaught exception's class name as the error type Step Functions matches.
    with pytest.raises(error):
        invoke(function, document)


def test_a_direct_invocation_that_is_not_an_object_is_an_invalid_request(
    functions: LocalFunctions, dynamodb: Any
) -> None:
    handler = functions.handler("ListDeviceKeysFunction")
    from devicekeys_local.events import LambdaContext

    with pytest.raises(errors.InvalidRequest):
        handler(["alice"], LambdaContext())  # type: ignore[arg-type]


def test_the_device_limit_is_a_named_error_for_journeys(invoke: Any) -> None:
    for slot in range(10):
        register(invoke, "alice", slot)
    with pytest.raises(errors.DeviceLimitReached):
        register(invoke, "alice", 10)


@pytest.mark.parametrize(
    ("function", "document"),
    [
        ("RegisterDeviceKeyFunction", {"user_id": "alice", "proof": "a.b.c", "custom_data": {"n": float("nan")}}),
        ("RegisterDeviceKeyFunction", {"user_id": "alice", "proof": "a.b.c", "display_name": "\ud800"}),
        ("UpdateDeviceKeyFunction", {"user_id": "alice", "key_id": "A" * 43, "custom_data": {"\udc00": 1}}),
        ("BlockDeviceKeyFunction", {"user_id": "alice", "key_id": "A" * 43, "reason": "x\u202eevil"}),
        ("GetDeviceKeyFunction", {"user_id": "al\ud800ice", "key_id": "A" * 43}),
        ("GetDeviceKeyFunction", {"user_id": "alice\x00", "key_id": "A" * 43}),
        ("ListDeviceKeysFunction", {"user_id": "alice", "limit": float("inf")}),
    ],
    ids=["nan", "surrogate-name", "surrogate-member", "bidi-reason", "surrogate-user", "nul-user", "infinite-limit"],
)
def test_a_direct_invocation_is_held_to_the_same_json_and_text_rules(
    invoke: Any, function: str, document: dict[str, Any]
) -> None:
    # The Lambda runtime parses an invocation with Python's json: NaN and lone surrogates arrive as such.
    with pytest.raises(errors.InvalidRequest):
        invoke(function, document)
