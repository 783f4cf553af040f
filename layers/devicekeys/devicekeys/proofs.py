"""Device proofs: the compact JWS a device signs over a one-time challenge.

Reading a proof (``read_proof``) only checks its structure, so the challenge can be consumed
before anything else is decided: one attempt per challenge, whatever its outcome. Trust comes
from ``check_proof``, which verifies the signature with the pinned key and then the claims.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry, extract_compact

from .encoding import b64url_decode
from .errors import InvalidProof
from .keys import DevicePublicKey, canonical_algorithm, verify_signature

PROOF_TYPE = "dk+jwt"
MAX_PROOF_LENGTH = 8192


class _ProofRegistry(JWSRegistry):
    """joserfc's registry with room for a 4096-bit RSA ``jwk`` header."""

    max_header_length = 4096
    max_payload_length = 2048


_REGISTRY = _ProofRegistry(strict_check_header=False)


@dataclass(frozen=True, slots=True)
class DeviceProof:
    """A structurally valid, not yet verified, device proof."""

    header: dict[str, Any]
    claims: dict[str, Any]
    alg: str
    signing_input: bytes
    signature: bytes

    @property
    def challenge(self) -> str:
        return str(self.claims["challenge"])

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None


def read_proof(value: object) -> DeviceProof:
    """Parse a compact JWS device proof without trusting it.

    Raises:
        InvalidProof: not a compact JWS, a header other than ``typ: dk+jwt`` with an accepted
            ``alg``, a ``crit`` or unencoded-payload header, or a payload without a string
            ``challenge``.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_PROOF_LENGTH:
        raise InvalidProof("the proof must be a compact JWS string")
    try:
        compact = value.encode("ascii")
        parsed = extract_compact(compact, registry=_REGISTRY)
        header = dict(parsed.headers())
        _REGISTRY.check_header(header)
        claims = json.loads(parsed.payload)
    except (JoseError, ValueError, TypeError, UnicodeError) as exc:
        raise InvalidProof("the proof is not a well-formed compact JWS") from exc
    if header.get("typ") != PROOF_TYPE:
        raise InvalidProof(f"the proof header must have typ {PROOF_TYPE!r}")
    if "crit" in header or header.get("b64") is False:
        raise InvalidProof("critical or unencoded-payload headers are not accepted")
    alg = canonical_algorithm(header.get("alg"))
    if alg is None:
        raise InvalidProof(f"algorithm {header.get('alg')!r} is not accepted")
    if not isinstance(claims, dict) or not isinstance(claims.get("challenge"), str):
        raise InvalidProof("the proof payload must be a JSON object with a challenge")
    header_segment, payload_segment, signature_segment = compact.split(b".")
    try:
        signature = b64url_decode(signature_segment)
    except ValueError as exc:
        raise InvalidProof("the proof signature is not base64url") from exc
    return DeviceProof(
        header=header,
        claims=claims,
        alg=alg,
        signing_input=header_segment + b"." + payload_segment,
        signature=signature,
    )


def check_proof(
    proof: DeviceProof,
    key: DevicePublicKey,
    *,
    user_id: str,
    purpose: str,
    now: int,
    clock_skew_seconds: int,
    audience: str | None,
) -> None:
    """Verify a proof's signature with the pinned key, then its claims.

    Args:
        proof: from ``read_proof``.
        key: the key the proof must be signed with; its ``alg`` must equal the header's.
        user_id: the expected ``sub``.
        purpose: the expected ``purpose`` (that of the consumed challenge).
        now: the current time, epoch seconds.
        clock_skew_seconds: how far ``iat`` may be from ``now``.
        audience: the expected ``aud``, when the deployment sets one.

    Raises:
        InvalidProof: wrong algorithm, bad signature, or a claim that does not match.
    """
    if proof.alg != key.alg:
        raise InvalidProof("the proof algorithm does not match the key's")
    if not verify_signature(key.jwk, key.alg, proof.signing_input, proof.signature):
        raise InvalidProof("the proof signature is not valid")
    claims = proof.claims
    if claims.get("sub") != user_id:
        raise InvalidProof("the proof is for another user")
    if claims.get("purpose") != purpose:
        raise InvalidProof("the proof is for another purpose")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise InvalidProof("the proof needs a numeric iat")
    if abs(now - iat) > clock_skew_seconds:
        raise InvalidProof("the proof iat is outside the allowed clock skew")
    if audience is not None and not _audience_matches(claims.get("aud"), audience):
        raise InvalidProof("the proof is for another audience")


def _audience_matches(aud: object, expected: str) -> bool:
    if isinstance(aud, str):
        return aud == expected
    return isinstance(aud, list) and expected in aud
