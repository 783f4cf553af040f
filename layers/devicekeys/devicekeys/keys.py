"""Device public keys: which keys we accept, their identity, and signature checks.

The accepted algorithms are pinned here and nowhere else. A key is pinned to one algorithm at
registration; ``none``, MACs and anything not listed below never verify. Parsing and the
signature primitives come from joserfc (over pyca/cryptography); this module decides policy:

- **one public key, one key_id.** A key is accepted only in the one encoding RFC 7518 fixes:
  canonical unpadded base64url, EC coordinates of exactly the field size, an Ed25519 ``x`` of
  exactly 32 bytes, RSA integers in the minimum number of octets. Any other spelling of the
  same key would have another RFC 7638 thumbprint, so it is refused rather than repaired;
- **no key anyone can sign for.** Ed25519 points of small order (and non-canonical points),
  and RSA public exponents that are even, below 3 or above 2^32, are refused
  (``devicekeys.ed25519`` explains the first; the last also bounds verification cost).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from . import ed25519
from .encoding import b64url_decode
from .errors import UnsupportedKey

# RFC 9864 names Ed25519 as a fully specified algorithm; "EdDSA" is its older, polymorphic
# name, accepted on the wire and stored as "Ed25519".
ALGORITHM_ALIASES = {"EdDSA": "Ed25519"}

# canonical alg -> (kty, crv); RSA algorithms take any RSA key of an accepted size.
_KEY_SHAPE: dict[str, tuple[str, str | None]] = {
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "Ed25519": ("OKP", "Ed25519"),
    "RS256": ("RSA", None),
    "PS256": ("RSA", None),
}
SUPPORTED_ALGORITHMS = frozenset(_KEY_SHAPE)
ACCEPTED_HEADER_ALGORITHMS = SUPPORTED_ALGORITHMS | frozenset(ALGORITHM_ALIASES)

# RFC 7638 required members: the only members we keep, and the input of the thumbprint.
_PUBLIC_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_KEY_CLASSES: dict[str, Any] = {"EC": ECKey, "OKP": OKPKey, "RSA": RSAKey}

MIN_RSA_BITS = 2048
MAX_RSA_BITS = 4096
MAX_RSA_EXPONENT = 2**32
# Octets of each fixed-size member (RFC 7518 sections 6.2.1.2-3, RFC 8037 section 2).
_FIXED_SIZE = {("P-256", "x"): 32, ("P-256", "y"): 32, ("P-384", "x"): 48, ("P-384", "y"): 48, ("Ed25519", "x"): 32}


@dataclass(frozen=True, slots=True)
class DevicePublicKey:
    """A validated device public key: its public JWK, pinned algorithm and ``key_id``."""

    jwk: dict[str, str]
    alg: str
    key_id: str


def canonical_algorithm(alg: object) -> str | None:
    """The stored name of a header ``alg`` we accept, or None for anything else."""
    if not isinstance(alg, str) or alg not in ACCEPTED_HEADER_ALGORITHMS:
        return None
    return ALGORITHM_ALIASES.get(alg, alg)


def load_public_key(jwk: object, alg: object) -> DevicePublicKey:
    """Validate a device's public JWK for use with ``alg`` and compute its ``key_id``.

    Args:
        jwk: the JWK from the registration proof's header.
        alg: the proof's header ``alg``; the key is pinned to it.

    Returns:
        The key with only its RFC 7638 members kept, the canonical algorithm and the
        RFC 7638 SHA-256 thumbprint (base64url) as ``key_id``.

    Raises:
        UnsupportedKey: private members, an unknown type or curve, a key that does not match
            ``alg``, a member not in its one canonical encoding, an invalid or small-order
            point, an RSA modulus outside 2048..4096 bits, or an unsafe RSA exponent.
    """
    if not isinstance(jwk, Mapping):
        raise UnsupportedKey("the jwk header must be a JSON object")
    if _PRIVATE_MEMBERS & set(jwk):
        raise UnsupportedKey("the jwk must hold public members only")
    canonical = canonical_algorithm(alg)
    if canonical is None:
        raise UnsupportedKey(f"algorithm {alg!r} is not accepted")
    kty, crv = _KEY_SHAPE[canonical]
    if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
        expected = f"{kty} {crv}" if crv else kty
        raise UnsupportedKey(f"{canonical} needs an {expected} key")
    members = _PUBLIC_MEMBERS[kty]
    if not all(isinstance(jwk.get(name), str) and jwk.get(name) for name in members):
        raise UnsupportedKey(f"a {kty} jwk needs the members {', '.join(members)}")
    validated = _validated(tuple((name, jwk[name]) for name in members), canonical)
    return replace(validated, jwk=dict(validated.jwk))  # the cached record stays unshared


@lru_cache(maxsize=512)
def _validated(members: tuple[tuple[str, str], ...], alg: str) -> DevicePublicKey:
    """Encoding rules, then the backend's own checks; cached, since verify loads the same keys again."""
    public = dict(members)
    octets = {name: _canonical_octets(name, public[name]) for name in public if name not in ("kty", "crv")}
    curve = public.get("crv")
    for name, value in octets.items():
        size = _FIXED_SIZE.get((curve or "", name))
        if size is not None and len(value) != size:
            raise UnsupportedKey(f"{curve} {name} must be exactly {size} bytes, got {len(value)}")
    if public["kty"] == "RSA":
        _check_rsa(octets["n"], octets["e"])
    if curve == "Ed25519" and not ed25519.is_acceptable_public_key(octets["x"]):
        raise UnsupportedKey("the Ed25519 key is not a canonical point of large order")
    key = _import_key(members)
    if key is None:
        raise UnsupportedKey("the jwk is not a valid public key")
    return DevicePublicKey(jwk=public, alg=alg, key_id=key.thumbprint())


def _canonical_octets(name: str, value: str) -> bytes:
    """The bytes of a member, only if ``value`` is their one unpadded base64url spelling."""
    try:
        return b64url_decode(value)
    except ValueError as exc:
        raise UnsupportedKey(f"jwk member {name} is not canonical unpadded base64url") from exc


def _check_rsa(modulus: bytes, exponent: bytes) -> None:
    if modulus[0] == 0 or exponent[0] == 0:
        raise UnsupportedKey("RSA n and e must be in the minimum number of octets (no leading zero)")
    bits = int.from_bytes(modulus, "big").bit_length()
    if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
        raise UnsupportedKey(f"RSA keys must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits, got {bits}")
    if modulus[-1] & 1 == 0:
        raise UnsupportedKey("an RSA modulus is odd")
    e = int.from_bytes(exponent, "big")
    if e < 3 or e % 2 == 0 or e > MAX_RSA_EXPONENT:
        raise UnsupportedKey("the RSA public exponent must be odd, at least 3 and at most 2^32")


@lru_cache(maxsize=512)
def _import_key(members: tuple[tuple[str, str], ...]) -> Any:
    """Import (and cache) a public key; None when joserfc or the backend refuses it."""
    jwk = dict(members)
    try:
        with warnings.catch_warnings():  # joserfc warns on small RSA keys; they are refused before this
            warnings.simplefilter("ignore")
            key = _KEY_CLASSES[jwk["kty"]].import_key(jwk)
        key.get_op_key("verify")  # forces the point/modulus check now, not at first use
    except (JoseError, ValueError, TypeError, KeyError, OverflowError):
        return None
    return key


def verify_signature(public_jwk: Mapping[str, Any], *, alg: str, message: bytes, signature: bytes) -> bool:
    """Check one signature made by a device key.

    Args:
        public_jwk: the device's public JWK (extra members are ignored).
        alg: one of the accepted algorithms (``EdDSA`` is read as ``Ed25519``).
        message: the signed bytes (for a JWS, ``header.payload`` as ASCII).
        signature: the signature in its JWS form: raw ``r || s`` for ECDSA.

    Returns:
        True only for a valid signature by a key this module accepts; False for any invalid
        or malformed signature, and for any key it refuses (a small-order Ed25519 point, a
        non-canonical encoding, an unsafe RSA exponent...), whatever the signature.
    """
    try:
        key = load_public_key(public_jwk, alg)
    except UnsupportedKey:
        return False
    verifier = JWSRegistry.algorithms[key.alg]
    imported = _import_key(tuple(key.jwk.items()))
    try:
        return bool(verifier.verify(message, signature, imported))
    except (ValueError, TypeError, OverflowError, JoseError):
        return False
