"""The bound credential: the short-lived JWT a bound session's cookie holds, signed by an AWS KMS key.

Registration and each refresh issue one; the Lambda authorizer accepts a request only with a
valid, unexpired one (and an active session). The private key never leaves KMS (an
``ECC_NIST_P256`` key, ``ECDSA_SHA_256``): one ``kms:Sign`` per credential, the JWS signing input
sent as the message. Verifiers need only its public key, published as a JWKS
(``GET /dbsc/jwks.json``) and read once per container with ``kms:GetPublicKey``.

    header   {"alg": "ES256", "typ": "dk-session+jwt", "kid": <the KMS key id>}
    payload  {"iss": "devicekeys", "sub": <user id>, "sid": <session id>, "iat": <now>, "exp": <iat + lifetime>}

Verification is joserfc's (ES256 only, the key of ``kid``), then the claims are held to exact
types: ``exp`` and ``iat`` integers, ``sub`` and ``sid`` strings, ``iss`` this service.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from . import text
from .encoding import b64url_decode, b64url_encode
from .errors import ServiceUnavailable
from .session_settings import SessionSettings

if TYPE_CHECKING:
    from joserfc.jwk import ECKey

ALGORITHM = "ES256"
CREDENTIAL_TYPE = "dk-session+jwt"
ISSUER = "devicekeys"
KMS_ALGORITHM = "ECDSA_SHA_256"
MAX_CREDENTIAL = 4096
_TRANSIENT_KMS = frozenset(
    {
        "ThrottlingException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "KeyUnavailableException",
        "LimitExceededException",
    }
)


class InvalidCredential(Exception):
    """Not a credential this service issued, or no longer valid: the request is not authorized."""


@dataclass(frozen=True, slots=True)
class BoundCredential:
    user_id: str
    session_id: str
    expires_at: int


class KmsSigningKey:
    """The credentials' KMS key: signs, and gives its public key (each call through one lazy client)."""

    def __init__(self, settings: SessionSettings, *, region: str, client: Any = None) -> None:
        if not settings.signing_key_id:
            raise ValueError("DBSC_SIGNING_KEY_ID is not set")
        self.key_id = settings.signing_key_id
        self._endpoint = settings.kms_endpoint
        self._region = region
        self._injected = client

    @cached_property
    def _client(self) -> Any:
        if self._injected is not None:
            return self._injected
        import boto3  # noqa: PLC0415 - only the functions that sign or verify pay for the KMS client
        from botocore.config import Config  # noqa: PLC0415

        config = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})
        return boto3.client("kms", region_name=self._region, endpoint_url=self._endpoint, config=config)

    def sign(self, message: bytes) -> bytes:
        """An ES256 JWS signature (raw ``r || s``) of ``message``: one ``kms:Sign``.

        Raises:
            ServiceUnavailable: KMS throttled, failed transiently, or could not be reached.
        """
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature  # noqa: PLC0415

        with _kms_errors():
            response = self._client.sign(
                KeyId=self.key_id, Message=message, MessageType="RAW", SigningAlgorithm=KMS_ALGORITHM
            )
        r, s = decode_dss_signature(response["Signature"])
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    @cached_property
    def public_key(self) -> ECKey:
        """The public key, read once per container: one ``kms:GetPublicKey``.

        Raises:
            ServiceUnavailable: KMS throttled, failed transiently, or could not be reached.
        """
        from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
        from cryptography.hazmat.primitives.serialization import load_der_public_key  # noqa: PLC0415
        from joserfc.jwk import ECKey  # noqa: PLC0415 - only verifiers need it: issuing is one KMS Sign

        with _kms_errors():
            response = self._client.get_public_key(KeyId=self.key_id)
        loaded = load_der_public_key(response["PublicKey"])
        if not isinstance(loaded, ec.EllipticCurvePublicKey) or not isinstance(loaded.curve, ec.SECP256R1):
            raise ValueError("the signing key must be an ECC_NIST_P256 KMS key")
        return ECKey.import_key(loaded)

    def jwks(self) -> dict[str, Any]:
        """The JWKS verifiers use: this key, with its ``kid``, for ES256 signatures.

        Raises:
            ServiceUnavailable: as ``public_key``.
        """
        public = self.public_key.as_dict(private=False)
        jwk = {name: public[name] for name in ("kty", "crv", "x", "y")}
        return {"keys": [{**jwk, "kid": self.key_id, "alg": ALGORITHM, "use": "sig"}]}


class CredentialIssuer:
    """Signs bound credentials with the KMS key."""

    def __init__(self, key: KmsSigningKey, *, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._clock = clock

    def issue(self, user_id: str, session_id: str, *, lifetime: int) -> str:
        """A credential for the session, valid ``lifetime`` seconds: one ``kms:Sign``.

        Raises:
            ServiceUnavailable: KMS throttled or unreachable.
        """
        now = int(self._clock())
        header = {"alg": ALGORITHM, "typ": CREDENTIAL_TYPE, "kid": self._key.key_id}
        claims = {"iss": ISSUER, "sub": user_id, "sid": session_id, "iat": now, "exp": now + lifetime}
        signing_input = f"{_segment(header)}.{_segment(claims)}".encode("ascii")
        return f"{signing_input.decode('ascii')}.{b64url_encode(self._key.sign(signing_input))}"


class CredentialVerifier:
    """Checks a bound credential against the KMS key's public key."""

    def __init__(self, key: KmsSigningKey, *, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._clock = clock

    def verify(self, token: object, *, allow_expired: bool = False) -> BoundCredential:
        """The session a credential names, once its signature, type, issuer and lifetime check out.

        Args:
            token: the cookie's value.
            allow_expired: accept a credential past its ``exp`` (a logout names its session).

        Raises:
            InvalidCredential: anything else than a current credential of this service.
            ServiceUnavailable: the public key could not be read from KMS.
        """
        if not isinstance(token, str) or not token or len(token) > MAX_CREDENTIAL:
            raise InvalidCredential("no credential")
        from joserfc import jws  # noqa: PLC0415 - see public_key: functions that only issue never import it
        from joserfc.errors import JoseError  # noqa: PLC0415

        try:
            signed = jws.deserialize_compact(token, self._key.public_key, algorithms=[ALGORITHM])
            header = text.loads(b64url_decode(token.split(".", 1)[0]), what="the credential header")
            claims = text.loads(signed.payload, what="the credential payload")
        except (JoseError, ValueError, TypeError, UnicodeError) as exc:
            raise InvalidCredential("not a credential this service signed") from exc
        if (
            not isinstance(header, dict)
            or header.get("typ") != CREDENTIAL_TYPE
            or header.get("kid") != self._key.key_id
        ):
            raise InvalidCredential("not a bound credential of this key")
        if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
            raise InvalidCredential("another issuer's token")
        user_id, session_id, expires_at = claims.get("sub"), claims.get("sid"), claims.get("exp")
        if not (isinstance(user_id, str) and isinstance(session_id, str) and type(expires_at) is int):
            raise InvalidCredential("the credential lacks its user, session or expiry")
        if not allow_expired and self._clock() >= expires_at:
            raise InvalidCredential("the credential has expired")
        return BoundCredential(user_id=user_id, session_id=session_id, expires_at=expires_at)


def _segment(document: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


@contextmanager
def _kms_errors() -> Iterator[None]:
    """Map KMS throttling and unreachable endpoints to ``ServiceUnavailable``; configuration bugs pass through."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError  # noqa: PLC0415

    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _TRANSIENT_KMS:
            raise ServiceUnavailable("the credential signing service is busy; retry shortly") from exc
        raise
    except (ConnectionError, HTTPClientError) as exc:
        raise ServiceUnavailable("the credential signing service is unreachable; retry shortly") from exc


__all__ = [
    "CREDENTIAL_TYPE",
    "ISSUER",
    "BoundCredential",
    "CredentialIssuer",
    "CredentialVerifier",
    "InvalidCredential",
    "KmsSigningKey",
]
