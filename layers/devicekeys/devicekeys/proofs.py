"""Device proofs: the compact JWS a device signs over a one-time challenge.

``read_proof`` checks a proof's structure; ``check_claims`` what its payload says (user,
purpose, time, audience); ``check_signature`` that the pinned key signed it. None of them needs
stored state, so a binding runs all it can before a challenge is consumed: a challenge is never
burned by a proof that was invalid on its face.

The header and payload are JSON under the service's rules (``devicekeys.text``): no duplicate
member names (JOSE parsers disagree on which one wins), no non-finite numbers, text only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry, extract_compact

from . import text
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
        _REGISTRY.check_header(dict(parsed.headers()))
        header = text.loads(b64url_decode(compact.split(b".", 1)[0]), what="the proof header")
        claims = text.loads(parsed.payload, what="the proof payload")
    except text.JsonTextError as exc:
        raise InvalidProof(str(exc)) from exc
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


def check_claims(
    proof: DeviceProof,
    *,
    user_id: str,
    purpose: str,
    now: int,
    clock_skew_seconds: int,
    audience: str | None,
) -> None:
    """Check what a proof's payload says, before anything is trusted or consumed.

    Args:
        proof: from ``read_proof``.
        user_id: the expected ``sub``.
        purpose: the expected ``purpose``: the route's (its challenge must have the same).
        now: the current time, epoch seconds.
        clock_skew_seconds: how far ``iat`` may be from ``now``.
        audience: the expected ``aud``, when the deployment sets one.

    Raises:
        InvalidProof: a claim that does not match, or an ``iat`` that is not an integer
            number of seconds within the allowed skew.
    """
    claims = proof.claims
    if claims.get("sub") != user_id:
        raise InvalidProof("the proof is for another user")
    if claims.get("purpose") != purpose:
        raise InvalidProof("the proof is for another purpose")
    iat = claims.get("iat")
    if type(iat) is not int:  # not bool, not a float: NumericDate seconds, as devices send them
        raise InvalidProof("the proof needs an iat that is an integer number of seconds")
    if abs(now - iat) > clock_skew_seconds:
        raise InvalidProof("the proof iat is outside the allowed clock skew")
    if audience is not None and not _audience_matches(claims.get("aud"), audience):
        raise InvalidProof("the proof is for another audience")


def signature_is_valid(proof: DeviceProof, key: DevicePublicKey) -> bool:
    """True when ``key`` signed the proof with the algorithm pinned to it."""
    return proof.alg == key.alg and verify_signature(
        key.jwk, alg=key.alg, message=proof.signing_input, signature=proof.signature
    )


def _audience_matches(aud: object, expected: str) -> bool:
    if isinstance(aud, str):
        return aud == expected
    return isinstance(aud, list) and expected in aud
