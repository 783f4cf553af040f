"""What a DBSC browser does, in Python, for the bound-session tests: real session keys, real signatures.

``SessionBrowser`` signs the registration and refresh JWTs exactly as Chromium does (observed:
header ``{"alg", "jwk", "typ": "dbsc+jwt"}`` then ``{"alg", "typ"}``; payload ``{"authorization",
"jti"}`` then ``{"jti"}``), with joserfc. ``signing_key`` makes the credentials' KMS key in moto
for one test, and drops the functions' cached copy of the previous one, as a new container would.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

import boto3
from conftest import Api, HttpResult
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key
from devicekeys_client import DeviceKeyPair
from joserfc import jws

SIGNING_ALIAS = "alias/test-dbsc-signing"
ORIGIN = "https://app.example.com"
COOKIE = "__Host-dk-session"
# The functions that hold the KMS key (SessionServices) and cache it per container.
KEY_HOLDERS = (
    "RegisterBoundSessionFunction",
    "RefreshBoundSessionFunction",
    "TerminateBoundSessionFunction",
    "BoundSessionKeysFunction",
    "AuthorizeBoundSessionFunction",
)


@dataclass
class SessionBrowser:
    """A browser's session key pair."""

    pair: DeviceKeyPair

    @classmethod
    def generate(cls, alg: str = "ES256") -> SessionBrowser:
        return cls(DeviceKeyPair.generate(alg))

    @property
    def public_jwk(self) -> dict[str, Any]:
        return self.pair.public_jwk

    def registration(
        self,
        challenge: str,
        authorization: str | None,
        *,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        signer: DeviceKeyPair | None = None,
    ) -> str:
        protected = {"alg": self.pair.alg, "jwk": self.public_jwk, "typ": "dbsc+jwt", **(header or {})}
        payload: dict[str, Any] = {"jti": challenge}
        if authorization is not None:
            payload["authorization"] = authorization
        return self._sign(protected, {**payload, **(claims or {})}, signer)

    def refresh(
        self,
        challenge: str,
        *,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        signer: DeviceKeyPair | None = None,
    ) -> str:
        protected = {"alg": (signer or self.pair).alg, "typ": "dbsc+jwt", **(header or {})}
        return self._sign(protected, {"jti": challenge, **(claims or {})}, signer)

    def _sign(self, protected: dict[str, Any], payload: dict[str, Any], signer: DeviceKeyPair | None) -> str:
        key = (signer or self.pair).key
        body = json.dumps(payload, separators=(",", ":"))
        return jws.serialize_compact(protected, body, key, algorithms=[protected["alg"]])


def registration_parts(header_value: str) -> dict[str, str]:
    """The parameters of a ``Secure-Session-Registration`` value: path, challenge, authorization."""
    assert header_value.startswith("(ES256 RS256);"), header_value
    return dict(re.findall(r';([a-z]+)="([^"]*)"', header_value))


def challenge_parts(header_value: str) -> tuple[str, str]:
    """(challenge, session id) of a ``Secure-Session-Challenge`` value."""
    found = re.fullmatch(r'"([^"]*)";id="([^"]*)"', header_value)
    assert found, header_value
    return found.group(1), found.group(2)


def signing_key(functions: Any, *, alias: str = SIGNING_ALIAS) -> Any:
    """A fresh ECC_NIST_P256 key in moto's KMS under ``alias`` (inside ``mock_aws``); returns the KMS client."""
    kms = boto3.client("kms", region_name="us-east-1")
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    for logical_id in KEY_HOLDERS:
        services = functions.module(logical_id).services
        for cached in ("signing_key", "verifier", "binding"):
            services.__dict__.pop(cached, None)
    return kms


def cookie_of(set_cookie: str) -> tuple[str, str, dict[str, str]]:
    """(name, value, attributes) of a ``Set-Cookie`` line."""
    first, *attributes = [part.strip() for part in set_cookie.split(";")]
    name, _, value = first.partition("=")
    parsed = {}
    for attribute in attributes:
        key, _, val = attribute.partition("=")
        parsed[key.lower()] = val
    return name, value, parsed


@dataclass
class Dbsc:
    api: Api
    kms: Any

    def start(self, user: str = "alice", **auth: Any) -> HttpResult:
        return self.api.call("POST", f"/v1/users/{user}/bound-sessions/registrations", {}, **({"as_user": user} | auth))

    def registration(self, user: str = "alice") -> dict[str, str]:
        result = self.start(user)
        assert result.status == 201, result.body
        return registration_parts(result.body["header_value"])

    def register(self, response: str | None, *, origin: str | None = ORIGIN, **headers: str) -> HttpResult:
        sent = dict(headers)
        if response is not None:
            sent.setdefault("secure-session-response", response)
        if origin is not None:
            sent["origin"] = origin
        sent.setdefault("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0")
        return self.api.call("POST", "/dbsc/register", headers=sent)

    def session(self, browser: SessionBrowser, user: str = "alice") -> tuple[str, str]:
        """A registered session: (session id, the bound cookie's value)."""
        parts = self.registration(user)
        result = self.register(browser.registration(parts["challenge"], parts["authorization"]))
        assert result.status == 200, result.body
        return result.body["session_identifier"], cookie_of(result.headers["Set-Cookie"])[1]

    def leg1(self, session_id: str | None, name: str = "sec-secure-session-id") -> HttpResult:
        headers = {"origin": ORIGIN} | ({name: session_id} if session_id is not None else {})
        return self.api.call("POST", "/dbsc/refresh", headers=headers)

    def leg2(self, session_id: str, response: str, **names: str) -> HttpResult:
        headers = {
            names.get("id_header", "sec-secure-session-id"): session_id,
            names.get("response_header", "secure-session-response"): response,
            "origin": ORIGIN,
        }
        return self.api.call("POST", "/dbsc/refresh", headers=headers)

    def challenge(self, session_id: str) -> str:
        result = self.leg1(session_id)
        assert (result.status, result.error_code) == (403, "challenge_required"), result.body
        challenge, named = challenge_parts(result.headers["Secure-Session-Challenge"])
        assert named == session_id
        return challenge

    def refresh(self, browser: SessionBrowser, session_id: str) -> HttpResult:
        return self.leg2(session_id, browser.refresh(self.challenge(session_id)))

    def verify_credential(self, credential: str) -> dict[str, Any]:
        """Check a credential with the KMS key's public key alone, as any verifier could."""
        header, payload, signature = credential.split(".")
        raw = _unb64(signature)
        public = load_der_public_key(self.kms.get_public_key(KeyId="alias/test-dbsc-signing")["PublicKey"])
        assert isinstance(public, ec.EllipticCurvePublicKey)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
        assert json.loads(_unb64(header)) == {"alg": "ES256", "typ": "dk-session+jwt", "kid": "alias/test-dbsc-signing"}
        return dict(json.loads(_unb64(payload)))


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
