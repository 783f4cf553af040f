"""The local API behaves as API Gateway does in front of the functions: routes, JWT authorizer, responses."""

from __future__ import annotations

import json
import socket
import time
import uuid
from typing import Any

import pytest
from devicekeys_client import DeviceKeyPair, DeviceKeysClient, Unauthorized
from joserfc import jwt
from joserfc.jwk import ECKey

from .conftest import ADMIN_SCOPE, LocalApi, http

pytestmark = pytest.mark.e2e


def issuer_token(local_api: LocalApi, **claims: Any) -> str:
    """A token signed with the development issuer's own key (kept in the state dir), claims overridden."""
    key = ECKey.import_key(json.loads((local_api.state_dir / "issuer-key.json").read_text()))
    health = local_api.server.health()
    now = int(time.time())
    payload = {"iss": health["issuer"], "aud": health["audience"][0], "sub": "alice", "iat": now, "exp": now + 300}
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode({"alg": "ES256", "kid": key.thumbprint()}, payload, key)


def test_unknown_routes_are_api_gateways_404(local_api: LocalApi) -> None:
    for method, path in [
        ("GET", "/"),
        ("GET", "/v1/users/alice"),
        ("PUT", "/v1/users/alice/device-keys"),  # a known path with another method
        ("GET", "/v1/users/alice/device-keys/challenges/extra"),
    ]:
        status, headers, body = http(local_api, method, path)
        assert (status, body) == (404, {"message": "Not Found"}), (method, path)
        assert headers["content-type"] == "application/json"


def test_protected_routes_without_a_token_are_api_gateways_401(local_api: LocalApi) -> None:
    key_id = DeviceKeyPair.generate().key_id
    for method, path in [
        ("GET", "/v1/users/alice/device-keys"),
        ("POST", "/v1/users/alice/device-keys"),
        ("GET", f"/v1/users/alice/device-keys/{key_id}"),
        ("PATCH", f"/v1/users/alice/device-keys/{key_id}"),
        ("DELETE", f"/v1/users/alice/device-keys/{key_id}"),
        ("POST", f"/v1/users/alice/device-keys/{key_id}/block"),
        ("POST", f"/v1/users/alice/device-keys/{key_id}/unblock"),
    ]:
        status, headers, body = http(local_api, method, path, {})
        assert (status, body) == (401, {"message": "Unauthorized"}), (method, path)
        assert headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "bad_token",
    [
        "not-a-jwt",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.",  # alg none
        "forged",  # right claims, signed by another key under the issuer's kid
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "not-yet-valid",
        "no-expiry",
    ],
)
def test_invalid_tokens_are_refused_by_the_authorizer(local_api: LocalApi, bad_token: str) -> None:
    if bad_token == "forged":
        real = ECKey.import_key(json.loads((local_api.state_dir / "issuer-key.json").read_text()))
        health = local_api.server.health()
        claims = {"iss": health["issuer"], "aud": health["audience"][0], "sub": "alice", "exp": int(time.time()) + 300}
        forger = ECKey.generate_key("P-256", private=True)
        bad_token = jwt.encode({"alg": "ES256", "kid": real.thumbprint()}, claims, forger)
    elif bad_token == "expired":
        bad_token = issuer_token(local_api, exp=int(time.time()) - 5)
    elif bad_token == "wrong-audience":
        bad_token = issuer_token(local_api, aud="someone-else")
    elif bad_token == "wrong-issuer":
        bad_token = issuer_token(local_api, iss="https://evil.example")
    elif bad_token == "not-yet-valid":
        bad_token = issuer_token(local_api, nbf=int(time.time()) + 600)
    elif bad_token == "no-expiry":
        bad_token = issuer_token(local_api, exp=None)

    status, _, body = http(local_api, "GET", "/v1/users/alice/device-keys", token=bad_token)

    assert (status, body) == (401, {"message": "Unauthorized"})


def test_a_forged_or_missing_token_raises_unauthorized_in_the_sdk(local_api: LocalApi, user_id: str) -> None:
    with pytest.raises(Unauthorized) as refused:
        local_api.client().list(user_id)
    assert refused.value.status == 401
    forger = ECKey.generate_key("P-256", private=True)
    forged = jwt.encode({"alg": "ES256"}, {"sub": user_id, "exp": int(time.time()) + 60}, forger)
    with pytest.raises(Unauthorized):
        DeviceKeysClient(local_api.url, forged).list(user_id)


def test_a_valid_token_passes_its_claims_and_scopes_like_api_gateway(local_api: LocalApi, user_id: str) -> None:
    token = issuer_token(local_api, sub=user_id, aud=["other", local_api.server.health()["audience"][0]])
    status, _, body = http(local_api, "GET", "/v1/users/me/device-keys", token=token)
    assert (status, body["device_keys"]) == (200, [])  # `me` resolved from the claims' sub

    plain = local_api.token(user_id)
    admin = issuer_token(local_api, sub="ops", scope=f"openid {ADMIN_SCOPE}")
    key_id = DeviceKeyPair.generate().key_id
    path = f"/v1/users/{user_id}/device-keys/{key_id}/block"
    assert http(local_api, "POST", path, {}, token=plain)[2]["error"]["code"] == "forbidden"
    assert http(local_api, "POST", path, {}, token=admin)[2]["error"]["code"] == "device_not_found"


def test_open_routes_get_no_claims_even_with_a_token(local_api: LocalApi, user_id: str) -> None:
    """API Gateway runs no authorizer on open routes, so `me` cannot be resolved there."""
    path = "/v1/users/me/device-keys/challenges"
    status, _, body = http(local_api, "POST", path, {"purpose": "verify"}, token=local_api.token(user_id))
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, _, body = http(local_api, "POST", f"/v1/users/{user_id}/device-keys/challenges", {"purpose": "verify"})
    assert status == 201
    assert set(body) == {"challenge", "purpose", "expires_at", "expires_in"}


def test_function_errors_pass_through_unchanged(local_api: LocalApi, user_id: str) -> None:
    token = local_api.token(user_id)
    status, headers, body = http(local_api, "POST", f"/v1/users/{user_id}/device-keys", raw=b"{not json", token=token)
    assert (status, body["error"]["code"]) == (400, "invalid_request")
    assert body["request_id"] == headers["apigw-requestid"]  # the event's requestId, as API Gateway sets it

    big = {"proof": "x" * (17 * 1024)}
    status, _, body = http(local_api, "POST", f"/v1/users/{user_id}/device-keys", big, token=token)
    assert (status, body["error"]["code"]) == (413, "payload_too_large")


def test_percent_encoded_user_ids_reach_the_function_decoded(local_api: LocalApi, device: DeviceKeyPair) -> None:
    email = f"alice+{uuid.uuid4().hex[:6]}@example.com"
    app = local_api.client(email)

    record = app.register(email, device)  # the SDK sends alice%2B...%40example.com

    assert record.user_id == email
    assert app.verify(email, device).known


def test_delete_answers_204_without_a_body(local_api: LocalApi, user_id: str, device: DeviceKeyPair) -> None:
    token = local_api.token(user_id)
    local_api.client(user_id).register(user_id, device)

    status, headers, body = http(local_api, "DELETE", f"/v1/users/{user_id}/device-keys/{device.key_id}", token=token)

    assert (status, body) == (204, None)
    assert "content-type" not in headers


def test_the_development_issuer_publishes_its_keys(local_api: LocalApi) -> None:
    health = local_api.server.health()
    status, _, discovery = http(local_api, "GET", "/_local/issuer/.well-known/openid-configuration")
    assert status == 200
    assert discovery["issuer"] == health["issuer"]
    status, _, jwks = http(local_api, "GET", "/_local/issuer/jwks.json")
    assert status == 200
    assert [key["kty"] for key in jwks["keys"]] == ["EC"]
    assert "d" not in jwks["keys"][0]
    status, _, body = http(local_api, "POST", "/_local/token", {"scope": "x"})  # no sub
    assert status == 400
    assert "sub" in body["message"]


def raw_request(local_api: LocalApi, request: bytes) -> bytes:
    """Send bytes as they are (urllib would fix the Host header): the first line of the answer."""
    with socket.create_connection(("127.0.0.1", local_api.server.port), timeout=10) as connection:
        connection.sendall(request)
        return connection.recv(65536).split(b"\r\n", 1)[0]


@pytest.mark.parametrize(
    "host",
    [b"evil.example", b"evil.example:3000", b"127.0.0.1.nip.io", b"localhost.evil.example", b"10.0.0.5", b""],
)
def test_a_host_that_is_not_loopback_is_refused_against_dns_rebinding(local_api: LocalApi, host: bytes) -> None:
    for path in (b"/_local/health", b"/v1/users/alice/device-keys/challenges", b"/_local/issuer/jwks.json"):
        request = b"GET " + path + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
        assert raw_request(local_api, request) == b"HTTP/1.1 403 Forbidden", (host, path)


@pytest.mark.parametrize("host", [b"localhost", b"localhost:3000", b"127.0.0.1:1", b"[::1]:3000", b"app.localhost"])
def test_loopback_host_names_are_served(local_api: LocalApi, host: bytes) -> None:
    request = b"GET /_local/health HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
    assert raw_request(local_api, request) == b"HTTP/1.1 200 OK"


def test_a_content_length_that_is_not_a_number_is_a_400(local_api: LocalApi) -> None:
    request = b"POST /v1/users/alice/device-keys/verify HTTP/1.1\r\nHost: localhost\r\nContent-Length: ten\r\n\r\n"
    assert raw_request(local_api, request) == b"HTTP/1.1 400 Bad Request"
