"""Device-bound web sessions (DBSC): start, register, refresh, end, with real keys and real signatures.

The browser is ``SessionBrowser`` (a real ES256 or RS256 key, joserfc signatures, the JWTs
Chromium sends); the credentials are signed by a real ECC_NIST_P256 key in moto's KMS and checked
with its public key. Every refusal is a 4xx with its code, and never uses up what the request
could not prove it may use.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from bound_session_helpers import (
    COOKIE,
    ORIGIN,
    Dbsc,
    SessionBrowser,
    challenge_parts,
    cookie_of,
    registration_parts,
    signing_key,
)
from conftest import Api
from devicekeys_client import DeviceKeyPair


@pytest.fixture
def dbsc(api: Api, functions: Any) -> Dbsc:
    return Dbsc(api, signing_key(functions))


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Count the AWS requests made meanwhile, as ``service:Operation``."""
    calls: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
        calls[f"{client.meta.service_model.endpoint_prefix}:{operation}"] += 1
        return original(client, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", counted):
        yield calls


# --- starting: the app's one call -----------------------------------------------------------


def test_the_app_gets_the_registration_header_for_its_signed_in_user(dbsc: Dbsc) -> None:
    result = dbsc.start("alice")

    assert result.status == 201
    assert result.body["header_name"] == "Secure-Session-Registration"
    assert result.headers["Secure-Session-Registration"] == result.body["header_value"]
    assert result.headers["Cache-Control"] == "no-store"
    parts = registration_parts(result.body["header_value"])
    assert parts["path"] == "/dbsc/register"
    assert len(parts["challenge"]) == 43 and len(parts["authorization"]) == 43
    assert parts["challenge"] == result.body["challenge"] and result.body["expires_in"] == 120


@pytest.mark.parametrize(
    ("caller", "status"),
    [({"as_user": "mallory"}, 403), ({"as_user": "ops", "admin": True}, 403), ({"as_user": None}, 403)],
)
def test_nobody_starts_a_session_for_someone_else_not_even_an_admin(dbsc: Dbsc, caller: Any, status: int) -> None:
    result = dbsc.start("alice", **caller)

    assert (result.status, result.error_code) == (status, "forbidden")


def test_a_direct_invocation_starts_one_for_the_user_it_names(dbsc: Dbsc, functions: Any) -> None:
    document = functions.invoke_direct("StartBoundSessionFunction", {"user_id": "alice"})

    assert registration_parts(document["header_value"])["path"] == "/dbsc/register"


# --- registering ---------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_a_registration_binds_the_browser_key_and_sets_a_signed_short_lived_cookie(dbsc: Dbsc, alg: str) -> None:
    browser = SessionBrowser.generate(alg)
    parts = dbsc.registration("alice")

    result = dbsc.register(browser.registration(parts["challenge"], parts["authorization"]))

    assert result.status == 200, result.body
    instructions = result.body
    assert instructions["refresh_url"] == "/dbsc/refresh"
    assert instructions["scope"] == {"origin": ORIGIN, "include_site": False, "scope_specification": []}
    assert instructions["credentials"] == [
        {"type": "cookie", "name": COOKIE, "attributes": "Path=/; Secure; HttpOnly; SameSite=Lax"}
    ]
    name, value, attributes = cookie_of(result.headers["Set-Cookie"])
    assert (name, attributes["max-age"], attributes["path"]) == (COOKIE, "600", "/")
    assert {"secure", "httponly"} <= set(attributes) and attributes["samesite"] == "Lax" and "domain" not in attributes
    assert result.headers["Cache-Control"] == "no-store"
    claims = dbsc.verify_credential(value)
    assert (claims["iss"], claims["sub"], claims["sid"]) == ("devicekeys", "alice", instructions["session_identifier"])
    assert claims["exp"] - claims["iat"] == 600
    (session,) = dbsc.api.call("GET", "/v1/users/alice/bound-sessions", as_user="alice").body["sessions"]
    assert session["alg"] == alg and session["status"] == "active" and session["refresh_count"] == 0
    assert session["key_thumbprint"] == browser.pair.key_id and session["user_agent"].endswith("Chrome/156.0.0.0")


def test_the_older_response_header_name_is_accepted(dbsc: Dbsc) -> None:
    browser, parts = SessionBrowser.generate(), dbsc.registration()
    response = browser.registration(parts["challenge"], parts["authorization"])

    result = dbsc.register(None, **{"sec-session-response": response})

    assert result.status == 200, result.body


def _forged(browser: SessionBrowser, parts: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Registrations the service must refuse, each with the error code it answers."""
    other = DeviceKeyPair.generate("ES256")
    challenge, authorization = parts["challenge"], parts["authorization"]
    private = {**browser.public_jwk, "d": "AAAA"}
    padded = {**browser.public_jwk, "x": browser.public_jwk["x"] + "A"}
    es384 = DeviceKeyPair.generate("ES384")
    return {
        "alg none": (_unsigned(browser, challenge, authorization), "invalid_proof"),
        "another typ": (browser.registration(challenge, authorization, header={"typ": "dk+jwt"}), "invalid_proof"),
        "ES384, which DBSC does not offer": (
            SessionBrowser(es384).registration(challenge, authorization),
            "invalid_proof",
        ),
        "no jwk": (browser.refresh(challenge, claims={"authorization": authorization}), "invalid_proof"),
        "a private jwk": (browser.registration(challenge, authorization, header={"jwk": private}), "unsupported_key"),
        "a non-canonical jwk": (
            browser.registration(challenge, authorization, header={"jwk": padded}),
            "unsupported_key",
        ),
        "signed by another key": (browser.registration(challenge, authorization, signer=other), "invalid_proof"),
        "no authorization": (browser.registration(challenge, None), "invalid_proof"),
        "a crit header": (
            browser.registration(challenge, authorization, header={"crit": ["b64"], "b64": True}),
            "invalid_proof",
        ),
    }


def _unsigned(browser: SessionBrowser, challenge: str, authorization: str) -> str:
    def b64(document: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    header = {"alg": "none", "typ": "dbsc+jwt", "jwk": browser.public_jwk}
    return f"{b64(header)}.{b64({'jti': challenge, 'authorization': authorization})}."


def test_every_forged_registration_is_refused_and_never_burns_the_registration(dbsc: Dbsc) -> None:
    browser, parts = SessionBrowser.generate(), dbsc.registration()

    for case, (response, code) in _forged(browser, parts).items():
        result = dbsc.register(response)
        assert (result.status, result.error_code) == ({"unsupported_key": 400}.get(code, 401), code), case

    good = dbsc.register(browser.registration(parts["challenge"], parts["authorization"]))
    assert good.status == 200, good.body


def test_a_forged_authorization_registers_nobody_and_leaves_the_real_one_usable(dbsc: Dbsc) -> None:
    alice, mallory = dbsc.registration("alice"), dbsc.registration("mallory")
    browser = SessionBrowser.generate()

    for authorization in (mallory["authorization"], "A" * 43, alice["challenge"]):
        result = dbsc.register(browser.registration(alice["challenge"], authorization))
        assert (result.status, result.error_code) == (401, "challenge_not_found"), authorization

    assert dbsc.register(browser.registration(alice["challenge"], alice["authorization"])).status == 200
    assert dbsc.api.call("GET", "/v1/users/mallory/bound-sessions", as_user="mallory").body["count"] == 0


def test_a_registration_is_used_once(dbsc: Dbsc) -> None:
    parts, first, second = dbsc.registration(), SessionBrowser.generate(), SessionBrowser.generate()

    assert dbsc.register(first.registration(parts["challenge"], parts["authorization"])).status == 200
    replay = dbsc.register(second.registration(parts["challenge"], parts["authorization"]))

    assert (replay.status, replay.error_code) == (401, "challenge_not_found")


def test_an_expired_registration_is_refused(dbsc: Dbsc, functions: Any) -> None:
    parts, browser = dbsc.registration(), SessionBrowser.generate()
    registrations = functions.module("RegisterBoundSessionFunction").services.registrations

    with mock.patch.object(registrations, "_clock", return_value=time.time() + 121):
        result = dbsc.register(browser.registration(parts["challenge"], parts["authorization"]))

    assert (result.status, result.error_code) == (401, "challenge_expired")


@pytest.mark.parametrize("origin", [None, "http://app.example.com", "https://app.example.com/path", "null"])
def test_a_registration_without_an_https_origin_is_refused_before_it_is_used(dbsc: Dbsc, origin: str | None) -> None:
    parts, browser = dbsc.registration(), SessionBrowser.generate()
    response = browser.registration(parts["challenge"], parts["authorization"])

    refused = dbsc.register(response, origin=origin)

    assert (refused.status, refused.error_code) == (403, "forbidden")
    assert dbsc.register(response).status == 200


def test_a_registration_without_its_header_is_a_bad_request(dbsc: Dbsc) -> None:
    result = dbsc.register(None)

    assert (result.status, result.error_code) == (400, "invalid_request")


# --- refreshing ----------------------------------------------------------------------------


def test_a_refresh_asks_for_a_challenge_then_issues_a_fresh_credential(dbsc: Dbsc) -> None:
    browser = SessionBrowser.generate()
    session_id, first = dbsc.session(browser)

    leg1 = dbsc.leg1(session_id)
    assert (leg1.status, leg1.error_code) == (403, "challenge_required")
    challenge, _ = challenge_parts(leg1.headers["Secure-Session-Challenge"])
    leg2 = dbsc.leg2(session_id, browser.refresh(challenge))

    assert leg2.status == 200, leg2.body
    assert leg2.body["session_identifier"] == session_id
    fresh = cookie_of(leg2.headers["Set-Cookie"])[1]
    assert fresh != first and dbsc.verify_credential(fresh)["sid"] == session_id
    (session,) = dbsc.api.call("GET", "/v1/users/alice/bound-sessions", as_user="alice").body["sessions"]
    assert session["refresh_count"] == 1 and session["last_refreshed_at"] is not None


def test_a_refresh_costs_two_dynamodb_requests_and_one_signature(dbsc: Dbsc) -> None:
    browser = SessionBrowser.generate()
    session_id, _ = dbsc.session(browser)

    with counting() as leg1_calls:
        challenge = dbsc.challenge(session_id)
    with counting() as leg2_calls:
        assert dbsc.leg2(session_id, browser.refresh(challenge)).status == 200

    assert dict(leg1_calls) == {"dynamodb:UpdateItem": 1}
    assert dict(leg2_calls) == {"dynamodb:UpdateItem": 1, "kms:Sign": 1}


def test_the_older_header_names_and_a_quoted_session_id_refresh_too(dbsc: Dbsc) -> None:
    browser = SessionBrowser.generate()
    session_id, _ = dbsc.session(browser)

    leg1 = dbsc.leg1(f'"{session_id}"', name="sec-session-id")
    challenge, _ = challenge_parts(leg1.headers["Secure-Session-Challenge"])
    leg2 = dbsc.leg2(
        session_id, browser.refresh(challenge), id_header="sec-session-id", response_header="sec-session-response"
    )

    assert (leg1.status, leg2.status) == (403, 200)


def test_a_replayed_refresh_gets_a_fresh_challenge_not_a_credential(dbsc: Dbsc) -> None:
    browser = SessionBrowser.generate()
    session_id, _ = dbsc.session(browser)
    answer = browser.refresh(dbsc.challenge(session_id))
    assert dbsc.leg2(session_id, answer).status == 200

    replay = dbsc.leg2(session_id, answer)

    assert (replay.status, replay.error_code) == (403, "challenge_required")  # the browser keeps its session
    fresh, _ = challenge_parts(replay.headers["Secure-Session-Challenge"])
    assert dbsc.leg2(session_id, browser.refresh(fresh)).status == 200


def test_a_stale_challenge_is_replaced_and_the_browser_still_refreshes(dbsc: Dbsc) -> None:
    browser = SessionBrowser.generate()
    session_id, _ = dbsc.session(browser)
    stale = dbsc.challenge(session_id)
    dbsc.challenge(session_id)  # someone with the session id asked for another one meanwhile

    result = dbsc.leg2(session_id, browser.refresh(stale))

    assert (result.status, result.error_code) == (403, "challenge_required")
    fresh, _ = challenge_parts(result.headers["Secure-Session-Challenge"])
    assert dbsc.leg2(session_id, browser.refresh(fresh)).status == 200


def test_a_stolen_session_id_cannot_refresh_without_the_key(dbsc: Dbsc) -> None:
    browser, thief = SessionBrowser.generate(), DeviceKeyPair.generate("ES256")
    session_id, _ = dbsc.session(browser)

    forged = dbsc.leg2(session_id, browser.refresh(dbsc.challenge(session_id), signer=thief))
    rsa = dbsc.leg2(session_id, browser.refresh(dbsc.challenge(session_id), signer=DeviceKeyPair.generate("RS256")))
    unsigned = dbsc.leg2(session_id, _unsigned(browser, dbsc.challenge(session_id), "x").rsplit(".", 1)[0] + ".")

    assert [(r.status, r.error_code) for r in (forged, rsa, unsigned)] == [(401, "invalid_proof")] * 3
    assert dbsc.refresh(browser, session_id).status == 200  # the holder still refreshes


@pytest.mark.parametrize(
    "session_id",
    ["nope", "YWxpY2U.AAAAAAAAAAAAAAAAAAAAAA", "YWxpY2U.short", "%%%.AAAAAAAAAAAAAAAAAAAAAA", "x" * 2000],
)
def test_an_unknown_session_ends_in_the_browser(dbsc: Dbsc, session_id: str) -> None:
    result = dbsc.leg1(session_id)

    assert (result.status, result.error_code) == (404, "session_not_found")


def test_a_refresh_without_a_session_id_is_a_bad_request(dbsc: Dbsc) -> None:
    for header in (None, '"unterminated', "a, b"):
        result = dbsc.leg1(header)
        assert (result.status, result.error_code) == (400, "invalid_request"), header


def test_a_terminated_session_fails_its_next_refresh(dbsc: Dbsc) -> None:
    browser = SessionBrowser.generate()
    session_id, _ = dbsc.session(browser)
    pending = dbsc.challenge(session_id)
    terminated = dbsc.api.call(
        "POST",
        f"/v1/users/alice/bound-sessions/{session_id}/terminate",
        {"reason": "stolen laptop"},
        as_user="ops",
        admin=True,
    )
    assert terminated.status == 200 and terminated.body["status"] == "terminated"

    leg2 = dbsc.leg2(session_id, browser.refresh(pending))
    leg1 = dbsc.leg1(session_id)

    assert [(r.status, r.error_code) for r in (leg2, leg1)] == [(404, "session_not_found")] * 2


def test_an_idle_session_expires(dbsc: Dbsc, functions: Any) -> None:
    browser = SessionBrowser.generate()
    session_id, _ = dbsc.session(browser)
    store = functions.module("RefreshBoundSessionFunction").services.store

    with mock.patch.object(store, "_clock", return_value=time.time() + 31 * 86400):
        result = dbsc.leg1(session_id)

    assert (result.status, result.error_code) == (404, "session_not_found")


def test_kms_unavailable_is_a_5xx_that_keeps_the_session(dbsc: Dbsc) -> None:
    browser = SessionBrowser.generate()
    session_id, _ = dbsc.session(browser)
    challenge = dbsc.challenge(session_id)
    original = BaseClient._make_api_call

    def throttled(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "Sign":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, operation)
        return original(client, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", throttled):
        result = dbsc.leg2(session_id, browser.refresh(challenge))

    assert (result.status, result.error_code, result.headers["Retry-After"]) == (503, "service_unavailable", "1")
    assert dbsc.refresh(browser, session_id).status == 200


# --- listing and ending --------------------------------------------------------------------


def test_sessions_are_listed_for_their_user_and_admins_only(dbsc: Dbsc) -> None:
    dbsc.session(SessionBrowser.generate(), "alice")
    dbsc.session(SessionBrowser.generate(), "alice")

    mine = dbsc.api.call("GET", "/v1/users/alice/bound-sessions", as_user="alice")
    admin = dbsc.api.call("GET", "/v1/users/alice/bound-sessions", as_user="ops", admin=True, query={"limit": "1"})
    other = dbsc.api.call("GET", "/v1/users/alice/bound-sessions", as_user="mallory")
    device_keys = dbsc.api.call("GET", "/v1/users/alice/device-keys", as_user="alice")

    assert mine.body["count"] == 2 and admin.body["count"] == 1 and admin.body["next_token"]
    nxt = dbsc.api.call(
        "GET", "/v1/users/alice/bound-sessions", as_user="alice", query={"next_token": admin.body["next_token"]}
    )
    assert nxt.body["count"] == 1 and nxt.body["sessions"][0]["session_id"] != admin.body["sessions"][0]["session_id"]
    assert (other.status, other.error_code) == (403, "forbidden")
    assert device_keys.body["count"] == 0  # sessions never show among device keys
    bad = dbsc.api.call("GET", "/v1/users/alice/bound-sessions", as_user="alice", query={"next_token": "bm9wZQ"})
    assert (bad.status, bad.error_code) == (400, "invalid_request")


def test_a_user_signs_out_one_browser_and_terminating_again_keeps_the_first_time(dbsc: Dbsc) -> None:
    session_id, _ = dbsc.session(SessionBrowser.generate())
    path = f"/v1/users/alice/bound-sessions/{session_id}/terminate"

    first = dbsc.api.call("POST", path, {"reason": "signed out"}, as_user="alice")
    again = dbsc.api.call("POST", path, {"reason": "again"}, as_user="ops", admin=True)
    other = dbsc.api.call("POST", path, {}, as_user="mallory")
    unknown = dbsc.api.call(
        "POST", "/v1/users/alice/bound-sessions/bm9wZQ.AAAAAAAAAAAAAAAAAAAAAA/terminate", {}, as_user="alice"
    )
    someone_elses = dbsc.api.call("POST", f"/v1/users/bob/bound-sessions/{session_id}/terminate", {}, as_user="bob")

    assert first.body["status"] == "terminated" and first.body["terminated_reason"] == "signed out"
    assert (again.body["terminated_at"], again.body["terminated_reason"]) == (
        first.body["terminated_at"],
        "signed out",
    )
    assert (other.status, other.error_code) == (403, "forbidden")
    assert [(r.status, r.error_code) for r in (unknown, someone_elses)] == [(404, "session_not_found")] * 2


def test_the_browser_logs_out_with_its_cookie(dbsc: Dbsc) -> None:
    session_id, cookie = dbsc.session(SessionBrowser.generate())

    result = dbsc.api.call("POST", "/dbsc/logout", headers={"cookie": f"theme=dark; {COOKIE}={cookie}"})
    without = dbsc.api.call("POST", "/dbsc/logout", headers={"cookie": "theme=dark"})
    forged = dbsc.api.call("POST", "/dbsc/logout", headers={"cookie": f"{COOKIE}={cookie[:-4]}AAAA"})

    assert result.status == 200 and result.body["status"] == "terminated" and result.body["session_id"] == session_id
    name, value, attributes = cookie_of(result.headers["Set-Cookie"])
    assert (name, value, attributes["max-age"]) == (COOKIE, "", "0")
    assert [(r.status, r.error_code) for r in (without, forged)] == [(404, "session_not_found")] * 2


def test_the_jwks_publishes_the_key_that_verifies_credentials(dbsc: Dbsc) -> None:
    from joserfc import jws
    from joserfc.jwk import KeySet

    _, cookie = dbsc.session(SessionBrowser.generate())
    result = dbsc.api.call("GET", "/dbsc/jwks.json")

    (key,) = result.body["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["kid"]) == ("EC", "P-256", "ES256", "alias/test-dbsc-signing")
    assert "d" not in key and result.headers["Cache-Control"] == "public, max-age=3600"
    verified = jws.deserialize_compact(cookie, KeySet.import_key_set(result.body), algorithms=["ES256"])
    assert json.loads(verified.payload)["sub"] == "alice"
