"""Device public keys: which keys we accept, their identity, and signature checks.

The accepted algorithms are pinned here and nowhere else. A key is pinned to one algorithm at
registration; ``none``, MACs and anything not listed below never verify. Parsing and the
signature primitives come from joserfc (over pyca/cryptography); this module only decides
policy.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

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
            ``alg``, an invalid point, or an RSA modulus outside 2048..4096 bits.
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
    public = {name: jwk[name] for name in members}
    key = _import_key(tuple(public.items()))
    if key is None:
        raise UnsupportedKey("the jwk is not a valid public key")
    if kty == "RSA":
        bits = key.get_op_key("verify").key_size
        if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
            raise UnsupportedKey(f"RSA keys must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits, got {bits}")
    return DevicePublicKey(jwk=public, alg=canonical, key_id=key.thumbprint())


@lru_cache(maxsize=512)
def _import_key(members: tuple[tuple[str, str], ...]) -> Any:
    """Import (and cache) a public key; None when joserfc or the backend refuses it."""
    jwk = dict(members)
    try:
        with warnings.catch_warnings():  # joserfc warns on small RSA keys; we refuse them below
            warnings.simplefilter("ignore")
            key = _KEY_CLASSES[jwk["kty"]].import_key(jwk)
        key.get_op_key("verify")  # forces the point/modulus check now, not at first use
    except (JoseError, ValueError, TypeError, KeyError, OverflowError):
        return None
    return key


def verify_signature(public_jwk: Mapping[str, Any], alg: str, message: bytes, signature: bytes) -> bool:
    """Check one signature made by a device key.

    Args:
        public_jwk: the device's public JWK (extra members are ignored).
        alg: one of the accepted algorithms (``EdDSA`` is read as ``Ed25519``).
        message: the signed bytes (for a JWS, ``header.payload`` as ASCII).
        signature: the signature in its JWS form: raw ``r || s`` for ECDSA.

    Returns:
        True only for a valid signature; False for any invalid or malformed one.

    Raises:
        UnsupportedKey: the algorithm is not accepted or the key cannot be used with it.
    """
    key = load_public_key(public_jwk, alg)
    verifier = JWSRegistry.algorithms[key.alg]
    imported = _import_key(tuple(key.jwk.items()))
    try:
        return bool(verifier.verify(message, signature, imported))
    except (ValueError, TypeError, OverflowError, JoseError):
        return False
