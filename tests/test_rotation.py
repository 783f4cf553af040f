"""Key rotation: a device replaces its key and keeps its record; both keys prove themselves over one challenge."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import Api, HttpResult, device_for
from devicekeys_client import DeviceKeyPair

KEYS = "/v1/users/alice/device-keys"


def rotation_body(api: Api, current: DeviceKeyPair, new: DeviceKeyPair, **overrides: Any) -> dict[str, str]:
    challenge = api.challenge("alice", "rotate")
    proof = current.proof(challenge=challenge, user_id="alice", purpose="rotate", **overrides.pop("current", {}))
    new_proof = new.proof(challenge=challenge, user_id="alice", purpose="rotate", header={"jwk": new.public_jwk})
    return {"proof": proof, "new_key_proof": new_proof, **overrides}


def rotate(api: Api, current: DeviceKeyPair, new: DeviceKeyPair, **overrides: Any) -> HttpResult:
    return api.call("POST", f"{KEYS}/rotate", rotation_body(api, current, new, **overrides), as_user="alice")


def register(api: Api, device: DeviceKeyPair, **fields: Any) -> dict[str, Any]:
    result = api.register("alice", device, **fields)
    assert result.status == 201, result.body
    return dict(result.body)


@pytest.mark.parametrize(("old_alg", "new_alg"), [("ES256", "ES256"), ("Ed25519", "ES256"), ("ES256", "RS256")])
def test_the_record_keeps_its_identity_under_a_new_key(api: Api, dynamodb: Any, old_alg: str, new_alg: str) -> None:
    old, new = device_for(old_alg, 0), device_for(new_alg, 1)
    before = register(api, old, display_name="Ada's Pixel", custom_data={"os": "android"})

    result = rotate(api, old, new)

    assert result.status == 200, result.body
    after = result.body
    assert (after["key_id"], after["alg"]) == (new.key_id, "Ed25519" if new_alg == "EdDSA" else new_alg)
    assert (after["display_name"], after["custom_data"], after["created_at"]) == (
        before["display_name"],
        before["custom_data"],
        before["created_at"],
    )
    assert after["last_verified_at"] is not None  # the rotation proved possession of the new key
    # the old key stopped working, the new one works, and the user still has one device
    assert api.verify("alice", old).error_code == "device_not_found"
    assert api.verify("alice", new).status == 200
    listed = api.call("GET", KEYS, as_user="alice").body
    assert [key["key_id"] for key in listed["device_keys"]] == [new.key_id]
    counter = dynamodb.get_item(
        TableName="test-device-keys", Key={"user_id": {"S": "alice"}, "key_id": {"S": "#devices"}}
    )
    assert counter["Item"]["device_count"] == {"N": "1"}


def test_a_blocked_key_cannot_rotate(api: Api) -> None:
    old, new = device_for("ES256", 0), device_for("ES256", 1)
    register(api, old)
    api.call("POST", f"{KEYS}/{old.key_id}/block", as_user="ops", admin=True)

    result = rotate(api, old, new)

    assert (result.status, result.error_code) == (403, "device_blocked")
    assert api.call("GET", f"{KEYS}/{old.key_id}", as_user="alice").body["status"] == "blocked"
    assert api.verify("alice", new).error_code == "device_not_found"


def test_rotating_to_a_key_blocked_for_the_user_is_refused(api: Api) -> None:
    current, blocked = device_for("ES256", 0), device_for("ES256", 1)
    register(api, current)
    register(api, blocked)
    api.call("POST", f"{KEYS}/{blocked.key_id}/block", as_user="ops", admin=True)

    result = rotate(api, current, blocked)

    assert (result.status, result.error_code) == (403, "device_blocked")
    assert api.verify("alice", current).status == 200  # nothing changed


def test_rotating_to_a_key_the_user_has_already_is_a_conflict(api: Api) -> None:
    current, other = device_for("ES256", 0), device_for("ES256", 1)
    register(api, current)
    register(api, other)
    assert rotate(api, current, other).error_code == "device_key_exists"
    assert api.verify("alice", current).status == 200


@pytest.mark.parametrize(
    ("mistake", "status", "code"),
    [
        ("different challenges", 401, "invalid_proof"),
        ("new proof signed by another key", 401, "invalid_proof"),
        ("current proof by a stranger", 404, "device_not_found"),
        ("a verify purpose", 401, "invalid_proof"),
        ("the same key twice", 400, "invalid_request"),
    ],
)
def test_a_rotation_wrong_on_its_face_is_refused_and_keeps_the_challenge(
    api: Api, mistake: str, status: int, code: str
) -> None:
    old, new, stranger = device_for("ES256", 0), device_for("ES256", 1), device_for("ES256", 2)
    register(api, old)
    challenge = api.challenge("alice", "rotate")
    proof = old.proof(challenge=challenge, user_id="alice", purpose="rotate")
    new_proof = new.proof(challenge=challenge, user_id="alice", purpose="rotate", header={"jwk": new.public_jwk})
    if mistake == "different challenges":
        new_proof = new.proof(challenge=api.challenge("alice", "rotate"), user_id="alice", purpose="rotate")
    elif mistake == "new proof signed by another key":
        new_proof = stranger.proof(
            challenge=challenge, user_id="alice", purpose="rotate", header={"jwk": new.public_jwk}
        )
    elif mistake == "current proof by a stranger":
        proof = stranger.proof(challenge=challenge, user_id="alice", purpose="rotate", header={"kid": old.key_id})
    elif mistake == "a verify purpose":
        proof = old.proof(challenge=challenge, user_id="alice", purpose="verify")
    elif mistake == "the same key twice":
        new_proof = old.proof(challenge=challenge, user_id="alice", purpose="rotate", header={"jwk": old.public_jwk})

    result = api.call("POST", f"{KEYS}/rotate", {"proof": proof, "new_key_proof": new_proof}, as_user="alice")

    assert (result.status, result.error_code) == (status, code), result.body
    right = {
        "proof": old.proof(challenge=challenge, user_id="alice", purpose="rotate"),
        "new_key_proof": new.proof(
            challenge=challenge, user_id="alice", purpose="rotate", header={"jwk": new.public_jwk}
        ),
    }
    assert api.call("POST", f"{KEYS}/rotate", right, as_user="alice").status == 200  # the challenge was kept


def test_only_the_user_or_an_admin_rotates(api: Api) -> None:
    old, new = device_for("ES256", 0), device_for("ES256", 1)
    register(api, old)
    body = rotation_body(api, old, new)
    assert api.call("POST", f"{KEYS}/rotate", body).error_code == "forbidden"
    assert api.call("POST", f"{KEYS}/rotate", body, as_user="mallory").error_code == "forbidden"
    assert api.call("POST", f"{KEYS}/rotate", body, as_user="alice").status == 200


def _both_keys(dynamodb: Any, old: DeviceKeyPair, new: DeviceKeyPair) -> tuple[bool, bool]:
    """Whether each key's record exists, read in one atomic transaction."""
    items = [
        {"Get": {"TableName": "test-device-keys", "Key": {"user_id": {"S": "alice"}, "key_id": {"S": key.key_id}}}}
        for key in (old, new)
    ]
    found = dynamodb.transact_get_items(TransactItems=items)["Responses"]
    return "Item" in found[0], "Item" in found[1]


def test_there_is_never_a_moment_with_both_keys_or_neither(api: Api, dynamodb: Any) -> None:
    old, new = device_for("ES256", 0), device_for("ES384", 0)
    register(api, old)
    body = rotation_body(api, old, new)
    seen: set[tuple[bool, bool]] = set()
    with ThreadPoolExecutor(2) as pool:
        rotation = pool.submit(api.call, "POST", f"{KEYS}/rotate", body, as_user="alice")
        while not rotation.done():
            seen.add(_both_keys(dynamodb, old, new))
        assert rotation.result().status == 200
    seen.add(_both_keys(dynamodb, old, new))
    assert seen <= {(True, False), (False, True)} and (False, True) in seen, seen


def test_a_verify_with_the_old_key_racing_the_rotation_never_outlives_it(api: Api) -> None:
    for round_ in range(6):
        old, new = device_for("ES256", 10 + round_), device_for("ES256", 20 + round_)
        register(api, old)
        verify_challenge = api.challenge("alice", "verify")
        old_proof = old.proof(challenge=verify_challenge, user_id="alice", purpose="verify")
        body = rotation_body(api, old, new)
        with ThreadPoolExecutor(2) as pool:
            verified = pool.submit(api.call, "POST", f"{KEYS}/verify", {"proof": old_proof})
            rotated = pool.submit(api.call, "POST", f"{KEYS}/rotate", body, as_user="alice")
            outcome = (verified.result().status, rotated.result().status)
        assert rotated.result().status == 200 and outcome[0] in (200, 404), outcome
        assert api.verify("alice", old).error_code == "device_not_found"  # after the rotation: never again
        assert api.verify("alice", new).status == 200
        api.call("DELETE", f"{KEYS}/{new.key_id}", as_user="alice")


def test_a_block_racing_the_rotation_lands_on_one_key_or_stops_it(api: Api) -> None:
    for round_ in range(6):
        old, new = device_for("ES256", 30 + round_), device_for("ES256", 40 + round_)
        register(api, old)
        body = rotation_body(api, old, new)
        with ThreadPoolExecutor(2) as pool:
            blocked = pool.submit(api.call, "POST", f"{KEYS}/{old.key_id}/block", as_user="ops", admin=True)
            rotated = pool.submit(api.call, "POST", f"{KEYS}/rotate", body, as_user="alice")
            outcome = (blocked.result().status, rotated.result().status)
        # block first: the rotation is refused and the old key stays blocked; rotation first: nothing to block
        assert outcome in {(200, 403), (404, 200)}, outcome
        listed = {
            key["key_id"]: key["status"] for key in api.call("GET", KEYS, as_user="ops", admin=True).body["device_keys"]
        }
        assert listed == ({old.key_id: "blocked"} if outcome == (200, 403) else {new.key_id: "active"})
        for key_id in listed:
            api.call("DELETE", f"{KEYS}/{key_id}", as_user="ops", admin=True)


def test_rotation_by_direct_invocation(api: Api) -> None:
    old, new = device_for("ES256", 0), device_for("ES256", 1)
    register(api, old)
    body = rotation_body(api, old, new)
    record = api.functions.invoke_direct("RotateDeviceKeyFunction", {"user_id": "alice", **body})
    assert record["key_id"] == new.key_id
