"""Ed25519 point checks: canonical encodings and small order, against keys made by pyca/cryptography."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from devicekeys import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st
from test_keys import SMALL_ORDER


def encode(point: tuple[int, int]) -> bytes:
    x, y = point
    return (y | (x & 1) << 255).to_bytes(32, "little")


def real_public_key() -> bytes:
    return Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_real_keys_decode_to_their_one_encoding_and_are_acceptable() -> None:
    for _ in range(50):
        public = real_public_key()
        point = ed25519.decode_point(public)
        assert point is not None and encode(point) == public
        assert ed25519.is_acceptable_public_key(public)


@pytest.mark.parametrize("point", SMALL_ORDER, ids=lambda point: point.hex()[:10])
def test_every_small_order_encoding_is_refused(point: bytes) -> None:
    assert not ed25519.is_acceptable_public_key(point)


def test_a_y_at_or_above_the_field_prime_is_not_canonical() -> None:
    for y in range(ed25519.P, 2**255):
        assert ed25519.decode_point(y.to_bytes(32, "little")) is None


def test_negative_zero_is_not_canonical() -> None:
    # x = 0 for y = 1 (the identity) and y = p - 1: the sign bit would name a second encoding
    for y in (1, ed25519.P - 1):
        assert ed25519.decode_point((y | 1 << 255).to_bytes(32, "little")) is None


@given(encoded=st.binary(min_size=32, max_size=32))
@settings(max_examples=500, deadline=None)
def test_any_32_bytes_decode_to_their_own_encoding_or_to_nothing(encoded: bytes) -> None:
    point = ed25519.decode_point(encoded)
    if point is not None:
        x, y = point
        assert (y * y - x * x - 1 - ed25519.D * x * x * y * y) % ed25519.P == 0  # on the curve
        assert encode(point) == encoded  # one point, one encoding


def test_a_real_key_plus_a_small_order_point_is_not_small_order() -> None:
    # A mixed-order key is not forgeable (its prime-order part is a real key): it is accepted.
    point = ed25519.decode_point(real_public_key())
    torsion = ed25519.decode_point(SMALL_ORDER[2])
    assert point is not None and torsion is not None
    assert not ed25519.has_small_order(_add(point, torsion))


def _add(first: tuple[int, int], second: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2), p = first, second, ed25519.P
    t = ed25519.D * x1 * x2 * y1 * y2 % p
    return (x1 * y2 + y1 * x2) * pow(1 + t, p - 2, p) % p, (y1 * y2 + x1 * x2) * pow(1 - t, p - 2, p) % p
