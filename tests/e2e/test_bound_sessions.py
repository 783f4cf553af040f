"""Bound sessions over the local API's HTTP, with the Python SDK for the app's side and a scripted browser.

The local gateway runs the template's Lambda authorizer in front of ``GET /dbsc/session``, the
publisher puts the session events on the local bus, and the Python SDK gives the app its
registration header, lists and ends sessions. (Chromium itself: tests/e2e/browser/test_dbsc.py.)
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from bound_session_helpers import ORIGIN, SessionBrowser, challenge_parts, cookie_of, registration_parts
from devicekeys_client import Forbidden, SessionNotFound

from .conftest import LocalApi

pytestmark = pytest.mark.e2e


def post(local_api: LocalApi, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(local_api.url + path, data=b"", method="POST", headers=headers)  # noqa: S310
    return _send(request)


def get(local_api: LocalApi, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    return _send(urllib.request.Request(local_api.url + path, headers=headers))  # noqa: S310


def _send(request: urllib.request.Request) -> tuple[int, dict[str, str], Any]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status, headers, payload = response.status, response.headers.items(), response.read()
    except urllib.error.HTTPError as error:
        status, headers, payload = error.code, error.headers.items(), error.read()
    return status, {name.lower(): value for name, value in headers}, json.loads(payload) if payload else None


def test_an_app_starts_a_session_a_browser_registers_and_refreshes_and_the_authorizer_guards_a_route(
    local_api: LocalApi, user_id: str
) -> None:
    app = local_api.client(user_id)
    registration = app.bound_session_registration(user_id)
    assert registration.header[0] == "Secure-Session-Registration"
    parts = registration_parts(registration.header_value)
    browser = SessionBrowser.generate("RS256")

    status, headers, instructions = post(
        local_api,
        parts["path"],
        {"Secure-Session-Response": browser.registration(parts["challenge"], parts["authorization"]), "Origin": ORIGIN},
    )
    assert status == 200, instructions
    session_id = instructions["session_identifier"]
    cookie = "=".join(cookie_of(headers["set-cookie"])[:2])

    assert get(local_api, "/dbsc/session", {"Cookie": cookie})[2]["session_id"] == session_id
    assert get(local_api, "/dbsc/session", {})[0] == 401
    assert get(local_api, "/dbsc/session", {"Cookie": cookie[:-6] + "AAAAAA"})[0] == 403

    status, headers, body = post(local_api, "/dbsc/refresh", {"Sec-Secure-Session-Id": session_id, "Origin": ORIGIN})
    assert (status, body["error"]["code"]) == (403, "challenge_required")
    challenge, _ = challenge_parts(headers["secure-session-challenge"])
    status, headers, _ = post(
        local_api,
        "/dbsc/refresh",
        {"Sec-Secure-Session-Id": session_id, "Secure-Session-Response": browser.refresh(challenge), "Origin": ORIGIN},
    )
    assert status == 200 and cookie_of(headers["set-cookie"])[1] != cookie.split("=", 1)[1]

    (listed,) = app.list_bound_sessions(user_id).sessions
    assert (listed.session_id, listed.alg, listed.refresh_count) == (session_id, "RS256", 1)
    ended = local_api.client("security-team", admin=True).terminate_bound_session(
        user_id, session_id, reason="reported stolen"
    )
    assert (ended.status, ended.terminated_reason) == ("terminated", "reported stolen")
    assert get(local_api, "/dbsc/session", {"Cookie": cookie})[0] == 403
    status, _, body = post(local_api, "/dbsc/refresh", {"Sec-Secure-Session-Id": session_id, "Origin": ORIGIN})
    assert (status, body["error"]["code"]) == (404, "session_not_found")

    kinds = _session_events(local_api, session_id, count=3)
    assert kinds == ["Device session registered", "Device session refreshed", "Device session terminated"]


def test_the_sdk_says_why_it_is_refused(local_api: LocalApi, user_id: str) -> None:
    with pytest.raises(Forbidden):
        local_api.client("mallory").bound_session_registration(user_id)
    with pytest.raises(SessionNotFound):
        local_api.client(user_id).terminate_bound_session(user_id, "bm9ib2R5.AAAAAAAAAAAAAAAAAAAAAA")


def _session_events(local_api: LocalApi, session_id: str, *, count: int) -> list[str]:
    deadline = time.monotonic() + 15
    kinds: list[str] = []
    while time.monotonic() < deadline:
        with urllib.request.urlopen(local_api.url + "/_local/events", timeout=5) as response:  # noqa: S310
            events = json.load(response)["events"]
        kinds = [event["detail-type"] for event in events if event["detail"].get("session_id") == session_id]
        if len(kinds) >= count:
            return kinds
        time.sleep(0.2)
    return kinds


def test_the_banner_lists_the_bound_route(local_api: LocalApi) -> None:
    assert re.search(r"GET\s+/dbsc/session\s+bound\s+BoundSessionInfoFunction", local_api.server.output())
