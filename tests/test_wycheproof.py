"""Project Wycheproof vectors against ``verify_signature``: the primitive under every proof.

Each case: ``valid`` must verify, ``invalid`` must not, ``acceptable`` may go either way, and
no case may raise. DER-encoded ECDSA vectors go through the client SDK's strict DER-to-JWS
conversion first, as a native device's signature would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from devicekeys.keys import verify_signature
from devicekeys_client.signatures import ecdsa_der_to_jws
from joserfc.jwk import import_key

# Copied into the repository with their licence (tests/vectors/wycheproof/README.md).
VECTORS = Path(__file__).resolve().parent / "vectors" / "wycheproof"

# file -> (JWS alg, signature is DER)
FILES = {
    "ecdsa_secp256r1_sha256_p1363_test.json": ("ES256", False),
    "ecdsa_secp384r1_sha384_p1363_test.json": ("ES384", False),
    "ecdsa_secp256r1_sha256_test.json": ("ES256", True),
    "ecdsa_secp384r1_sha384_test.json": ("ES384", True),
    "ed25519_test.json": ("Ed25519", False),
    "rsa_signature_2048_sha256_test.json": ("RS256", False),
    "rsa_pss_2048_sha256_mgf1_32_test.json": ("PS256", False),
}


def _public_jwk(group: dict[str, Any]) -> dict[str, Any]:
    jwk = group.get("publicKeyJwk") or group.get("keyJwk")
    if jwk:
        return {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "n", "e")}
    key_type = "RSA" if group["type"].startswith("Rsa") else "EC"
    key = import_key(bytes.fromhex(group["publicKeyDer"]), key_type)
    return dict(key.as_dict(private=False))


def _cases() -> Iterator[Any]:
    for name, (alg, der) in FILES.items():
        path = VECTORS / name
        for group in json.loads(path.read_text())["testGroups"]:
            jwk = _public_jwk(group)
            for case in group["tests"]:
                yield pytest.param(alg, der, jwk, case, id=f"{name.removesuffix('_test.json')}-{case['tcId']}")


CASES = list(_cases())


def test_every_vector_file_is_present() -> None:
    assert {c.values[0] for c in CASES} == {"ES256", "ES384", "Ed25519", "RS256", "PS256"}, VECTORS
    assert len(CASES) > 1800


@pytest.mark.parametrize(("alg", "der", "jwk", "case"), CASES)
def test_wycheproof_case(alg: str, der: bool, jwk: dict[str, Any], case: dict[str, Any]) -> None:
    message, signature = bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"])
    if der:
        try:
            signature = ecdsa_der_to_jws(signature, alg)
        except ValueError:
            assert case["result"] != "valid", f"valid DER refused: {case['comment']}"
            return
    verified = verify_signature(jwk, alg=alg, message=message, signature=signature)
    if case["result"] == "valid":
        assert verified, case["comment"]
    elif case["result"] == "invalid":
        assert not verified, case["comment"]
