"""Which device keys are accepted, what their key_id is, and how signatures are checked."""

from __future__ import annotations

import base64
import contextlib
from typing import Any

import pytest
from conftest import ALGORITHMS, device_for
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from devicekeys.errors import UnsupportedKey
from devicekeys.keys import load_public_key, verify_signature
from hypothesis import given, settings
from hypothesis import strategies as st
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
    assert verify_signature(jwk, alg="ES256", message=b"header.payload", signature=signature)
    assert not verify_signature(jwk, alg="ES256", message=b"header.payloaD", signature=signature)
    assert not verify_signature(
        jwk, alg="ES256", message=b"header.payload", signature=signature[:-1] + bytes([signature[-1] ^ 1])
    )


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("signature", [b"", b"\x00", b"\x00" * 64, b"\xff" * 512, b"\x30\x06\x02\x01\x01\x02\x01\x01"])
def test_malformed_signature_bytes_return_false_and_never_raise(alg: str, signature: bytes) -> None:
    assert verify_signature(device_for(alg).public_jwk, alg=alg, message=b"message", signature=signature) is False


# --- one public key, one key_id ------------------------------------------------------------------


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _respellings(value: str) -> list[str]:
    """Other base64 spellings that decoders commonly accept for the same (or a padded) byte string."""
    raw = _unb64(value)
    spellings = [
        value + "=" * (-len(value) % 4),  # padded
        base64.b64encode(raw).decode().rstrip("="),  # standard alphabet (+ and /) where it differs
        " " + value,
        value + "\n",
        b64(b"\x00" + raw),  # a leading zero octet
        b64(b"\x00\x00" + raw),
    ]
    if len(value) % 4:  # unused low bits in the last character: set one
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = alphabet.index(value[-1])
        spellings.append(value[:-1] + alphabet[last | 1])
    return [spelling for spelling in spellings if spelling != value]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_every_other_spelling_of_a_key_is_refused_or_has_the_same_key_id(alg: str) -> None:
    # GIVEN a real key and its key_id
    jwk = device_for(alg).public_jwk
    key_id = load_public_key(jwk, alg).key_id
    # WHEN any member is spelt another way, or the JWK carries extra members or another order
    variants: list[dict[str, Any]] = []
    for member in ("x", "y", "n", "e"):
        if member in jwk:
            variants += [{**jwk, member: spelling} for spelling in _respellings(jwk[member])]
    variants += [
        {**jwk, "kid": "anything", "alg": alg, "use": "sig", "key_ops": ["verify"]},
        dict(reversed(list(jwk.items()))),
    ]
    # THEN each is refused, or is the same key with the same key_id: never a second id
    for variant in variants:
        with contextlib.suppress(UnsupportedKey):
            assert load_public_key(variant, alg).key_id == key_id, variant


def _lenient_value(spelling: str) -> int | None:
    """The number a lenient decoder would read from a member (padding, whitespace, +/ tolerated)."""
    try:
        raw = base64.b64decode(spelling.strip().replace("-", "+").replace("_", "/") + "==", validate=False)
    except ValueError:
        return None
    return int.from_bytes(raw, "big")


@given(data=st.data())
@settings(max_examples=300, deadline=None)
def test_a_key_id_names_exactly_one_spelling_of_a_key(data: st.DataObject) -> None:
    """Property: for any accepted key, any spelling of the same numbers is refused or has the same key_id."""
    alg = data.draw(st.sampled_from(["ES256", "ES384", "Ed25519", "RS256", "PS256"]))
    original = device_for(alg, data.draw(st.integers(0, 2))).public_jwk
    key_id = load_public_key(original, alg).key_id
    jwk = dict(original)
    member = data.draw(st.sampled_from([name for name in ("x", "y", "n", "e") if name in jwk]))
    zeros = b"\x00" * data.draw(st.integers(0, 3))
    spelling = b64(zeros + _unb64(jwk[member]))
    affix = data.draw(st.sampled_from(["", "=", "==", " ", "\n"]))
    spelling = affix + spelling if data.draw(st.booleans()) else spelling + affix
    if data.draw(st.booleans()):
        spelling = spelling.replace("-", "+").replace("_", "/")
    jwk[member] = spelling
    if jwk == original:
        return
    assert _lenient_value(spelling) == _lenient_value(original[member])  # the same key, spelt otherwise
    try:
        key = load_public_key(jwk, alg)
    except UnsupportedKey:
        return
    assert key.key_id == key_id, jwk


def _rsa_jwk(e: int) -> dict[str, str]:
    n = rsa.generate_private_key(65537, 2048).public_key().public_numbers().n
    return {"kty": "RSA", "n": b64(n.to_bytes(256, "big")), "e": b64(e.to_bytes((e.bit_length() + 7) // 8, "big"))}


@pytest.mark.parametrize("exponent", [1, 2, 4, 65536, 2**32 + 1, 2**64 + 1, 2**255 - 19])
def test_rsa_public_exponents_that_are_even_tiny_or_huge_are_refused(exponent: int) -> None:
    with pytest.raises(UnsupportedKey, match="exponent"):
        load_public_key(_rsa_jwk(exponent), "RS256")


@pytest.mark.parametrize("exponent", [3, 17, 65537, 2**32 - 1])
def test_rsa_public_exponents_in_the_safe_range_are_accepted(exponent: int) -> None:
    assert load_public_key(_rsa_jwk(exponent), "RS256").alg == "RS256"


def test_an_even_rsa_modulus_is_refused() -> None:
    jwk = _rsa_jwk(65537)
    n = int.from_bytes(_unb64(jwk["n"]), "big") & ~1
    with pytest.raises(UnsupportedKey, match="odd"):
        load_public_key({**jwk, "n": b64(n.to_bytes(256, "big"))}, "RS256")


# --- keys anyone can sign for --------------------------------------------------------------------

# The eight points of order 1, 2, 4 and 8 (libsodium's blocklist), and the non-canonical
# encodings of the identity and of the order-4 point (y = p, y = p + 1).
SMALL_ORDER = [
    bytes(32),
    b"\x01" + bytes(31),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    b"\xec" + b"\xff" * 30 + b"\x7f",
    b"\xed" + b"\xff" * 30 + b"\x7f",
    b"\xee" + b"\xff" * 30 + b"\x7f",
]
SMALL_ORDER += [point[:31] + bytes([point[31] | 0x80]) for point in SMALL_ORDER]  # with the sign bit


@pytest.mark.parametrize("point", SMALL_ORDER, ids=lambda point: point.hex()[:10])
def test_small_order_ed25519_keys_are_refused_and_never_verify(point: bytes) -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(point)}
    with pytest.raises(UnsupportedKey):
        load_public_key(jwk, "Ed25519")
    # the forgery that works against the backend alone: R = identity, S = 0, any message
    forged = (b"\x01" + bytes(31)) + bytes(32)
    for message in (b"header.payload", b"another message"):
        assert verify_signature(jwk, alg="Ed25519", message=message, signature=forged) is False
        assert verify_signature(jwk, alg="EdDSA", message=message, signature=forged) is False


def test_the_backend_alone_would_accept_a_forgery_for_the_identity_key() -> None:
    """Why the check exists: OpenSSL verifies this signature for every message."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    identity = b"\x01" + bytes(31)
    Ed25519PublicKey.from_public_bytes(identity).verify(identity + bytes(32), b"any message at all")


@given(signature=st.binary(min_size=64, max_size=64), message=st.binary(max_size=64))
@settings(max_examples=200, deadline=None)
def test_no_signature_verifies_for_a_small_order_key(signature: bytes, message: bytes) -> None:
    for point in SMALL_ORDER[:4]:
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(point)}
        assert not verify_signature(jwk, alg="Ed25519", message=message, signature=signature)
