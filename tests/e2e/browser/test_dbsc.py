"""Device-bound sessions with the real Chromium: it registers, refreshes, and is refused, by itself.

The local API runs over HTTPS (``serve --https``: its own self-signed certificate) with a bound
cookie of a few seconds (``DbscCredentialSeconds``), and Chromium is started with DBSC on and a
software session key, trusting that certificate by its public key (the flags the server prints).
Nothing here signs for the browser: Chromium makes its key, signs registration and every refresh,
and holds requests while it refreshes. Screenshots: .artifacts/screenshots/dbsc-*.png.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import client as http_client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from devicekeys_client import DeviceKeyPair, DeviceKeysClient
from devicekeys_local.events import ADMIN_SCOPE
from devicekeys_local.issuer import request_token
from devicekeys_local.tls import load_or_create
from joserfc import jws
from playwright.sync_api import expect

from ..conftest import ROOT, free_port, subprocess_env
from .conftest import CHROMIUM_ARGS, chromium_executable, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CREDENTIAL_SECONDS = 5  # the bound cookie's lifetime: short, to watch it expire and be renewed
COOKIE = "__Host-dk-session"


@dataclass
class HttpsApi:
    url: str
    cert: Path
    chromium_flags: list[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def requests(self, path: str) -> list[int]:
        """The statuses answered on ``path`` so far, in order (from the server's access log)."""
        return [int(status) for status in re.findall(rf"^POST {re.escape(path)} (\d+) ", self.log(), re.MULTILINE)]

    def client(self, subject: str, *, admin: bool = False) -> DeviceKeysClient:
        return DeviceKeysClient(self.url, request_token(self.url, subject, [ADMIN_SCOPE] if admin else []))


@pytest.fixture(scope="module")
def https_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsApi]:
    """``python -m devicekeys_local serve --https``, as a developer runs it for DBSC."""
    state = tmp_path_factory.mktemp("dbsc-state")
    tls = load_or_create(state)  # the server reuses the state directory's certificate: its hash is known now
    port = free_port()
    log_path = tmp_path_factory.mktemp("dbsc-logs") / "server.log"
    command = [
        sys.executable,
        "-m",
        "devicekeys_local",
        "serve",
        "--https",
        "--port",
        str(port),
        "--state-dir",
        str(state),
        "--parameter-overrides",
        f"DbscCredentialSeconds={CREDENTIAL_SECONDS}",
    ]
    previous = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(tls.cert_path)  # this process's clients (tokens, the SDK) trust it...
    # ...including urllib's shared opener, which an earlier test may have built with the default trust store
    trusting = ssl.create_default_context(cafile=str(tls.cert_path))
    urllib.request.install_opener(urllib.request.build_opener(urllib.request.HTTPSHandler(context=trusting)))
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=subprocess_env())  # noqa: S603
    api = HttpsApi(f"https://127.0.0.1:{port}", tls.cert_path, tls.chromium_flags(), log_path)
    try:
        _wait_until_ready(api, process)
        assert f"--ignore-certificate-errors-spki-list={tls.spki_sha256}" in api.log()  # printed for people
        yield api
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        urllib.request.install_opener(None)  # the next urlopen builds a default one again
        if previous is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = previous


def _wait_until_ready(api: HttpsApi, process: subprocess.Popen[bytes]) -> None:
    context = ssl.create_default_context(cafile=str(api.cert))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the local API exited:\n{api.log()}")
        try:
            with urllib.request.urlopen(api.url + "/_local/health", context=context, timeout=5):  # noqa: S310
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    pytest.fail(f"the HTTPS local API was not ready:\n{api.log()}")


@pytest.fixture(scope="module")
def chromium(browser: Any, https_api: HttpsApi) -> Iterator[Any]:
    """The machine's Chromium with DBSC on (a software session key), trusting the server's certificate."""
    launched = browser.browser_type.launch(
        executable_path=chromium_executable(), headless=True, args=[*CHROMIUM_ARGS, *https_api.chromium_flags]
    )
    yield launched
    launched.close()


@pytest.fixture
def new_context(chromium: Any) -> Iterator[Callable[..., Any]]:
    """Fresh browser profiles (each its own cookies and DBSC sessions), closed after the test."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = chromium.new_context(viewport={"width": 1100, "height": 900}, **options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def user(new_user: Callable[[], str]) -> str:
    return new_user()


def sign_in_on_the_demo(page: Any, https_api: HttpsApi, user: str) -> None:
    page.goto(f"{https_api.url}/demo/")
    expect(page.get_by_role("status")).to_have_text("Sign in to start.")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in with password").click()
    expect(page.get_by_role("heading", name=f"Signed in as {user}")).to_be_visible()


def bound_cookie(context: Any) -> dict[str, Any] | None:
    return next((cookie for cookie in context.cookies() if cookie["name"] == COOKIE), None)


def claims_of(credential: str) -> dict[str, Any]:
    payload = credential.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def protected_call(page: Any) -> int:
    """``GET /dbsc/session`` from the page, as the app's own requests go: Chromium adds (and renews) the cookie."""
    return int(page.evaluate("fetch('/dbsc/session').then((answer) => answer.status)"))


def registered(page: Any, user: str) -> None:
    expect(page.locator("#bound-status")).to_contain_text(
        f"This browser holds a device-bound session for {user}", timeout=15_000
    )


def test_the_demo_signs_in_chromium_registers_and_a_protected_call_succeeds(
    https_api: HttpsApi, new_context: Callable[..., Any], user: str
) -> None:
    context = new_context()
    page = context.new_page()

    sign_in_on_the_demo(page, https_api, user)
    registered(page, user)

    cookie = bound_cookie(context)
    assert cookie is not None and cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    claims = claims_of(cookie["value"])
    assert claims["sub"] == user and claims["exp"] - claims["iat"] == CREDENTIAL_SECONDS
    assert page.evaluate("document.cookie").find(COOKIE) == -1  # HttpOnly: no script reads it
    page.get_by_role("button", name="Call the protected API").click()
    expect(page.locator("#protected-outcome")).to_have_text(re.compile(rf"^allowed: session .{{8}} of {user}$"))
    screenshot(page, "dbsc-demo-bound-session")

    (session,) = https_api.client(user).list_bound_sessions(user).sessions
    assert session.session_id == claims["sid"] and session.is_active and session.alg == "ES256"
    assert "Chrome/156" in (session.user_agent or "")
    assert https_api.requests("/dbsc/register")[-1:] == [200]


def test_the_cookie_expires_and_chromium_refreshes_through_the_challenge_by_itself(
    https_api: HttpsApi, new_context: Callable[..., Any], user: str
) -> None:
    context = new_context()
    page = context.new_page()
    sign_in_on_the_demo(page, https_api, user)
    registered(page, user)
    first = bound_cookie(context)
    assert first is not None

    time.sleep(CREDENTIAL_SECONDS + 1)  # the first cookie has expired
    refreshes_before = https_api.requests("/dbsc/refresh")
    assert protected_call(page) == 200  # held by Chromium until it refreshed, then sent with the new cookie

    renewed = bound_cookie(context)
    assert renewed is not None and renewed["value"] != first["value"]
    assert claims_of(renewed["value"])["sid"] == claims_of(first["value"])["sid"]
    assert claims_of(renewed["value"])["iat"] > claims_of(first["value"])["iat"]
    refreshes = https_api.requests("/dbsc/refresh")
    assert 403 in refreshes and 200 in refreshes[refreshes.index(403) :]  # a challenge, then its signed answer
    assert len(refreshes) >= len(refreshes_before)
    (session,) = https_api.client(user).list_bound_sessions(user).sessions
    assert session.refresh_count >= 1


def test_a_copied_cookie_works_only_until_it_expires_and_is_never_refreshed_elsewhere(
    https_api: HttpsApi, new_context: Callable[..., Any], user: str
) -> None:
    victim = new_context()
    victim_page = victim.new_page()
    sign_in_on_the_demo(victim_page, https_api, user)
    registered(victim_page, user)
    stolen = bound_cookie(victim)
    assert stolen is not None

    # Another browser profile: the infostealer's (its hand-made requests trust the local certificate too).
    thief = new_context(ignore_https_errors=True)
    thief.add_cookies([stolen])
    thief_page = thief.new_page()
    thief_page.goto(f"{https_api.url}/demo/")
    still_valid = stolen["expires"] - time.time() > 0.5
    works_now = protected_call(thief_page)
    assert works_now == 200 or not still_valid

    time.sleep(max(0.0, stolen["expires"] - time.time()) + 1)
    assert bound_cookie(thief) is None  # expired, and no session of this profile renews it
    assert protected_call(thief_page) == 401

    # Nor can the thief refresh it by hand with the session id the cookie names: the challenge
    # must be signed by the victim's session key, which never left the victim's browser.
    session_id = claims_of(stolen["value"])["sid"]
    leg1 = thief.request.post(f"{https_api.url}/dbsc/refresh", headers={"Sec-Secure-Session-Id": session_id})
    assert leg1.status == 403
    challenge = re.fullmatch(r'"([^"]+)";id="[^"]+"', leg1.headers["secure-session-challenge"]).group(1)  # type: ignore[union-attr]
    forged = jws.serialize_compact(
        {"alg": "ES256", "typ": "dbsc+jwt"},
        json.dumps({"jti": challenge}),
        DeviceKeyPair.generate("ES256").key,
        algorithms=["ES256"],
    )
    leg2 = thief.request.post(
        f"{https_api.url}/dbsc/refresh",
        headers={"Sec-Secure-Session-Id": session_id, "Secure-Session-Response": forged, "Origin": https_api.url},
    )
    assert (leg2.status, leg2.json()["error"]["code"]) == (401, "invalid_proof")
    assert bound_cookie(thief) is None
    assert protected_call(victim_page) == 200  # the holder of the key carries on


def test_an_administrator_terminates_the_session_in_the_console_and_its_next_refresh_fails(
    https_api: HttpsApi, new_context: Callable[..., Any], user: str
) -> None:
    context = new_context()
    page = context.new_page()
    sign_in_on_the_demo(page, https_api, user)
    registered(page, user)
    session_id = claims_of(bound_cookie(context)["value"])["sid"]  # type: ignore[index]

    admin = new_context().new_page()
    admin.goto(f"{https_api.url}/console/#/users/{user}")
    admin.get_by_role("button", name="Sign in").click()
    admin.get_by_label("User name").fill("security-team")
    admin.get_by_label("Grant the admin scope").check()
    admin.get_by_role("button", name="Sign in").click()
    sessions = admin.get_by_role("region", name="Bound sessions")
    session_card = sessions.get_by_role("article", name=re.compile(r"^Chrome 156 on Linux$"))
    expect(session_card).to_have_count(1)
    expect(session_card.locator(".status")).to_have_text("Active")
    expect(session_card.get_by_text(session_id[-22:])).to_be_visible()
    screenshot(admin, "dbsc-console-sessions")
    refreshes_before = len(https_api.requests("/dbsc/refresh"))
    session_card.get_by_role("button", name="Terminate").click()
    dialog = admin.get_by_role("dialog")
    dialog.get_by_label("Reason (optional)").fill("laptop reported stolen")
    dialog.get_by_role("button", name="Terminate session").click()
    expect(session_card.locator(".status")).to_have_text("Ended")
    expect(session_card.get_by_text("laptop reported stolen")).to_be_visible()
    screenshot(admin, "dbsc-console-session-terminated")

    assert protected_call(page) in (401, 403)  # the authorizer refuses its cookie at once (or it is gone)
    time.sleep(CREDENTIAL_SECONDS + 1)
    assert protected_call(page) == 401  # the cookie expired; its refresh was refused, so none is sent
    after = https_api.requests("/dbsc/refresh")[refreshes_before:]
    assert 404 in after and 200 not in after[after.index(404) :]  # session_not_found: Chromium ended it
    time.sleep(1)
    assert protected_call(page) == 401
    assert len(https_api.requests("/dbsc/refresh")) == refreshes_before + len(after)  # and never asks again
    page.reload()
    expect(page.get_by_role("status")).to_have_text("Sign in to start.")
    expect(page.locator("#bound-session")).to_be_hidden()  # this browser holds no bound session any more


class _AppOrigin(ThreadingHTTPServer):
    """The app's origin in front of devicekeys, as a CloudFront behaviour is: every request passed on.

    What it may do on top stands for an attacker who gets a registration header to a browser:
    ``rewrite`` changes the ``Secure-Session-Registration`` value the browser receives.
    """

    daemon_threads = True

    def __init__(self, api: HttpsApi) -> None:
        super().__init__(("127.0.0.1", 0), _Relay)
        self.api = api
        self.rewrite: Callable[[str], str] | None = None
        self.upstream = ssl.create_default_context(cafile=str(api.cert))
        self.downstream = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.downstream.load_cert_chain(api.cert, api.cert.with_name("tls-key.pem"))  # the same key: trusted

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.downstream.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            request.close()
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


class _Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _AppOrigin
    _HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host"})

    def do_GET(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http_client.HTTPSConnection(
            urlsplit(self.server.api.url).netloc, context=self.server.upstream, timeout=30
        )
        headers = {name: value for name, value in self.headers.items() if name.lower() not in self._HOP}
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        content = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() in self._HOP:
                continue
            rewrite = self.server.rewrite if name.lower() == "secure-session-registration" else None
            self.send_header(name, rewrite(value) if rewrite else value)
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        upstream.close()

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the local API logs every request."""


@pytest.fixture
def app_origin(https_api: HttpsApi) -> Iterator[_AppOrigin]:
    origin = _AppOrigin(https_api)
    thread = threading.Thread(target=origin.serve_forever, daemon=True)
    thread.start()
    yield origin
    origin.shutdown()
    origin.server_close()


def _demo_at(page: Any, url: str, user: str) -> None:
    page.goto(f"{url}/demo/")
    expect(page.get_by_role("status")).to_have_text("Sign in to start.")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in with password").click()
    expect(page.get_by_role("heading", name=f"Signed in as {user}")).to_be_visible()


def test_a_registration_with_a_forged_authorization_or_a_replayed_challenge_is_refused(
    https_api: HttpsApi, app_origin: _AppOrigin, new_context: Callable[..., Any], new_user: Callable[[], str]
) -> None:
    user, mallory = new_user(), new_user()
    theirs = https_api.client(mallory).bound_session_registration(mallory).header_value
    their_authorization = re.search(r'authorization="([^"]+)"', theirs).group(1)  # type: ignore[union-attr]

    # Through the app's origin, a browser gets alice's challenge with another registration's authorization.
    app_origin.rewrite = lambda value: re.sub(r'authorization="[^"]+"', f'authorization="{their_authorization}"', value)
    forged = new_context().new_page()
    before = len(https_api.requests("/dbsc/register"))
    _demo_at(forged, app_origin.url, user)
    expect(forged.locator("#bound-status")).to_contain_text("registered no device-bound session", timeout=15_000)
    assert https_api.requests("/dbsc/register")[before:] == [401]  # challenge_not_found
    assert bound_cookie(forged.context) is None

    # A registration header used once already: the browser that registers with it again is refused.
    used: dict[str, str] = {}
    app_origin.rewrite = lambda value: used.setdefault("header", value)
    first = new_context().new_page()
    _demo_at(first, app_origin.url, user)
    registered(first, user)
    app_origin.rewrite = lambda value: used["header"]
    replay = new_context().new_page()
    before = len(https_api.requests("/dbsc/register"))
    _demo_at(replay, app_origin.url, user)
    expect(replay.locator("#bound-status")).to_contain_text("registered no device-bound session", timeout=15_000)
    assert https_api.requests("/dbsc/register")[before:] == [401]
    assert bound_cookie(replay.context) is None

    (only,) = https_api.client(user, admin=True).list_bound_sessions(user).sessions  # the honest one
    assert only.is_active and https_api.client(mallory).list_bound_sessions(mallory).sessions == []
