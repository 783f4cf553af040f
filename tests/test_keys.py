"""Which device keys are accepted, what their key_id is, and how signatures are checked."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from conftest import ALGORITHMS, device_for
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from devicekeys.errors import UnsupportedKey
from devicekeys.keys import load_public_key, verify_signature
from joserfc.jwk import RSAKey


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_key_id_is_the_rfc7638_thumbprint_of_the_rfc_example() -> None:
    # RFC 7638 section 3.1: this RSA key's SHA-256 thumbprint.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjB"
        "ZCiFV4n3oknjhMs"
        "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1"
        "n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    key = load_public_key(jwk, "RS256")
    assert key.key_id == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    assert key.jwk == {"e": "AQAB", "kty": "RSA", "n": jwk["n"]}  # only RFC 7638 members are kept


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_every_supported_algorithm_loads_and_a_client_can_compute_the_key_id(alg: str) -> None:
    device = device_for(alg)
    key = load_public_key(device.public_jwk, alg)
    assert key.key_id == device.key_id
    assert key.alg == ("Ed25519" if alg == "EdDSA" else alg)


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_jwk_with_private_members_is_refused(alg: str) -> None:
    private = device_for(alg).key.as_dict(private=True)
    with pytest.raises(UnsupportedKey, match="public members only"):
        load_public_key(private, alg)


@pytest.mark.parametrize(
    ("key_alg", "claimed_alg"),
    [
        ("ES256", "ES384"),
        ("ES384", "ES256"),
        ("ES256", "Ed25519"),
        ("Ed25519", "ES256"),
        ("ES256", "RS256"),
        ("RS256", "ES256"),
        ("PS256", "Ed25519"),
    ],
)
def test_a_key_used_with_an_algorithm_of_another_shape_is_refused(key_alg: str, claimed_alg: str) -> None:
    with pytest.raises(UnsupportedKey):
        load_public_key(device_for(key_alg).public_jwk, claimed_alg)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS512", "ES512", "ES256K", "Ed448", "", None, 7])
def test_algorithms_outside_the_list_are_refused(alg: Any) -> None:
    with pytest.raises(UnsupportedKey):
        load_public_key(device_for("ES256").public_jwk, alg)


@pytest.mark.parametrize("bits", [1024, 1536, 2040])
def test_rsa_keys_below_2048_bits_are_refused(bits: int) -> None:
    numbers = rsa.generate_private_key(65537, bits).public_key().public_numbers()
    jwk = {"kty": "RSA", "n": b64(numbers.n.to_bytes(bits // 8, "big")), "e": "AQAB"}
    with pytest.raises(UnsupportedKey, match="2048 to 4096"):
        load_public_key(jwk, "RS256")


def test_rsa_keys_above_4096_bits_are_refused() -> None:
    jwk = RSAKey.generate_key(4104, private=False).as_dict(private=False)
    with pytest.raises(UnsupportedKey, match="2048 to 4096"):
        load_public_key(jwk, "PS256")


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-256", "x": b64(b"\x01" * 32), "y": b64(b"\x02" * 32)},  # not on the curve
        {"kty": "EC", "crv": "P-256", "x": b64(b"\x01" * 31), "y": b64(b"\x02" * 32)},  # short coordinate
        {"kty": "EC", "crv": "P-256", "x": "not base64!", "y": "x"},
        {"kty": "EC", "crv": "P-256", "x": 1, "y": 2},
        {"kty": "EC", "crv": "P-256"},
        {"kty": "OKP", "crv": "Ed25519", "x": b64(b"\x00" * 31)},
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        "a string",
        ["kty", "EC"],
    ],
)
def test_malformed_or_invalid_keys_are_refused(jwk: Any) -> None:
    with pytest.raises(UnsupportedKey):
        load_public_key(jwk, "ES256" if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" else "Ed25519")


def test_an_es256_signature_made_directly_with_pyca_cryptography_verifies() -> None:
    # GIVEN a P-256 key and a signature made without joserfc, converted to JWS r||s by hand
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": b64(numbers.x.to_bytes(32, "big")),
        "y": b64(numbers.y.to_bytes(32, "big")),
    }
    r, s = decode_dss_signature(private.sign(b"header.payload", ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    # THEN it verifies, and any change to message or signature does not
    assert verify_signature(jwk, "ES256", b"header.payload", signature)
    assert not verify_signature(jwk, "ES256", b"header.payloaD", signature)
    assert not verify_signature(jwk, "ES256", b"header.payload", signature[:-1] + bytes([signature[-1] ^ 1]))


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("signature", [b"", b"\x00", b"\x00" * 64, b"\xff" * 512, b"\x30\x06\x02\x01\x01\x02\x01\x01"])
def test_malformed_signature_bytes_return_false_and_never_raise(alg: str, signature: bytes) -> None:
    assert verify_signature(device_for(alg).public_jwk, alg, b"message", signature) is False
