"""Ed25519 public keys that prove nothing: non-canonical encodings and points of small order.

A public key A of small order (the identity, or a point of order 2, 4 or 8) makes the verifier's
equation ``[8][S]B = [8]R + [8][k]A`` hold for forged signatures: with ``[8]A`` the identity,
``S`` and ``R`` can be chosen without any private key, for every message. OpenSSL (under
pyca/cryptography) accepts such keys, so they are refused here before a key is ever used.

A point has exactly one canonical encoding (RFC 8032 section 5.1.2: ``y < p``, and no sign
bit on ``x = 0``); any other encoding of the same point would be a second public key for one
device, with a second ``key_id``.

Arithmetic follows RFC 8032: decoding as in section 5.1.3 (one exponentiation), then three
doublings in projective coordinates (no inversions), so a check costs well under a millisecond.
"""

from __future__ import annotations

P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P
_SQRT_MINUS_ONE = pow(2, (P - 1) // 4, P)
COFACTOR_DOUBLINGS = 3  # [8]A is A doubled three times


def decode_point(encoded: bytes) -> tuple[int, int] | None:
    """The point (x, y) an encoding stands for; None when it is not a canonical encoding of a curve point."""
    if len(encoded) != 32:
        return None
    number = int.from_bytes(encoded, "little")
    sign, y = number >> 255, number & ((1 << 255) - 1)
    if y >= P:
        return None  # y is not reduced: a second encoding of some point
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P  # candidate square root of u/v
    if v * x * x % P == (-u) % P:
        x = x * _SQRT_MINUS_ONE % P
    if v * x * x % P != u:
        return None  # u/v is not a square: not on the curve
    if x == 0 and sign:
        return None  # "negative zero" is not canonical
    if x & 1 != sign:
        x = P - x
    return x, y


def has_small_order(point: tuple[int, int]) -> bool:
    """True when [8]point is the identity: the point's order divides the cofactor 8."""
    x, y, z = point[0], point[1], 1
    for _ in range(COFACTOR_DOUBLINGS):  # RFC 8032 section 5.1.4 doubling, a = -1, projective
        b, c, d = (x + y) ** 2 % P, x * x % P, y * y % P
        e = -c % P
        f = (e + d) % P
        j = (f - 2 * z * z) % P
        x, y, z = (b - c - d) * j % P, f * (e - d) % P, f * j % P
    return x == 0 and y == z


def is_acceptable_public_key(encoded: bytes) -> bool:
    """True for the canonical encoding of a curve point whose order is not small."""
    point = decode_point(encoded)
    return point is not None and not has_small_order(point)
