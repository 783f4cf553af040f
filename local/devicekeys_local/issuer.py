"""The local development issuer and the JWT authorizer API Gateway would run in front of the functions.

The issuer holds one ES256 key (generated at startup, or kept in the state directory) and mints
access tokens for any ``sub`` a developer asks for: it exists so the protected routes can be
called locally exactly as in AWS, with ``Authorization: Bearer <token>``. Its sign-in for
browser apps (authorization code with PKCE, and the discovery document) is ``oidc``.

The authorizer checks a token as an HTTP API JWT authorizer does (signature by a key of the
issuer's JWKS named by ``kid``, ``iss``, ``aud`` or ``client_id``, ``exp``, ``nbf``, ``iat``) and
hands the claims to the function the way API Gateway does: every value flattened to a string.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

ALGORITHM = "ES256"
DEFAULT_AUDIENCE = "devicekeys-local"
DEFAULT_TOKEN_LIFETIME = 3600
MAX_TOKEN_LIFETIME = 7 * 24 * 3600
KEY_FILE_NAME = "issuer-key.json"
TOKEN_PATH = "/_local/token"  # noqa: S105 - a URL path, not a secret
ISSUER_PATH = "/_local/issuer"
JWKS_PATH = ISSUER_PATH + "/jwks.json"


class Unauthorized(Exception):
    """The token is missing or invalid; ``reason`` goes in ``www-authenticate`` as API Gateway's does."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def load_or_create_key(state_dir: Path | None) -> ECKey:
    """The issuer's signing key: kept in ``state_dir`` (owner-only) when given, else fresh per run."""
    if state_dir is None:
        return ECKey.generate_key("P-256", private=True)
    key_file = state_dir / KEY_FILE_NAME
    if key_file.exists():
        return ECKey.import_key(json.loads(key_file.read_text()))
    key = ECKey.generate_key("P-256", private=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(key.as_dict(private=True), handle)
    return key


@dataclass(frozen=True)
class TokenPolicy:
    """What a valid token must carry: the authorizer's ``JwtConfiguration`` from the template."""

    issuer: str
    audiences: tuple[str, ...]


class DevIssuer:
    """Mints access tokens signed with the local key, for the issuer and audience the authorizer expects."""

    def __init__(self, key: ECKey, policy: TokenPolicy, *, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self.policy = policy
        self._clock = clock
        self.key_id = str(key.thumbprint())

    def mint(self, subject: str, scopes: Sequence[str] = (), lifetime: int = DEFAULT_TOKEN_LIFETIME) -> str:
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self.policy.issuer,
            "sub": subject,
            "aud": self.policy.audiences[0] if len(self.policy.audiences) == 1 else list(self.policy.audiences),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
            "token_use": "access",
        }
        if scopes:
            claims["scope"] = " ".join(scopes)
        header = {"alg": ALGORITHM, "kid": self.key_id, "typ": "at+jwt"}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM])

    def id_token(self, subject: str, client_id: str, nonce: str | None, lifetime: int) -> str:
        """An OpenID Connect ID token: who signed in, for ``client_id`` (OpenID Connect Core, section 2)."""
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self.policy.issuer,
            "sub": subject,
            "aud": client_id,
            "iat": now,
            "exp": now + lifetime,
            "auth_time": now,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode(
            {"alg": ALGORITHM, "kid": self.key_id, "typ": "JWT"}, claims, self._key, algorithms=[ALGORITHM]
        )

    def token_response(self, body: bytes) -> dict[str, Any]:
        """The token endpoint: ``{"sub", "scope"?, "expires_in"?}`` in, an OAuth 2 token response out.

        Raises:
            ValueError: a request that is not that, with a message for the developer.
        """
        try:
            request = json.loads(body or b"{}")
            subject, scope = request["sub"], request.get("scope") or ""
            lifetime = int(request.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"expected a JSON object with sub, and optionally scope and expires_in: {exc}") from None
        if not isinstance(subject, str) or not subject or not isinstance(scope, str):
            raise ValueError(
                "expected a JSON object with sub, and optionally scope and expires_in: sub and scope are strings"
            )
        if not 0 < lifetime <= MAX_TOKEN_LIFETIME:
            raise ValueError(f"expires_in must be 1 to {MAX_TOKEN_LIFETIME}")
        token = self.mint(subject, scope.split(), lifetime)
        return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": scope}

    def jwks(self) -> dict[str, Any]:
        public = dict(self._key.as_dict(private=False))
        public.update({"kid": self.key_id, "alg": ALGORITHM, "use": "sig"})
        return {"keys": [public]}

    def public_keys(self) -> KeySet:
        """What the authorizer verifies with: the public half only."""
        return KeySet.import_key_set(cast(Any, self.jwks()))


@dataclass(frozen=True)
class Authorization:
    """What API Gateway puts in ``requestContext.authorizer.jwt``."""

    claims: dict[str, str]
    scopes: list[str] | None


class JwtAuthorizer:
    """Validates bearer tokens as an HTTP API JWT authorizer configured with ``policy``."""

    def __init__(self, keys: KeySet, policy: TokenPolicy, *, clock: Callable[[], float] = time.time) -> None:
        self._keys = keys
        self._policy = policy
        self._clock = clock

    def authorize(self, authorization_header: str | None) -> Authorization:
        """Raises ``Unauthorized`` for anything API Gateway would answer 401 to."""
        token = (authorization_header or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            raise Unauthorized("missing token")
        try:
            decoded = jwt.decode(token, self._keys, algorithms=[ALGORITHM])
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise Unauthorized("signature or format is invalid") from exc
        claims = decoded.claims
        self._check_claims(claims)
        return Authorization(
            claims={name: flatten_claim(value) for name, value in claims.items()}, scopes=token_scopes(claims)
        )

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = self._clock()
        if claims.get("iss") != self._policy.issuer:
            raise Unauthorized("the token does not have a valid issuer")
        audiences = claims.get("aud", claims.get("client_id"))
        presented = audiences if isinstance(audiences, list) else [audiences]
        if not set(map(str, presented)) & set(self._policy.audiences):
            raise Unauthorized("the token does not have a valid audience")
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or expires <= now:
            raise Unauthorized("the token has expired")
        not_before, issued_at = claims.get("nbf"), claims.get("iat")
        if isinstance(not_before, int | float) and not_before > now:
            raise Unauthorized("the token is not valid yet")
        if isinstance(issued_at, int | float) and issued_at > now:
            raise Unauthorized("the token was issued in the future")


def token_scopes(claims: dict[str, Any]) -> list[str] | None:
    """The ``scopes`` API Gateway hands a function: the ``scope`` (or ``scp``) claim's elements.

    A string is a space-delimited list (RFC 6749 section 3.3); a list is taken element by element.
    """
    scope = claims.get("scope") or claims.get("scp")
    if isinstance(scope, str):
        return [element for element in scope.split(" ") if element]
    if isinstance(scope, list):
        return [str(element) for element in scope]
    return None


def flatten_claim(value: Any) -> str:
    """A claim as API Gateway passes it to a function: numbers as text, lists as ``[a b]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(flatten_claim(item) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def request_token(
    base_url: str,
    subject: str,
    scopes: Sequence[str] = (),
    lifetime: int = DEFAULT_TOKEN_LIFETIME,
    timeout: float = 10.0,
) -> str:
    """Ask a running local API's development issuer for an access token."""
    body = json.dumps({"sub": subject, "scope": " ".join(scopes), "expires_in": lifetime}).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is the developer's own local API
        base_url.rstrip("/") + TOKEN_PATH, data=body, method="POST", headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return str(json.load(response)["access_token"])
