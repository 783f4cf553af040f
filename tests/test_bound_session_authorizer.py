"""The bound-session Lambda authorizer: only a current credential of this service, for an active session.

Driven with the REQUEST authorizer events API Gateway sends (payload 2.0), and through the local
gateway's emulation of it (401 without a cookie, 403 when refused, the context to the route).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from unittest import mock

import pytest
from bound_session_helpers import COOKIE, Dbsc, SessionBrowser, signing_key
from conftest import Api
from devicekeys.bound_credentials import CredentialIssuer, KmsSigningKey
from devicekeys.session_settings import SessionSettings
from devicekeys_local.events import authorizer_event, http_event
from devicekeys_local.gateway import HttpApiGateway
from devicekeys_local.template import lambda_authorizers

AUTHORIZER = "AuthorizeBoundSessionFunction"


@pytest.fixture
def dbsc(api: Api, functions: Any) -> Dbsc:
    return Dbsc(api, signing_key(functions))


def authorize(functions: Any, cookie_header: str | None) -> dict[str, Any]:
    headers = {"cookie": cookie_header} if cookie_header is not None else {}
    http = http_event(method="GET", route_path="/dbsc/session", raw_path="/dbsc/session", headers=headers)
    event = authorizer_event(http, identity_source=[cookie_header or ""])
    return dict(functions.invoke_direct(AUTHORIZER, event))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}.{_b64(signature)}"


def test_a_current_credential_of_an_active_session_is_authorized_with_its_context(dbsc: Dbsc, functions: Any) -> None:
    session_id, cookie = dbsc.session(SessionBrowser.generate())

    decision = authorize(functions, f"theme=dark; {COOKIE}={cookie}")

    assert decision["isAuthorized"] is True
    context = decision["context"]
    assert (context["user_id"], context["session_id"]) == ("alice", session_id)
    assert context["credential_expires_at"] == dbsc.verify_credential(cookie)["exp"]


@pytest.mark.parametrize("cookie_header", [None, "", "theme=dark", f"{COOKIE}=", f"other-{COOKIE}=x"])
def test_no_bound_cookie_is_no_authorization(dbsc: Dbsc, functions: Any, cookie_header: str | None) -> None:
    assert authorize(functions, cookie_header) == {"isAuthorized": False}


def test_an_expired_credential_is_refused(dbsc: Dbsc, functions: Any) -> None:
    _, cookie = dbsc.session(SessionBrowser.generate())
    verifier = functions.module(AUTHORIZER).services.verifier

    with mock.patch.object(verifier, "_clock", return_value=time.time() + 600):
        assert authorize(functions, f"{COOKIE}={cookie}") == {"isAuthorized": False}


def test_the_credential_of_a_terminated_session_stops_working_at_once(dbsc: Dbsc, functions: Any) -> None:
    session_id, cookie = dbsc.session(SessionBrowser.generate())
    assert authorize(functions, f"{COOKIE}={cookie}")["isAuthorized"] is True

    dbsc.api.call("POST", f"/v1/users/alice/bound-sessions/{session_id}/terminate", {}, as_user="ops", admin=True)

    assert authorize(functions, f"{COOKIE}={cookie}") == {"isAuthorized": False}


def test_forged_credentials_are_refused(dbsc: Dbsc, functions: Any) -> None:
    session_id, cookie = dbsc.session(SessionBrowser.generate())
    header, payload, signature = cookie.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    kid = "alias/test-dbsc-signing"
    public_der = dbsc.kms.get_public_key(KeyId=kid)["PublicKey"]
    # A second KMS key, signing what claims to be the first one's (same kid).
    signing_key(functions, alias="alias/attacker")
    attacker = CredentialIssuer(
        KmsSigningKey(SessionSettings(signing_key_id="alias/attacker"), region="us-east-1", client=dbsc.kms)
    )
    other_key = attacker.issue("alice", session_id, lifetime=600)
    o_header, o_payload, o_signature = other_key.split(".")
    forged_kid = _b64(json.dumps({"alg": "ES256", "typ": "dk-session+jwt", "kid": kid}).encode())
    signed_input = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'dk-session+jwt', 'kid': kid}).encode())}.{payload}"
    confused = f"{signed_input}.{_b64(hmac.new(public_der, signed_input.encode(), hashlib.sha256).digest())}"

    forgeries = {
        "another user": f"{header}.{_b64(json.dumps({**claims, 'sub': 'bob'}).encode())}.{signature}",
        "a longer life": f"{header}.{_b64(json.dumps({**claims, 'exp': claims['exp'] + 86400}).encode())}.{signature}",
        "alg none": _token({"alg": "none", "typ": "dk-session+jwt", "kid": kid}, claims),
        "HS256 keyed with the public key": confused,
        "another KMS key under this kid": f"{forged_kid}.{o_payload}.{o_signature}",
        "another KMS key": other_key,
        "no signature": f"{header}.{payload}.",
        "a session id of another user": ".".join(
            (header, _b64(json.dumps({**claims, "sid": "Ym9i" + session_id[8:]}).encode()), signature)
        ),
    }
    for case, token in forgeries.items():
        assert authorize(functions, f"{COOKIE}={token}") == {"isAuthorized": False}, case
    assert o_header and authorize(functions, f"{COOKIE}={cookie}")["isAuthorized"] is True


def test_through_the_gateway_a_protected_route_sees_whose_session_it_is(dbsc: Dbsc, functions: Any) -> None:
    session_id, cookie = dbsc.session(SessionBrowser.generate())
    environments: dict[str, dict[str, str]] = {logical_id: {} for logical_id in functions.definitions}
    gateway = HttpApiGateway(functions, mock.Mock(), environments, lambda_authorizers=lambda_authorizers())

    allowed = gateway.handle("GET", "/dbsc/session", [("Cookie", f"{COOKIE}={cookie}")], None)
    no_cookie = gateway.handle("GET", "/dbsc/session", [], None)
    refused = gateway.handle("GET", "/dbsc/session", [("Cookie", f"{COOKIE}=forged")], None)

    assert allowed.status == 200
    body = json.loads(allowed.body)
    assert (body["user_id"], body["session_id"]) == ("alice", session_id)
    assert (no_cookie.status, json.loads(no_cookie.body)) == (401, {"message": "Unauthorized"})
    assert (refused.status, json.loads(refused.body)) == (403, {"message": "Forbidden"})
