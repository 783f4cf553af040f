"""Who may call what (docs/protocol.md, section 7): the functions re-check the authorizer's claims."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import Api, HttpResult, device_for
from devicekeys.access import granted_scopes
from devicekeys_client import DeviceKeyPair
from devicekeys_local.issuer import Authorization, DevIssuer, JwtAuthorizer, TokenPolicy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import ECKey


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
    assert result.status == 401 and result.error_code == "invalid_proof"
    # refused on its face (sub is alice): alice's challenge was not burned by bob's route
    assert api.call("POST", "/v1/users/alice/device-keys/verify", {"proof": proof}).status == 200


# --- the admin scope: exactly what the gateway reads --------------------------------------------

POLICY = TokenPolicy(issuer="https://issuer.test", audiences=("devicekeys-test",))
_ISSUER_KEY = ECKey.generate_key("P-256", private=True)
_ISSUER = DevIssuer(_ISSUER_KEY, POLICY)
AUTHORIZER = JwtAuthorizer(_ISSUER.public_keys(), POLICY)


def token_with(**claims: Any) -> Authorization:
    """A signed access token with these claims, read by the emulated HTTP API JWT authorizer."""
    now = int(time.time())
    payload = {"iss": POLICY.issuer, "aud": POLICY.audiences[0], "sub": "eve", "iat": now, "exp": now + 60, **claims}
    token = jwt.encode({"alg": "ES256", "kid": _ISSUER.key_id}, payload, _ISSUER_KEY, algorithms=["ES256"])
    return AUTHORIZER.authorize(f"Bearer {token}")


def block_as(api: Api, authorization: Authorization) -> HttpResult:
    key_id = registered(api, "alice", device_for("ES256"))
    return api.call("POST", f"/v1/users/alice/device-keys/{key_id}/block", authorization=authorization)


@pytest.mark.parametrize(
    "claims",
    [
        {"scope": "x/y,device-keys/admin"},
        {"scope": "device-keys/admin,x/y"},
        {"scope": "[device-keys/admin]"},
        {"scope": "[x device-keys/admin]"},
        {"scp": "[device-keys/admin]"},
        {"scope": "x\tdevice-keys/admin"},
        {"scope": "device-keys/admin2"},
        {"scope": "Device-Keys/Admin"},
        {"scope": '"device-keys/admin"'},
        {"scp": ["device-keys/admin x"]},
        {"scp": ["[device-keys/admin]"]},
    ],
)
def test_a_scope_that_merely_contains_the_admin_scope_grants_nothing(api: Api, claims: dict[str, Any]) -> None:
    authorization = token_with(**claims)
    assert "device-keys/admin" not in (authorization.scopes or [])  # the gateway's own reading
    forbidden(block_as(api, authorization))


@pytest.mark.parametrize(
    "claims",
    [
        {"scope": "device-keys/admin"},
        {"scope": "openid device-keys/admin profile"},
        {"scp": ["openid", "device-keys/admin"]},
        {"scp": "device-keys/admin"},
    ],
)
def test_the_admin_scope_as_a_whole_element_grants_admin(api: Api, claims: dict[str, Any]) -> None:
    assert block_as(api, token_with(**claims)).status == 200


scope_text = st.lists(
    st.sampled_from(["device-keys/admin", "openid", "x/y", ",", "[", "]", " ", "\t", "admin", "device-keys"]),
    max_size=6,
).map("".join)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scope=scope_text | st.lists(scope_text, max_size=3), claim=st.sampled_from(["scope", "scp"]))
def test_the_function_and_the_gateway_agree_on_who_is_an_admin(api: Api, scope: Any, claim: str) -> None:
    """Property: whatever the token's scope looks like, the function reads it as the authorizer does."""
    authorization = token_with(**{claim: scope})
    gateway_says_admin = "device-keys/admin" in (authorization.scopes or [])
    result = api.call("GET", "/v1/users/alice/device-keys", authorization=authorization)  # alice's, not eve's
    assert result.status == (200 if gateway_says_admin else 403), (scope, authorization.scopes)


@pytest.mark.parametrize(
    ("claims", "granted"),
    [
        ({"scope": "x/y,device-keys/admin"}, {"x/y,device-keys/admin"}),
        ({"scope": "[device-keys/admin]"}, {"[device-keys/admin]"}),
        ({"scope": "openid  device-keys/admin"}, {"openid", "device-keys/admin"}),
        ({"scp": ["x/y,device-keys/admin", 7]}, {"x/y,device-keys/admin"}),
        ({"scope": 7, "scp": None}, set()),
    ],
)
def test_without_the_gateways_list_the_claims_are_read_as_whole_elements(
    claims: dict[str, Any], granted: set[str]
) -> None:
    """The fallback when no list came from the authorizer (a token with no scope the gateway parsed)."""
    assert granted_scopes(None, claims) == granted
