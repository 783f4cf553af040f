"""Who may call what (DESIGN.md section 2): the functions re-check the authorizer's claims."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api, HttpResult, device_for
from devicekeys_client import DeviceKeyPair


def registered(api: Api, user: str, device: DeviceKeyPair) -> str:
    result = api.register(user, device, display_name=f"{user}'s phone")
    assert result.status == 201, result.body
    return device.key_id


def snapshot(dynamodb: Any) -> list[dict[str, Any]]:
    return sorted(dynamodb.scan(TableName="test-device-keys")["Items"], key=str)


def forbidden(result: HttpResult) -> None:
    assert result.status == 403, result.body
    assert result.error_code == "forbidden"


OWNER_ROUTES = [
    ("GET", "/v1/users/{user}/device-keys", None),
    ("GET", "/v1/users/{user}/device-keys/{key}", None),
    ("PATCH", "/v1/users/{user}/device-keys/{key}", {"display_name": "mine now"}),
    ("DELETE", "/v1/users/{user}/device-keys/{key}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), OWNER_ROUTES)
def test_one_user_can_never_read_change_or_delete_another_users_keys(
    api: Api, dynamodb: Any, method: str, path: str, body: Any
) -> None:
    # GIVEN alice's key
    key_id = registered(api, "alice", device_for("ES256"))
    before = snapshot(dynamodb)
    # WHEN mallory, with a valid token of her own, targets alice's key
    result = api.call(method, path.format(user="alice", key=key_id), body, as_user="mallory")
    # THEN she is refused and nothing changed
    forbidden(result)
    assert snapshot(dynamodb) == before


def test_one_user_cannot_register_a_key_for_another(api: Api, dynamodb: Any) -> None:
    device = device_for("ES256")
    challenge = api.challenge("alice", "register")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="register")
    forbidden(api.call("POST", "/v1/users/alice/device-keys", {"proof": proof}, as_user="mallory"))
    assert snapshot(dynamodb) == []


@pytest.mark.parametrize(("method", "path", "body"), OWNER_ROUTES)
def test_without_a_token_the_functions_refuse_protected_routes(api: Api, method: str, path: str, body: Any) -> None:
    # API Gateway's authorizer stops these first; the functions refuse them again on their own.
    key_id = registered(api, "alice", device_for("ES256"))
    forbidden(api.call(method, path.format(user="alice", key=key_id), body))


def test_registration_without_a_token_is_refused(api: Api) -> None:
    device = device_for("ES256")
    challenge = api.challenge("alice", "register")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="register")
    forbidden(api.call("POST", "/v1/users/alice/device-keys", {"proof": proof}))


@pytest.mark.parametrize("action", ["block", "unblock"])
def test_only_admins_block_and_unblock_even_their_own_keys(api: Api, dynamodb: Any, action: str) -> None:
    key_id = registered(api, "alice", device_for("ES256"))
    before = snapshot(dynamodb)
    forbidden(api.call("POST", f"/v1/users/alice/device-keys/{key_id}/{action}", as_user="alice"))
    forbidden(api.call("POST", f"/v1/users/alice/device-keys/{key_id}/{action}"))
    assert snapshot(dynamodb) == before
    assert api.call("POST", f"/v1/users/alice/device-keys/{key_id}/{action}", as_user="ops", admin=True).status == 200


def test_an_admin_manages_anyones_keys(api: Api) -> None:
    key_id = registered(api, "alice", device_for("ES256"))
    path = f"/v1/users/alice/device-keys/{key_id}"
    assert api.call("GET", path, as_user="ops", admin=True).status == 200
    assert api.call("PATCH", path, {"display_name": "audited"}, as_user="ops", admin=True).status == 200
    assert api.call("GET", "/v1/users/alice/device-keys", as_user="ops", admin=True).body["count"] == 1
    assert api.call("DELETE", path, as_user="ops", admin=True).status == 204


def test_an_admin_can_register_a_key_for_a_user(api: Api) -> None:
    device = device_for("ES256")
    challenge = api.challenge("alice", "register")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="register")
    result = api.call("POST", "/v1/users/alice/device-keys", {"proof": proof}, as_user="ops", admin=True)
    assert result.status == 201 and result.body["user_id"] == "alice"


def test_the_admin_scope_must_be_exact(api: Api, functions: Any) -> None:
    key_id = registered(api, "alice", device_for("ES256"))
    match = functions.match("POST", f"/v1/users/alice/device-keys/{key_id}/block")
    for scope in ("device-keys/admin-lite", "device-keys", "admin", "device-keys/ADMIN"):
        response = functions.invoke_http(
            match, raw_path=f"/v1/users/alice/device-keys/{key_id}/block", claims={"sub": "eve", "scope": scope}
        )
        assert response["statusCode"] == 403, scope
    # scopes may also arrive as the authorizer's list, or a cognito-style space-separated claim
    for claims, scopes in (
        ({"sub": "ops"}, ["device-keys/admin"]),
        ({"sub": "ops", "scope": "openid device-keys/admin"}, None),
    ):
        response = functions.invoke_http(
            match, raw_path=f"/v1/users/alice/device-keys/{key_id}/block", claims=claims, scopes=scopes
        )
        assert response["statusCode"] == 200


def test_me_means_the_callers_own_user(api: Api) -> None:
    device = device_for("ES256")
    challenge = api.challenge("alice", "register")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="register")
    created = api.call("POST", "/v1/users/me/device-keys", {"proof": proof}, as_user="alice")
    assert created.status == 201 and created.body["user_id"] == "alice"
    mine = api.call("GET", "/v1/users/me/device-keys", as_user="alice").body
    assert [key["key_id"] for key in mine["device_keys"]] == [device.key_id]
    assert api.call("GET", "/v1/users/me/device-keys", as_user="bob").body["device_keys"] == []
    forbidden(api.call("GET", "/v1/users/me/device-keys"))


def test_verify_is_open_but_me_needs_a_token(api: Api) -> None:
    device = device_for("ES256")
    registered(api, "alice", device)
    assert api.verify("alice", device).status == 200  # no token: the proof is the credential
    forbidden(api.call("POST", "/v1/users/me/device-keys/verify", {"proof": "a.b.c"}))
    forbidden(api.call("POST", "/v1/users/me/device-keys/challenges", {"purpose": "verify"}))


def test_a_verified_proof_for_one_user_cannot_be_used_for_another(api: Api) -> None:
    device = device_for("ES256")
    registered(api, "alice", device)
    registered(api, "bob", device)
    challenge = api.challenge("alice", "verify")
    proof = device.proof(challenge=challenge, user_id="alice", purpose="verify")
    result = api.call("POST", "/v1/users/bob/device-keys/verify", {"proof": proof})
    assert result.status == 401 and result.error_code == "challenge_not_found"
