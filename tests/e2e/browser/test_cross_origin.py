"""CORS on the local API, as API Gateway answers it: exactly the console's origin (``ConsoleOrigin``).

A page served from a second origin (a plain ``http.server`` on another loopback port) calls the
API with ``fetch``, as a console hosted elsewhere would. ``http://127.0.0.1:<port>`` is the
allowed origin; ``http://localhost:<port>``, the same server under another name, is another
origin, and is refused.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from devicekeys_local.issuer import request_token

from ..conftest import LocalApi, LocalServer, start_server

pytestmark = pytest.mark.e2e
FETCH = """async ([url, token]) => {
    try {
        const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
        const reason = response.headers.get("www-authenticate");
        return { status: response.status, reason, body: await response.json() };
    } catch (error) {
        return { error: String(error) };
    }
}"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """The page's requests are not the test's output."""


@pytest.fixture(scope="module")
def page_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("another-origin")
    (folder / "index.html").write_text("<!doctype html><title>another origin</title>")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def console_origin(page_port: int) -> str:
    return f"http://127.0.0.1:{page_port}"


@pytest.fixture(scope="module")
def cors_api(tmp_path_factory: pytest.TempPathFactory, console_origin: str) -> Iterator[LocalServer]:
    logs: Path = tmp_path_factory.mktemp("cors-logs")
    server = start_server(logs, "--parameter-overrides", f"ConsoleOrigin={console_origin}")
    yield server
    assert server.stop() == 0, server.output()


def call(server: LocalServer, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()


def cors_headers(headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.startswith("access-control-")}


PREFLIGHT = {"access-control-request-method": "PATCH", "access-control-request-headers": "authorization,content-type"}


def test_a_preflight_from_the_console_origin_is_accepted(cors_api: LocalServer, console_origin: str) -> None:
    status, headers = call(cors_api, "OPTIONS", "/v1/users/me/device-keys/k", {"origin": console_origin, **PREFLIGHT})

    assert status == 204
    assert headers["access-control-allow-origin"] == console_origin
    assert "PATCH" in headers["access-control-allow-methods"].split(",")
    assert {"authorization", "content-type"} <= set(headers["access-control-allow-headers"].split(","))
    assert headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in headers


@pytest.mark.parametrize("origin", ["http://localhost:{port}", "https://127.0.0.1:{port}", "https://evil.example"])
def test_a_preflight_from_another_origin_gets_no_cors_headers(
    cors_api: LocalServer, page_port: int, origin: str
) -> None:
    status, headers = call(
        cors_api, "OPTIONS", "/v1/users/me/device-keys", {"origin": origin.format(port=page_port), **PREFLIGHT}
    )
    assert (status, cors_headers(headers)) == (204, {})


def test_answers_name_the_console_origin_and_no_other(cors_api: LocalServer, console_origin: str) -> None:
    token = request_token(cors_api.url, "alice")
    auth = {"authorization": f"Bearer {token}"}

    status, headers = call(cors_api, "GET", "/v1/users/me/device-keys", {"origin": console_origin, **auth})
    assert (status, headers["access-control-allow-origin"], headers["vary"]) == (200, console_origin, "origin")
    status, headers = call(cors_api, "GET", "/v1/users/me/device-keys", {"origin": console_origin})
    assert (status, headers["access-control-allow-origin"]) == (401, console_origin)  # the authorizer's answers too
    assert "www-authenticate" in headers["access-control-expose-headers"]

    status, headers = call(cors_api, "GET", "/v1/users/me/device-keys", {"origin": "https://evil.example", **auth})
    assert (status, cors_headers(headers)) == (200, {})


def test_without_a_console_origin_the_api_answers_no_cors(local_api: LocalApi) -> None:
    """The session's server has no ConsoleOrigin: as on AWS without CorsConfiguration, no preflight route."""
    status, headers = call(
        local_api.server, "OPTIONS", "/v1/users/me/device-keys", {"origin": "http://127.0.0.1:1", **PREFLIGHT}
    )
    assert (status, cors_headers(headers)) == (404, {})


@pytest.mark.browser
def test_only_a_page_on_the_console_origin_can_call_the_api(
    cors_api: LocalServer, page: Any, console_origin: str, page_port: int
) -> None:
    api = cors_api.url + "/v1/users/me/device-keys"
    token = request_token(cors_api.url, "alice")

    page.goto(console_origin + "/")
    assert page.evaluate(FETCH, [api, token]) == {
        "status": 200,
        "reason": None,
        "body": {"device_keys": [], "next_token": None, "count": 0},
    }
    refused = page.evaluate(FETCH, [api, None])  # the authorizer's reason is readable cross-origin
    assert (refused["status"], refused["reason"]) == (
        401,
        'Bearer scope="" error="invalid_token" error_description="missing token"',
    )

    page.goto(f"http://localhost:{page_port}/")  # the same page, another origin
    assert page.evaluate(FETCH, [api, token]) == {"error": "TypeError: Failed to fetch"}
