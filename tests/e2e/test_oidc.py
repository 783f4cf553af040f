"""The console's sign-in against the running local API, over HTTP: discovery, authorization, token, API call.

The flow's security properties are tested one by one in tests/test_oidc.py; in a browser, in
tests/e2e/browser/test_console.py.
"""

from __future__ import annotations

import json
import secrets
from http.client import HTTPConnection
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from devicekeys_local.oidc import s256

from .conftest import ADMIN_SCOPE, LocalApi, http

pytestmark = pytest.mark.e2e


def request(local_api: LocalApi, method: str, target: str, form: dict[str, str] | None = None) -> Any:
    """One request without following redirects: the response, its body read."""
    connection = HTTPConnection("127.0.0.1", local_api.server.port, timeout=10)
    body = urlencode(form).encode() if form is not None else None
    headers = {"content-type": "application/x-www-form-urlencoded"} if form is not None else {}
    connection.request(method, target, body=body, headers=headers)
    response = connection.getresponse()
    response.content = response.read()
    connection.close()
    return response


def test_the_console_signs_in_with_the_development_issuer_and_calls_the_api(local_api: LocalApi) -> None:
    status, _, config = http(local_api, "GET", "/console/config.json")
    assert status == 200
    assert config == {
        "api_base_url": local_api.url,
        "issuer": local_api.server.health()["issuer"],
        "client_id": "devicekeys-console",
        "scopes": ["openid", ADMIN_SCOPE],
        "admin_scope": ADMIN_SCOPE,
    }
    _, _, metadata = http(local_api, "GET", "/_local/issuer/.well-known/openid-configuration")
    assert metadata["issuer"] == config["issuer"]
    authorize, token_endpoint = (urlsplit(metadata[name]).path for name in ("authorization_endpoint", "token_endpoint"))

    verifier = secrets.token_urlsafe(48)
    authorization = {
        "response_type": "code",
        "client_id": config["client_id"],
        "redirect_uri": f"{local_api.url}/console/",
        "scope": " ".join(config["scopes"]),
        "state": "s",
        "nonce": "n",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    page = request(local_api, "GET", f"{authorize}?{urlencode(authorization)}")
    assert page.status == 200 and b'name="username"' in page.content

    signed_in = request(
        local_api, "POST", authorize, {**authorization, "username": "alice", "grant_admin": "yes", "action": "sign_in"}
    )
    assert signed_in.status == 303
    location = signed_in.getheader("location")
    assert location.startswith(f"{local_api.url}/console/?")
    code = parse_qs(urlsplit(location).query)["code"][0]

    tokens = request(
        local_api,
        "POST",
        token_endpoint,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": authorization["redirect_uri"],
            "client_id": config["client_id"],
            "code_verifier": verifier,
        },
    )
    assert tokens.status == 200 and tokens.getheader("cache-control") == "no-store"
    access_token = json.loads(tokens.content)["access_token"]

    status, _, listed = http(local_api, "GET", "/v1/users/bob/device-keys", token=access_token)  # admin: anyone's
    assert (status, listed["count"]) == (200, 0)
