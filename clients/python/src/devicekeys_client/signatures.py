"""Signature format conversion for native platforms.

Android Keystore, iOS Secure Enclave and most HSMs return ECDSA signatures DER-encoded; JWS
(and so devicekeys) wants the raw ``r || s`` form. Convert strictly: a non-canonical encoding is
refused rather than repaired, so a malleated signature never becomes a valid proof.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

CURVE_BYTES = {"ES256": 32, "ES384": 48}


def ecdsa_der_to_jws(der: bytes, alg: str) -> bytes:
    """DER ``ECDSA-Sig-Value`` to JWS ``r || s``; raises ValueError for anything but canonical DER."""
    size = CURVE_BYTES[alg]
    r, s = decode_dss_signature(der)
    if encode_dss_signature(r, s) != der:
        raise ValueError("not canonical DER")
    if not (0 < r < 2 ** (8 * size) and 0 < s < 2 ** (8 * size)):
        raise ValueError("r or s out of range for the curve")
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")
