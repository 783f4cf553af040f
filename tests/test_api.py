"""The HTTP API, operation by operation, as API Gateway drives the functions (docs/protocol.md)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from conftest import ALGORITHMS, Api, HttpResult, device_for
from devicekeys_client import DeviceKeyPair

KEYS = "/v1/users/alice/device-keys"


def assert_error(result: HttpResult, status: int, code: str) -> None:
    assert result.status == status, result.body
    assert result.body["error"]["code"] == code
    assert isinstance(result.body["error"]["message"], str) and result.body["error"]["message"]
    assert result.body["request_id"]


def register(api: Api, device: DeviceKeyPair, user: str = "alice", **extra: Any) -> dict[str, Any]:
    result = api.register(user, device, **extra)
    assert result.status == 201, result.body
    return dict(result.body)


# --- challenges -------------------------------------------------------------------------


def test_a_challenge_is_32_random_bytes_with_its_lifetime(api: Api) -> None:
    first = api.call("POST", f"{KEYS}/challenges", {"purpose": "verify"})
    second = api.call("POST", f"{KEYS}/challenges", {"purpose": "verify"})
    assert first.status == 201
    assert set(first.body) == {"challenge", "purpose", "expires_at", "expires_in"}
    assert len(base64.urlsafe_b64decode(first.body["challenge"] + "=")) == 32
    assert first.body["challenge"] != second.body["challenge"]
    assert first.body["expires_in"] == 120 and first.body["expires_at"].endswith("Z")


def test_only_the_hash_of_a_challenge_is_stored(api: Api, dynamodb: Any) -> None:
    challenge = api.challenge("alice", "verify")
    items = dynamodb.scan(TableName="test-challenges")["Items"]
    assert len(items) == 1
    assert challenge not in json.dumps(items)
    assert set(items[0]) == {"challenge_hash", "user_id", "purpose", "expires_at"}


@pytest.mark.parametrize("body", [{}, {"purpose": "login"}, {"purpose": None}, {"purpose": "verify", "x": 1}, []])
def test_a_challenge_needs_a_known_purpose(api: Api, body: Any) -> None:
    assert_error(api.call("POST", f"{KEYS}/challenges", body), 400, "invalid_request")


# --- registration -----------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_registration_returns_the_record_with_the_thumbprint_as_key_id(api: Api, alg: str) -> None:
    device = device_for(alg)
    record = register(api, device, display_name="Work phone", custom_data={"os": "android", "n": 1.5})
    assert record["key_id"] == device.key_id
    assert record["user_id"] == "alice"
    assert record["status"] == "active"
    assert record["alg"] == ("Ed25519" if alg == "EdDSA" else alg)
    assert record["display_name"] == "Work phone"
    assert record["custom_data"] == {"os": "android", "n": 1.5}
    assert "d" not in record["public_key"] and record["public_key"]["kty"] == device.public_jwk["kty"]
    assert record["created_at"] == record["updated_at"]
    assert record["last_verified_at"] is None and record["blocked_at"] is None


def test_registering_the_same_key_twice_is_a_clear_conflict_never_a_duplicate(api: Api, device: DeviceKeyPair) -> None:
    register(api, device)
    assert_error(api.register("alice", device), 409, "device_key_exists")
    listed = api.call("GET", KEYS, as_user="alice").body["device_keys"]
    assert [key["key_id"] for key in listed] == [device.key_id]


def test_the_same_device_key_may_be_bound_to_two_users_separately(api: Api, device: DeviceKeyPair) -> None:
    register(api, device, "alice")
    register(api, device, "bob")
    assert api.verify("alice", device).status == 200
    assert api.verify("bob", device).status == 200


def test_a_user_cannot_hold_more_than_the_device_limit_and_deleting_frees_a_place(api: Api) -> None:
    devices = [device_for("ES256", slot) for slot in range(11)]
    for device in devices[:10]:
        register(api, device)
    assert_error(api.register("alice", devices[10]), 409, "device_limit_reached")
    assert api.call("DELETE", f"{KEYS}/{devices[0].key_id}", as_user="alice").status == 204
    register(api, devices[10])
    assert len(api.call("GET", KEYS, as_user="alice").body["device_keys"]) == 10


def test_registration_refuses_a_jwk_with_private_members(api: Api, device: DeviceKeyPair) -> None:
    challenge = api.challenge("alice", "register")
    proof = device.proof(
        challenge=challenge, user_id="alice", purpose="register", header={"jwk": device.key.as_dict(private=True)}
    )
    assert_error(api.call("POST", KEYS, {"proof": proof}, as_user="alice"), 400, "unsupported_key")


def test_registration_refuses_rsa_keys_below_2048_bits(api: Api) -> None:
    weak = DeviceKeyPair.generate("RS256", rsa_bits=1024)
    assert_error(api.register("alice", weak), 400, "unsupported_key")


def test_registration_needs_a_register_challenge_not_a_verify_one(api: Api, device: DeviceKeyPair) -> None:
    challenge = api.challenge("alice", "verify")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="register")
    assert_error(api.call("POST", KEYS, {"proof": proof}, as_user="alice"), 401, "challenge_not_found")


def test_registration_needs_the_jwk_header(api: Api, device: DeviceKeyPair) -> None:
    challenge = api.challenge("alice", "register")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="verify", claims={"purpose": "register"})
    assert_error(api.call("POST", KEYS, {"proof": proof}, as_user="alice"), 401, "invalid_proof")


def test_a_register_proof_whose_kid_is_not_its_jwk_thumbprint_is_refused(api: Api, device: DeviceKeyPair) -> None:
    challenge = api.challenge("alice", "register")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="register", header={"kid": "x" * 43})
    assert_error(api.call("POST", KEYS, {"proof": proof}, as_user="alice"), 401, "invalid_proof")


def test_a_register_proof_signed_by_another_key_than_its_jwk_is_refused(api: Api) -> None:
    owner, impostor = device_for("ES256", 0), device_for("ES256", 1)
    challenge = api.challenge("alice", "register")
    proof = impostor.proof(challenge=challenge, user_id="alice", purpose="register", header={"jwk": owner.public_jwk})
    assert_error(api.call("POST", KEYS, {"proof": proof}, as_user="alice"), 401, "invalid_proof")
    assert api.call("GET", KEYS, as_user="alice").body["device_keys"] == []


# --- is known device ----------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_registered_device_is_known_and_its_verification_is_recorded(api: Api, alg: str) -> None:
    device = device_for(alg)
    register(api, device)
    result = api.verify("alice", device)
    assert result.status == 200, result.body
    assert result.body["known"] is True
    assert result.body["key_id"] == device.key_id
    assert result.body["status"] == "active"
    assert result.body["device_key"]["last_verified_at"] is not None
    fetched = api.call("GET", f"{KEYS}/{device.key_id}", as_user="alice").body
    assert fetched["last_verified_at"] == result.body["device_key"]["last_verified_at"]


def test_a_proof_is_single_use_even_when_it_was_valid(api: Api, device: DeviceKeyPair) -> None:
    register(api, device)
    challenge = api.challenge("alice", "verify")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="verify")
    assert api.call("POST", f"{KEYS}/verify", {"proof": proof}).status == 200
    assert_error(api.call("POST", f"{KEYS}/verify", {"proof": proof}), 401, "challenge_not_found")


def test_a_forged_attempt_does_not_burn_the_devices_challenge(api: Api, device: DeviceKeyPair) -> None:
    # GIVEN a forger who saw the device's challenge and names the device's key
    register(api, device)
    challenge = api.challenge("alice", "verify")
    forged = device_for("ES256", 1).proof(
        challenge=challenge, user_id="alice", purpose="verify", header={"kid": device.key_id}
    )
    assert_error(api.call("POST", f"{KEYS}/verify", {"proof": forged}), 404, "device_not_found")
    # THEN the device's own proof over that challenge still works, once
    right = device.proof(challenge=challenge, user_id="alice", purpose="verify")
    assert api.call("POST", f"{KEYS}/verify", {"proof": right}).status == 200
    assert_error(api.call("POST", f"{KEYS}/verify", {"proof": right}), 401, "challenge_not_found")


def test_a_proof_that_is_wrong_on_its_face_leaves_the_challenge_usable(api: Api, device: DeviceKeyPair) -> None:
    register(api, device)
    challenge = api.challenge("alice", "verify")
    for mistake in ({"sub": "bob"}, {"purpose": "register"}, {"iat": 1}, {"iat": 1.5}):
        wrong = device.proof(challenge=challenge, user_id="alice", purpose="verify", claims=mistake)
        assert_error(api.call("POST", f"{KEYS}/verify", {"proof": wrong}), 401, "invalid_proof")
    right = device.proof(challenge=challenge, user_id="alice", purpose="verify")
    assert api.call("POST", f"{KEYS}/verify", {"proof": right}).status == 200


def test_an_expired_challenge_is_refused_even_before_ttl_deletes_it(
    api: Api, dynamodb: Any, device: DeviceKeyPair
) -> None:
    register(api, device)
    challenge = api.challenge("alice", "verify")
    # GIVEN the challenge's lifetime is over (DynamoDB TTL has not removed the item yet)
    item = dynamodb.scan(TableName="test-challenges")["Items"][0]
    dynamodb.update_item(
        TableName="test-challenges",
        Key={"challenge_hash": item["challenge_hash"]},
        UpdateExpression="SET expires_at = :t",
        ExpressionAttributeValues={":t": {"N": str(int(time.time()) - 1)}},
    )
    proof = device.proof(challenge=challenge, user_id="alice", purpose="verify")
    assert_error(api.call("POST", f"{KEYS}/verify", {"proof": proof}), 401, "challenge_expired")


def test_a_challenge_of_another_user_is_refused(api: Api, device: DeviceKeyPair) -> None:
    register(api, device)
    challenge = api.challenge("bob", "verify")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="verify")
    assert_error(api.call("POST", f"{KEYS}/verify", {"proof": proof}), 401, "challenge_not_found")


def test_a_made_up_challenge_is_refused(api: Api, device: DeviceKeyPair) -> None:
    register(api, device)
    for challenge in ("A" * 43, "not-a-challenge", ""):
        proof = device.proof(challenge=challenge, user_id="alice", purpose="verify")
        assert_error(api.call("POST", f"{KEYS}/verify", {"proof": proof}), 401, "challenge_not_found")


def test_an_unknown_user_and_an_unknown_device_look_the_same(api: Api) -> None:
    known, unknown = device_for("ES256", 0), device_for("ES256", 1)
    register(api, known)
    unknown_device = api.verify("alice", unknown)
    unknown_user = api.verify("nobody", known)
    assert_error(unknown_device, 404, "device_not_found")
    assert_error(unknown_user, 404, "device_not_found")
    assert unknown_device.body["error"] == unknown_user.body["error"]


def test_a_kid_of_another_users_key_is_not_found(api: Api) -> None:
    bobs = device_for("ES256", 1)
    register(api, bobs, "bob")
    challenge = api.challenge("alice", "verify")
    proof = bobs.proof(challenge=challenge, user_id="alice", purpose="verify")
    assert_error(api.call("POST", f"{KEYS}/verify", {"proof": proof}), 404, "device_not_found")


def test_a_blocked_key_is_revealed_only_to_a_valid_signature(api: Api, device: DeviceKeyPair) -> None:
    register(api, device)
    api.call("POST", f"{KEYS}/{device.key_id}/block", {"reason": "lost"}, as_user="admin", admin=True)
    assert_error(api.verify("alice", device), 403, "device_blocked")
    # a forger naming the blocked key learns nothing about its status, nor that it exists
    challenge = api.challenge("alice", "verify")
    forged = device_for("ES256", 1).proof(
        challenge=challenge, user_id="alice", purpose="verify", header={"kid": device.key_id}
    )
    unknown = device_for("ES256", 2).proof(challenge=challenge, user_id="alice", purpose="verify")
    forged_answer = api.call("POST", f"{KEYS}/verify", {"proof": forged})
    unknown_answer = api.call("POST", f"{KEYS}/verify", {"proof": unknown})
    assert_error(forged_answer, 404, "device_not_found")
    assert forged_answer.body["error"] == unknown_answer.body["error"]


def test_a_deleted_device_appears_as_new_and_can_register_again(api: Api, device: DeviceKeyPair) -> None:
    register(api, device)
    assert api.call("DELETE", f"{KEYS}/{device.key_id}", as_user="alice").status == 204
    assert_error(api.verify("alice", device), 404, "device_not_found")
    register(api, device)
    assert api.verify("alice", device).status == 200


def test_proof_audience_is_enforced_when_configured(api: Api, device: DeviceKeyPair, monkeypatch: Any) -> None:
    register(api, device)
    service = api.functions.module("VerifyDeviceKeyFunction").binding
    monkeypatch.setattr(
        service,
        "_settings",
        service._settings.__class__(
            **{
                **{f: getattr(service._settings, f) for f in service._settings.__slots__},
                "proof_audience": "login.example",
            }
        ),
    )
    assert_error(api.verify("alice", device), 401, "invalid_proof")
    challenge = api.challenge("alice", "verify")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="verify", audience="login.example")
    assert api.call("POST", f"{KEYS}/verify", {"proof": proof}).status == 200


# --- lifecycle ------------------------------------------------------------------------------


def test_get_returns_the_record_and_an_unknown_key_is_not_found(api: Api, device: DeviceKeyPair) -> None:
    record = register(api, device, display_name="Tablet")
    assert api.call("GET", f"{KEYS}/{device.key_id}", as_user="alice").body == record
    assert_error(api.call("GET", f"{KEYS}/{'A' * 43}", as_user="alice"), 404, "device_not_found")
    assert_error(api.call("GET", f"{KEYS}/%23devices", as_user="alice"), 404, "device_not_found")
    assert_error(api.call("GET", f"{KEYS}/short", as_user="alice"), 404, "device_not_found")


def test_update_renames_enriches_and_clears(api: Api, device: DeviceKeyPair) -> None:
    register(api, device, display_name="Old", custom_data={"a": 1})
    path = f"{KEYS}/{device.key_id}"
    renamed = api.call("PATCH", path, {"display_name": "My work cellphone"}, as_user="alice").body
    assert renamed["display_name"] == "My work cellphone" and renamed["custom_data"] == {"a": 1}
    assert renamed["updated_at"] >= renamed["created_at"]
    enriched = api.call("PATCH", path, {"custom_data": {"b": [1, 2]}}, as_user="alice").body
    assert enriched["custom_data"] == {"b": [1, 2]}  # replaced whole, not merged
    cleared = api.call("PATCH", path, {"display_name": None, "custom_data": None}, as_user="alice").body
    assert cleared["display_name"] is None and cleared["custom_data"] is None
    assert api.call("GET", path, as_user="alice").body == cleared


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"display_name": ""},
        {"display_name": "x" * 65},
        {"display_name": 5},
        {"display_name": "a\nb"},
        {"custom_data": []},
        {"custom_data": "text"},
        {"status": "blocked"},
        {"key_id": "other"},
    ],
)
def test_update_refuses_bad_fields(api: Api, device: DeviceKeyPair, body: Any) -> None:
    register(api, device)
    assert_error(api.call("PATCH", f"{KEYS}/{device.key_id}", body, as_user="alice"), 400, "invalid_request")


def test_update_of_an_unknown_key_creates_nothing(api: Api, dynamodb: Any) -> None:
    assert_error(
        api.call("PATCH", f"{KEYS}/{'B' * 43}", {"display_name": "x"}, as_user="alice"), 404, "device_not_found"
    )
    assert dynamodb.scan(TableName="test-device-keys")["Items"] == []


def test_custom_data_and_display_name_limits(api: Api, device: DeviceKeyPair) -> None:
    register(api, device)
    path = f"{KEYS}/{device.key_id}"
    assert api.call("PATCH", path, {"display_name": "é" * 64}, as_user="alice").status == 200
    at_limit = {"v": "x" * (4096 - len('{"v":""}'))}
    assert api.call("PATCH", path, {"custom_data": at_limit}, as_user="alice").status == 200
    over = {"v": "x" * (4097 - len('{"v":""}'))}
    assert_error(api.call("PATCH", path, {"custom_data": over}, as_user="alice"), 413, "payload_too_large")


def test_block_and_unblock_keep_the_key_listed_and_restore_verification(api: Api, device: DeviceKeyPair) -> None:
    register(api, device)
    path = f"{KEYS}/{device.key_id}"
    blocked = api.call("POST", f"{path}/block", {"reason": "stolen"}, as_user="admin", admin=True).body
    assert blocked["status"] == "blocked" and blocked["blocked_reason"] == "stolen" and blocked["blocked_at"]
    again = api.call("POST", f"{path}/block", as_user="admin", admin=True).body
    assert again["blocked_at"] == blocked["blocked_at"] and again["blocked_reason"] is None
    listed = api.call("GET", KEYS, as_user="alice").body["device_keys"]
    assert [(k["key_id"], k["status"]) for k in listed] == [(device.key_id, "blocked")]
    unblocked = api.call("POST", f"{path}/unblock", as_user="admin", admin=True).body
    assert unblocked["status"] == "active" and unblocked["blocked_at"] is None and unblocked["blocked_reason"] is None
    assert api.verify("alice", device).status == 200


def test_block_of_an_unknown_key_is_not_found(api: Api) -> None:
    assert_error(api.call("POST", f"{KEYS}/{'C' * 43}/block", as_user="admin", admin=True), 404, "device_not_found")
    assert_error(api.call("POST", f"{KEYS}/{'C' * 43}/unblock", as_user="admin", admin=True), 404, "device_not_found")


def test_delete_removes_the_key_and_a_second_delete_is_not_found(api: Api, device: DeviceKeyPair) -> None:
    register(api, device)
    first = api.call("DELETE", f"{KEYS}/{device.key_id}", as_user="alice")
    assert first.status == 204 and first.body is None
    assert_error(api.call("DELETE", f"{KEYS}/{device.key_id}", as_user="alice"), 404, "device_not_found")
    assert api.call("GET", KEYS, as_user="alice").body["device_keys"] == []


def test_list_pages_through_every_key_and_filters_by_status(api: Api) -> None:
    devices = [device_for("ES256", slot) for slot in range(5)]
    for device in devices:
        register(api, device)
    api.call("POST", f"{KEYS}/{devices[2].key_id}/block", as_user="admin", admin=True)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        query = {"limit": "2", **({"next_token": token} if token else {})}
        page = api.call("GET", KEYS, as_user="alice", query=query).body
        assert len(page["device_keys"]) <= 2 and page["count"] == len(page["device_keys"])
        seen += [key["key_id"] for key in page["device_keys"]]
        pages += 1
        token = page["next_token"]
        if token is None:
            break
    assert sorted(seen) == sorted(d.key_id for d in devices) and pages == 3
    blocked = api.call("GET", KEYS, as_user="alice", query={"status": "blocked"}).body
    assert [key["key_id"] for key in blocked["device_keys"]] == [devices[2].key_id]
    active = api.call("GET", KEYS, as_user="alice", query={"status": "active"}).body
    assert len(active["device_keys"]) == 4


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"status": "deleted"},
        {"next_token": "garbage"},
        {"next_token": base64.urlsafe_b64encode(b'{"k":"#devices"}').decode().rstrip("=")},
        {"sort": "asc"},
    ],
)
def test_list_refuses_bad_query_parameters(api: Api, query: dict[str, str]) -> None:
    assert_error(api.call("GET", KEYS, as_user="alice", query=query), 400, "invalid_request")


def test_a_user_without_keys_has_an_empty_list(api: Api) -> None:
    assert api.call("GET", KEYS, as_user="alice").body == {"device_keys": [], "next_token": None, "count": 0}


# --- hostile bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"not json",
        b"[1,2]",
        b'"text"',
        b"null",
        b'{"proof": NaN}',
        b"\xff\xfe",
        b'{"proof": 1}',
        b'{"proof": ""}',
        b'{"proof": ["a"]}',
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_malformed_bodies_are_invalid_requests_never_500(api: Api, raw: bytes) -> None:
    assert_error(api.call("POST", f"{KEYS}/verify", raw_body=raw), 400, "invalid_request")


def test_an_oversized_body_is_refused_with_413(api: Api) -> None:
    body = json.dumps({"proof": "x" * (16 * 1024)}).encode()
    assert_error(api.call("POST", f"{KEYS}/verify", raw_body=body), 413, "payload_too_large")


@pytest.mark.parametrize(
    "proof",
    ["a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x" * 8193, "ey.ey.ey.ey"],
)
def test_garbage_proofs_are_invalid_proofs(api: Api, proof: str) -> None:
    result = api.call("POST", f"{KEYS}/verify", {"proof": proof})
    assert result.status in (400, 401) and result.error_code in ("invalid_proof", "invalid_request")


def test_a_base64_encoded_body_is_read_like_api_gateway_sends_it(api: Api) -> None:
    event_body = json.dumps({"purpose": "verify"}).encode()
    result = api.call(
        "POST", f"{KEYS}/challenges", raw_body=event_body, headers={"content-type": "application/octet-stream"}
    )
    assert result.status == 201


@pytest.mark.parametrize("user_id", ["x" * 129, "a%00b", "%0A"])
def test_a_malformed_user_id_is_an_invalid_request(api: Api, user_id: str) -> None:
    assert_error(
        api.call("POST", f"/v1/users/{user_id}/device-keys/challenges", {"purpose": "verify"}), 400, "invalid_request"
    )


def test_percent_encoded_user_ids_are_decoded_like_api_gateway_does(api: Api, device: DeviceKeyPair) -> None:
    # GIVEN an e-mail address as user id, sent percent-encoded in the path
    challenge = api.challenge("ada%40example.com", "register")
    proof = device.proof(challenge=challenge, user_id="ada@example.com", purpose="register")
    result = api.call("POST", "/v1/users/ada%40example.com/device-keys", {"proof": proof}, as_user="ada@example.com")
    assert result.status == 201, result.body
    assert result.body["user_id"] == "ada@example.com"
