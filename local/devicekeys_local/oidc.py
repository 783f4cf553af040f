"""The development issuer's sign-in for browser apps: OAuth 2.0 authorization code with PKCE.

The device console signs in locally exactly as it does against a deployment's own provider:
it reads the discovery document, sends the browser to the authorization endpoint with a PKCE
``code_challenge`` (S256, RFC 7636), and exchanges the code it gets back at the token endpoint
with the ``code_verifier``. The sign-in page asks for a user name and whether to grant the admin
scope, without a password: the issuer exists for development on the developer's own machine.

What is enforced, as a real provider enforces it (RFC 6749, RFC 7636, RFC 9207, OAuth 2.0
Security BCP): only registered clients and their exact redirect URIs; an unknown client or
redirect URI gets an error page, never a redirect; PKCE with S256 is required (``plain`` and
no challenge are refused); a code is bound to its client, redirect URI and challenge, lives
``CODE_LIFETIME`` seconds and is used up by the first attempt to redeem it, right or wrong; the
authorization response carries ``iss``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .gateway import GatewayResponse
from .issuer import ALGORITHM, DEFAULT_TOKEN_LIFETIME, ISSUER_PATH, JWKS_PATH, MAX_TOKEN_LIFETIME, DevIssuer

CONSOLE_CLIENT_ID = "devicekeys-console"
DISCOVERY_PATH = ISSUER_PATH + "/.well-known/openid-configuration"
AUTHORIZATION_PATH = ISSUER_PATH + "/authorize"
OAUTH_TOKEN_PATH = ISSUER_PATH + "/token"
CODE_LIFETIME = 60  # seconds: a code is redeemed right after the redirect
_CODE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636, section 4.1
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256, unpadded
_USER_NAME = re.compile(r"[^/\x00-\x1f\x7f-\x9f]{1,128}")  # a user_id of the API (docs/protocol.md, section 9)


@dataclass(frozen=True)
class Client:
    """A registered public client (no secret: a browser app cannot keep one) and its redirect URIs."""

    client_id: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str


@dataclass(frozen=True)
class _IssuedCode:
    request: AuthorizationRequest
    subject: str
    granted_scopes: tuple[str, ...]
    token_lifetime: int
    expires_at: float


class _UntrustedRedirect(Exception):
    """The client or redirect URI is not registered: answer with a page, never redirect there."""


class _RepeatedParameter(Exception):
    """OAuth parameters must not repeat (RFC 6749, section 3.1): which value would the client mean?"""


class _AuthorizationError(Exception):
    """An error the client hears about at its (registered) redirect URI."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class _TokenError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class AuthorizationServer:
    """The authorization and token endpoints of the development issuer, and its discovery document."""

    def __init__(
        self,
        issuer: DevIssuer,
        clients: Iterable[Client],
        admin_scope: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.clients = {client.client_id: client for client in clients}
        self.admin_scope = admin_scope
        self._clock = clock
        self._codes: dict[str, _IssuedCode] = {}
        self._lock = threading.Lock()

    def discovery(self, base_url: str) -> dict[str, Any]:
        """The OpenID Provider Metadata (OpenID Connect Discovery 1.0, RFC 8414)."""
        return {
            "issuer": self.issuer.policy.issuer,
            "authorization_endpoint": base_url + AUTHORIZATION_PATH,
            "token_endpoint": base_url + OAUTH_TOKEN_PATH,
            "jwks_uri": base_url + JWKS_PATH,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid", self.admin_scope],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "authorization_response_iss_parameter_supported": True,
        }

    # --- the authorization endpoint ---------------------------------------------------------

    def sign_in_page(self, query: str) -> GatewayResponse:
        """``GET`` the authorization endpoint: the sign-in form, or why the request is refused."""
        try:
            parameters = _single_values(query)
            request = self._authorization_request(parameters)
        except (_RepeatedParameter, _UntrustedRedirect) as refused:
            return _refusal_page(str(refused))
        except _AuthorizationError as error:
            return self._redirect_error(parameters, error)
        return _sign_in_page(request, self.admin_scope, problem=None)

    def sign_in(self, form: bytes) -> GatewayResponse:
        """``POST`` the sign-in form: a one-time code at the client's redirect URI (or its refusal)."""
        try:
            parameters = _single_values(form.decode("utf-8", errors="replace"))
            request = self._authorization_request(parameters)
        except (_RepeatedParameter, _UntrustedRedirect) as refused:
            return _refusal_page(str(refused))
        except _AuthorizationError as error:
            return self._redirect_error(parameters, error)
        if parameters.get("action") == "cancel":
            cancelled = {"error": "access_denied", "error_description": "the user cancelled the sign-in"}
            return self._redirect(request.redirect_uri, request.state, cancelled)
        subject = (parameters.get("username") or "").strip()
        if not _USER_NAME.fullmatch(subject) or subject == "me":
            problem = 'A user name is 1 to 128 characters, without "/" or control characters, and not "me".'
            return _sign_in_page(request, self.admin_scope, problem=problem, status=400)
        try:
            lifetime = int(parameters.get("token_lifetime") or DEFAULT_TOKEN_LIFETIME)
        except ValueError:
            lifetime = 0
        if not 0 < lifetime <= MAX_TOKEN_LIFETIME:
            problem = f"The token lifetime is 1 to {MAX_TOKEN_LIFETIME} seconds."
            return _sign_in_page(request, self.admin_scope, problem=problem, status=400)
        grantable = {"openid"} | ({self.admin_scope} if parameters.get("grant_admin") == "yes" else set())
        granted = tuple(scope for scope in request.scopes if scope in grantable)
        code = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._codes = {key: issued for key, issued in self._codes.items() if issued.expires_at > now}
            self._codes[code] = _IssuedCode(request, subject, granted, lifetime, now + CODE_LIFETIME)
        return self._redirect(request.redirect_uri, request.state, {"code": code})

    def _authorization_request(self, parameters: Mapping[str, str]) -> AuthorizationRequest:
        """The request, checked; ``_UntrustedRedirect`` before anything may be sent to the redirect URI."""
        client_id, redirect_uri = parameters.get("client_id"), parameters.get("redirect_uri")
        client = self.clients.get(client_id or "")
        if client is None:
            raise _UntrustedRedirect(f"client_id {client_id!r} is not a registered client")
        if redirect_uri not in client.redirect_uris:
            raise _UntrustedRedirect(
                f"redirect_uri {redirect_uri!r} is not registered for {client.client_id} "
                f"(registered: {', '.join(client.redirect_uris)})"
            )
        if parameters.get("response_type") != "code":
            raise _AuthorizationError("unsupported_response_type", "only response_type=code is supported")
        challenge, method = parameters.get("code_challenge"), parameters.get("code_challenge_method")
        if not challenge:
            raise _AuthorizationError("invalid_request", "PKCE is required: send code_challenge (S256)")
        if method != "S256":
            raise _AuthorizationError("invalid_request", "code_challenge_method must be S256 (plain is refused)")
        if not _S256_CHALLENGE.fullmatch(challenge):
            raise _AuthorizationError("invalid_request", "code_challenge is not the base64url of a SHA-256")
        return AuthorizationRequest(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scopes=tuple((parameters.get("scope") or "").split()),
            state=parameters.get("state"),
            nonce=parameters.get("nonce"),
            code_challenge=challenge,
        )

    def _redirect(self, redirect_uri: str, state: str | None, result: dict[str, str]) -> GatewayResponse:
        response = {**result, **({"state": state} if state is not None else {})}
        response["iss"] = self.issuer.policy.issuer  # RFC 9207: which issuer answered (mix-up attacks)
        separator = "&" if "?" in redirect_uri else "?"
        return GatewayResponse(
            303, [("location", redirect_uri + separator + urlencode(response)), ("cache-control", "no-store")]
        )

    def _redirect_error(self, parameters: Mapping[str, str], error: _AuthorizationError) -> GatewayResponse:
        """An error for a request whose client and redirect URI checked out: told at the redirect URI."""
        result = {"error": error.error, "error_description": error.description}
        return self._redirect(parameters["redirect_uri"], parameters.get("state"), result)

    # --- the token endpoint -----------------------------------------------------------------

    def token(self, form: bytes) -> GatewayResponse:
        """``POST`` the token endpoint: a code and its verifier for an access token and an ID token."""
        try:
            document = self._exchange(form.decode("utf-8", errors="replace"))
        except _TokenError as error:
            document, status = {"error": error.error, "error_description": error.description}, error.status
        else:
            status = 200
        headers = [("content-type", "application/json"), ("cache-control", "no-store"), ("pragma", "no-cache")]
        return GatewayResponse(status, headers, json.dumps(document).encode())

    def _exchange(self, form: str) -> dict[str, Any]:
        try:
            parameters = _single_values(form)
        except _RepeatedParameter as repeated:
            raise _TokenError("invalid_request", str(repeated)) from None
        if parameters.get("grant_type") != "authorization_code":
            raise _TokenError("unsupported_grant_type", "only grant_type=authorization_code is supported")
        client_id = parameters.get("client_id") or ""
        if client_id not in self.clients:
            raise _TokenError("invalid_client", f"client_id {client_id!r} is not a registered client", 401)
        code, verifier = parameters.get("code") or "", parameters.get("code_verifier") or ""
        if not code or not verifier:
            raise _TokenError("invalid_request", "code and code_verifier are required")
        with self._lock:
            issued = self._codes.pop(code, None)  # used up now, whatever the outcome: no second guess
        if issued is None or issued.expires_at <= self._clock():
            raise _TokenError("invalid_grant", "the code is unknown, used already or expired")
        if issued.request.client_id != client_id:
            raise _TokenError("invalid_grant", "the code was issued to another client")
        if issued.request.redirect_uri != parameters.get("redirect_uri"):
            raise _TokenError("invalid_grant", "redirect_uri differs from the authorization request's")
        if not _CODE_VERIFIER.fullmatch(verifier) or not hmac.compare_digest(
            s256(verifier), issued.request.code_challenge
        ):
            raise _TokenError("invalid_grant", "code_verifier does not match the code_challenge")
        scopes = issued.granted_scopes
        document: dict[str, Any] = {
            "access_token": self.issuer.mint(issued.subject, scopes, issued.token_lifetime),
            "token_type": "Bearer",
            "expires_in": issued.token_lifetime,
            "scope": " ".join(scopes),
        }
        if "openid" in scopes:
            document["id_token"] = self.issuer.id_token(
                issued.subject, client_id, issued.request.nonce, issued.token_lifetime
            )
        return document


def s256(code_verifier: str) -> str:
    """The S256 ``code_challenge`` of a verifier: BASE64URL(SHA-256(ASCII(verifier))), RFC 7636 section 4.2."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _single_values(encoded: str) -> dict[str, str]:
    """Form or query parameters; ``_RepeatedParameter`` when one is repeated."""
    values = parse_qs(encoded, keep_blank_values=True)
    repeated = sorted(name for name, found in values.items() if len(found) > 1)
    if repeated:
        raise _RepeatedParameter(f"the parameter {repeated[0]} is repeated")
    return {name: found[0] for name, found in values.items()}


# --- pages ------------------------------------------------------------------------------------

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
main { max-width: 26rem; margin: 3rem auto; padding: 1.5rem; background: #fff; border-radius: 8px;
       box-shadow: 0 1px 3px rgb(0 0 0 / 15%); }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
.note { color: #4a5263; font-size: .9rem; }
label { display: block; margin-top: 1rem; font-weight: 600; }
label.check { font-weight: normal; display: flex; gap: .5rem; align-items: baseline; }
input[type=text], input[type=number] { box-sizing: border-box; width: 100%; padding: .5rem; font: inherit;
       border: 1px solid #8a93a5; border-radius: 4px; margin-top: .25rem; }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
button { font: inherit; padding: .5rem 1.2rem; border-radius: 4px; border: 1px solid #1f4fd1;
         background: #1f4fd1; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #1f4fd1; }
:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.problem { color: #a61b1b; font-weight: 600; }
code { font-size: .9em; }
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()


def _page(status: int, title: str, body: str, form_targets: Sequence[str] = ()) -> GatewayResponse:
    document = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · devicekeys development issuer</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
    # The form posts here, and its answer redirects to the client: both are form targets.
    policy = (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self' {' '.join(form_targets)}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    headers = [
        ("content-type", "text/html; charset=utf-8"),
        ("cache-control", "no-store"),
        ("content-security-policy", policy),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ]
    return GatewayResponse(status, headers, document.encode())


def _refusal_page(reason: str) -> GatewayResponse:
    body = (
        "<h1>Sign-in request refused</h1>"
        f'<p class="problem">{html.escape(reason)}.</p>'
        '<p class="note">Nothing was sent back to the application: an authorization server redirects only '
        "to the redirect URIs registered for a client.</p>"
    )
    return _page(400, "Sign-in request refused", body)


def _sign_in_page(
    request: AuthorizationRequest, admin_scope: str, *, problem: str | None, status: int = 200
) -> GatewayResponse:
    hidden = {
        "response_type": "code",
        "client_id": request.client_id,
        "redirect_uri": request.redirect_uri,
        "scope": " ".join(request.scopes),
        "state": request.state,
        "nonce": request.nonce,
        "code_challenge": request.code_challenge,
        "code_challenge_method": "S256",
    }
    fields = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in hidden.items()
        if value is not None
    )
    scopes = ", ".join(f"<code>{html.escape(scope)}</code>" for scope in request.scopes) or "no scope"
    admin = (
        '<label class="check"><input type="checkbox" name="grant_admin" value="yes">'
        f"<span>Grant the admin scope (<code>{html.escape(admin_scope)}</code>)</span></label>"
        if admin_scope in request.scopes
        else ""
    )
    error = f'<p class="problem" role="alert">{html.escape(problem)}</p>' if problem else ""
    body = (
        "<h1>Sign in</h1>"
        '<p class="note">The local API\'s development issuer: any user name signs in, without a password. '
        f"<strong>{html.escape(request.client_id)}</strong> asks for {scopes}.</p>"
        f'{error}<form method="post" action="{AUTHORIZATION_PATH}">{fields}'
        '<label for="username">User name</label>'
        '<input type="text" id="username" name="username" autocomplete="username" required maxlength="128" autofocus>'
        f"{admin}"
        '<label for="token_lifetime">Access token lifetime (seconds)</label>'
        f'<input type="number" id="token_lifetime" name="token_lifetime" min="1" max="{MAX_TOKEN_LIFETIME}" '
        f'value="{DEFAULT_TOKEN_LIFETIME}" required>'
        '<div class="actions"><button type="submit" name="action" value="sign_in">Sign in</button>'
        '<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button></div>'
        "</form>"
    )
    redirect = urlsplit(request.redirect_uri)
    return _page(status, "Sign in", body, form_targets=[f"{redirect.scheme}://{redirect.netloc}"])
