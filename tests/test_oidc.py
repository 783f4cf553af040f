"""The development issuer's sign-in (authorization code with PKCE) refuses what a real provider refuses.

Each test drives the endpoints as a browser and the console would, and checks one property of
the flow: codes bound to their client, redirect URI and PKCE challenge; single use; short
lifetime; S256 only; no redirect to an unregistered URI.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from devicekeys_local.gateway import GatewayResponse
from devicekeys_local.issuer import DevIssuer, JwtAuthorizer, TokenPolicy
from devicekeys_local.oidc import CODE_LIFETIME, AuthorizationServer, Client, s256
from joserfc import jwt
from joserfc.jwk import ECKey

ISSUER = "http://127.0.0.1:3000/_local/issuer"
CONSOLE = "http://127.0.0.1:3000/console/"
ADMIN_SCOPE = "device-keys/admin"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Flow:
    server: AuthorizationServer
    issuer: DevIssuer
    clock: Clock


@pytest.fixture
def flow() -> Flow:
    clock = Clock()
    issuer = DevIssuer(
        ECKey.generate_key("P-256", private=True), TokenPolicy(ISSUER, ("devicekeys-local",)), clock=clock
    )
    clients = [Client("devicekeys-console", (CONSOLE,)), Client("other-app", ("http://127.0.0.1:3000/other/",))]
    return Flow(AuthorizationServer(issuer, clients, ADMIN_SCOPE, clock=clock), issuer, clock)


def authorization_request(verifier: str, **overrides: str | None) -> dict[str, str]:
    request: dict[str, str | None] = {
        "response_type": "code",
        "client_id": "devicekeys-console",
        "redirect_uri": CONSOLE,
        "scope": f"openid {ADMIN_SCOPE}",
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    request.update(overrides)
    return {name: value for name, value in request.items() if value is not None}


def sign_in(flow: Flow, request: dict[str, str], user: str = "alice", **form: str) -> GatewayResponse:
    """Submit the sign-in page as a person would: the request's hidden fields, plus what they typed."""
    fields = {**request, "username": user, "action": "sign_in", **form}
    return flow.server.sign_in(urlencode(fields).encode())


def redirect_parameters(response: GatewayResponse) -> dict[str, str]:
    location = dict(response.headers)["location"]
    assert location.startswith(CONSOLE + "?")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def code_for(flow: Flow, verifier: str, **form: str) -> str:
    response = sign_in(flow, authorization_request(verifier), **form)
    assert response.status == 303
    return redirect_parameters(response)["code"]


def redeem(flow: Flow, **fields: str) -> tuple[int, dict[str, Any]]:
    response = flow.server.token(urlencode(fields).encode())
    assert ("cache-control", "no-store") in response.headers
    return response.status, json.loads(response.body)


def exchange(flow: Flow, code: str, verifier: str, **overrides: str) -> tuple[int, dict[str, Any]]:
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CONSOLE,
        "client_id": "devicekeys-console",
        "code_verifier": verifier,
        **overrides,
    }
    return redeem(flow, **fields)


def new_verifier() -> str:
    return secrets.token_urlsafe(48)


def test_a_signed_in_user_gets_an_access_token_the_api_accepts_and_an_id_token(flow: Flow) -> None:
    verifier = new_verifier()
    response = sign_in(flow, authorization_request(verifier))
    parameters = redirect_parameters(response)
    assert (parameters["state"], parameters["iss"]) == ("state-123", ISSUER)  # RFC 9207

    status, tokens = exchange(flow, parameters["code"], verifier)

    assert status == 200
    assert (tokens["token_type"], tokens["scope"], tokens["expires_in"]) == ("Bearer", "openid", 3600)
    authorization = JwtAuthorizer(flow.issuer.public_keys(), flow.issuer.policy, clock=flow.clock).authorize(
        "Bearer " + tokens["access_token"]
    )
    assert authorization.claims["sub"] == "alice"
    assert authorization.scopes == ["openid"]  # no admin scope: the box was not ticked
    id_token = jwt.decode(tokens["id_token"], flow.issuer.public_keys()).claims
    assert {name: id_token[name] for name in ("iss", "sub", "aud", "nonce")} == {
        "iss": ISSUER,
        "sub": "alice",
        "aud": "devicekeys-console",
        "nonce": "nonce-456",
    }


def test_the_admin_scope_is_granted_only_when_asked_for_and_ticked(flow: Flow) -> None:
    ticked = new_verifier()
    _, tokens = exchange(flow, code_for(flow, ticked, grant_admin="yes"), ticked)
    assert tokens["scope"] == f"openid {ADMIN_SCOPE}"

    not_asked = new_verifier()
    response = sign_in(flow, authorization_request(not_asked, scope="openid"), grant_admin="yes")
    _, tokens = exchange(flow, redirect_parameters(response)["code"], not_asked)
    assert tokens["scope"] == "openid"


def test_a_wrong_verifier_is_refused_and_uses_the_code_up(flow: Flow) -> None:
    verifier = new_verifier()
    code = code_for(flow, verifier)

    status, error = exchange(flow, code, new_verifier())
    assert (status, error["error"]) == (400, "invalid_grant")

    status, error = exchange(flow, code, verifier)  # no second guess
    assert (status, error["error"]) == (400, "invalid_grant")


def test_a_code_is_used_once(flow: Flow) -> None:
    verifier = new_verifier()
    code = code_for(flow, verifier)
    assert exchange(flow, code, verifier)[0] == 200

    status, error = exchange(flow, code, verifier)
    assert (status, error["error"]) == (400, "invalid_grant")


def test_a_code_expires(flow: Flow) -> None:
    verifier = new_verifier()
    code = code_for(flow, verifier)
    flow.clock.now += CODE_LIFETIME

    status, error = exchange(flow, code, verifier)
    assert (status, error["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"redirect_uri": "http://127.0.0.1:3000/other/"}, (400, "invalid_grant")),
        ({"redirect_uri": CONSOLE + "index.html"}, (400, "invalid_grant")),
        ({"client_id": "other-app"}, (400, "invalid_grant")),
        ({"client_id": "unknown"}, (401, "invalid_client")),
        ({"grant_type": "client_credentials"}, (400, "unsupported_grant_type")),
    ],
)
def test_a_code_is_bound_to_its_client_and_redirect_uri(
    flow: Flow, overrides: dict[str, str], expected: tuple[int, str]
) -> None:
    verifier = new_verifier()
    status, error = exchange(flow, code_for(flow, verifier), verifier, **overrides)
    assert (status, error["error"]) == expected


def test_a_verifier_that_is_the_challenge_itself_is_refused(flow: Flow) -> None:
    """What "plain" PKCE would accept: the challenge sent back as the verifier."""
    verifier = new_verifier()
    status, error = exchange(flow, code_for(flow, verifier), s256(verifier))
    assert (status, error["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # RFC 7636: absent means plain
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),  # no PKCE at all
        ({"code_challenge": "short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_authorization_requests_without_s256_pkce_are_refused_at_the_redirect_uri(
    flow: Flow, overrides: dict[str, str | None], error: str
) -> None:
    request = authorization_request(new_verifier(), **overrides)
    for response in (flow.server.sign_in_page(urlencode(request)), sign_in(flow, request)):
        assert response.status == 303
        parameters = redirect_parameters(response)
        assert (parameters["error"], parameters["state"]) == (error, "state-123")
        assert "code" not in parameters


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "https://evil.example/console/"},
        {"redirect_uri": CONSOLE + "?next=https://evil.example"},
        {"redirect_uri": "http://127.0.0.1:3000/other/"},  # another client's
        {"redirect_uri": None},
        {"client_id": "unknown"},
        {"client_id": None},
    ],
)
def test_an_unregistered_client_or_redirect_uri_gets_a_page_never_a_redirect(
    flow: Flow, overrides: dict[str, str | None]
) -> None:
    request = authorization_request(new_verifier(), **overrides)
    for response in (flow.server.sign_in_page(urlencode(request)), sign_in(flow, request)):
        assert response.status == 400
        assert "location" not in dict(response.headers)
        assert b"Sign-in request refused" in response.body


def test_a_repeated_parameter_is_refused(flow: Flow) -> None:
    query = urlencode(authorization_request(new_verifier())) + "&redirect_uri=" + "https%3A%2F%2Fevil.example%2F"
    response = flow.server.sign_in_page(query)
    assert response.status == 400 and "location" not in dict(response.headers)


def test_cancelling_tells_the_client_access_denied(flow: Flow) -> None:
    response = sign_in(flow, authorization_request(new_verifier()), action="cancel")
    assert redirect_parameters(response)["error"] == "access_denied"


@pytest.mark.parametrize("user", ["", "   ", "me", "a/b", "tab\there", "x" * 129])
def test_a_user_name_the_api_would_refuse_is_asked_again(flow: Flow, user: str) -> None:
    response = sign_in(flow, authorization_request(new_verifier()), user=user)
    assert response.status == 400 and "location" not in dict(response.headers)
    assert b'role="alert"' in response.body


def test_the_sign_in_page_escapes_what_the_client_sent_and_cannot_be_framed(flow: Flow) -> None:
    request = authorization_request(new_verifier(), state='"><script>alert(1)</script>')
    response = flow.server.sign_in_page(urlencode(request))
    headers = dict(response.headers)
    assert response.status == 200
    assert b"<script>" not in response.body and b"&quot;&gt;&lt;script&gt;" in response.body
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]


def test_the_discovery_document_advertises_the_code_flow_with_s256_only(flow: Flow) -> None:
    document = flow.server.discovery("http://127.0.0.1:3000")
    assert document["issuer"] == ISSUER
    assert document["authorization_endpoint"] == "http://127.0.0.1:3000/_local/issuer/authorize"
    assert document["token_endpoint"] == "http://127.0.0.1:3000/_local/issuer/token"
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["grant_types_supported"] == ["authorization_code"]
    assert document["authorization_response_iss_parameter_supported"] is True
