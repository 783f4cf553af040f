"""The JWT a browser signs with its session key (``Secure-Session-Response``), read without trusting it.

Registration: header ``{"typ": "dbsc+jwt", "alg", "jwk"}``, payload ``{"jti": <challenge>,
"authorization": <the app's code>}``. Refresh: header ``{"typ": "dbsc+jwt", "alg"}``, payload
``{"jti": <challenge>}``. Earlier Chrome builds also sent ``aud`` and ``iat``: allowed, never
required. Held to the same rules as a device proof (``devicekeys.proofs``): a compact JWS whose
header and payload are JSON under the service's text rules, no ``crit``, no unencoded payload,
and only the algorithms DBSC offers (ES256, RS256; ``none`` and everything else refused before
any key is looked at). The signature is checked by ``signature_is_valid`` against the key in the
header (registration) or the one stored with the session (refresh).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry, extract_compact

from . import text
from .dbsc_protocol import ALGORITHMS
from .encoding import b64url_decode
from .errors import InvalidProof
from .keys import DevicePublicKey, verify_signature

PROOF_TYPE = "dbsc+jwt"
MAX_PROOF_LENGTH = 8192
CHALLENGE_LENGTH = 43  # 32 random bytes, unpadded base64url
MAX_AUTHORIZATION = 256


class _Registry(JWSRegistry):
    """joserfc's registry with room for an RS256 ``jwk`` header (a 4096-bit modulus)."""

    max_header_length = 4096
    max_payload_length = 2048


_REGISTRY = _Registry(strict_check_header=False)


@dataclass(frozen=True, slots=True)
class DbscProof:
    """A structurally valid, not yet verified, ``Secure-Session-Response``."""

    header: dict[str, Any]
    claims: dict[str, Any]
    alg: str
    signing_input: bytes
    signature: bytes

    @property
    def challenge(self) -> str:
        return str(self.claims["jti"])

    @property
    def authorization(self) -> str | None:
        value = self.claims.get("authorization")
        return value if isinstance(value, str) else None

    @property
    def jwk(self) -> object:
        return self.header.get("jwk")


def read_dbsc_proof(value: object) -> DbscProof:
    """Parse a browser's session JWT.

    Raises:
        InvalidProof: not a compact JWS; a header other than ``typ: dbsc+jwt`` with ES256 or
            RS256; ``crit`` or an unencoded payload; a payload without a challenge-shaped
            ``jti``; an ``authorization`` that is not a short string.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_PROOF_LENGTH:
        raise InvalidProof("the session response must be a compact JWS string")
    try:
        compact = value.encode("ascii")
        parsed = extract_compact(compact, registry=_REGISTRY)
        _REGISTRY.check_header(dict(parsed.headers()))
        header = text.loads(b64url_decode(compact.split(b".", 1)[0]), what="the session response header")
        claims = text.loads(parsed.payload, what="the session response payload")
    except text.JsonTextError as exc:
        raise InvalidProof(str(exc)) from exc
    except (JoseError, ValueError, TypeError, UnicodeError) as exc:
        raise InvalidProof("the session response is not a well-formed compact JWS") from exc
    if not isinstance(header, dict) or header.get("typ") != PROOF_TYPE:
        raise InvalidProof(f"the session response header must have typ {PROOF_TYPE!r}")
    if "crit" in header or header.get("b64") is False:
        raise InvalidProof("critical or unencoded-payload headers are not accepted")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise InvalidProof(f"algorithm {alg!r} is not accepted: {' or '.join(ALGORITHMS)}")
    if not isinstance(claims, dict):
        raise InvalidProof("the session response payload must be a JSON object")
    jti = claims.get("jti")
    if not isinstance(jti, str) or len(jti) != CHALLENGE_LENGTH:
        raise InvalidProof("the session response must sign a challenge of this service (jti)")
    authorization = claims.get("authorization")
    if authorization is not None and (not isinstance(authorization, str) or len(authorization) > MAX_AUTHORIZATION):
        raise InvalidProof("authorization must be the string the registration header gave")
    header_segment, payload_segment, signature_segment = compact.split(b".")
    try:
        signature = b64url_decode(signature_segment)
    except ValueError as exc:
        raise InvalidProof("the session response signature is not base64url") from exc
    return DbscProof(
        header=header,
        claims=claims,
        alg=alg,
        signing_input=header_segment + b"." + payload_segment,
        signature=signature,
    )


def signature_is_valid(proof: DbscProof, key: DevicePublicKey) -> bool:
    """True when ``key`` signed the proof with the algorithm pinned to it (a session key keeps its first)."""
    return proof.alg == key.alg and verify_signature(
        key.jwk, alg=key.alg, message=proof.signing_input, signature=proof.signature
    )
