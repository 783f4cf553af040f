"""Frozen known answers: signatures and proofs made by other implementations, checked by ours.

The other tests sign with our client and verify with our service, so a change to both at once
(an encoding, a header member, a thumbprint) would pass them. These values were computed once,
outside this code base, and are written down here:

- RFC 7515, appendix A.3: the ES256 JWS of the JOSE specification, and its P-256 key;
- RFC 8037, appendices A.1-A.4: the Ed25519 key, its RFC 7638 thumbprint and JWS;
- device proofs (our header and claims) signed with those two keys by pyca/cryptography alone;
- a DER-encoded ECDSA signature, as Android's keystore and Apple's Security framework return
  them, over a register proof's signing input.
"""

from __future__ import annotations

import base64

import pytest
from devicekeys.errors import InvalidProof
from devicekeys.keys import load_public_key, verify_signature
from devicekeys.proofs import check_claims, read_proof, signature_is_valid
from devicekeys_client import DeviceKeyPair
from devicekeys_client.signatures import ecdsa_der_to_jws
from joserfc.jwk import OKPKey

# RFC 7515, A.3.1: the example P-256 key (public members; RFC 7638 thumbprint computed elsewhere)
RFC7515_P256 = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}
RFC7515_P256_THUMBPRINT = "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"
# RFC 7515, A.3.1: the complete JWS
RFC7515_A3_JWS = (
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
)

# RFC 8037, A.1 (private key), A.2 (public key), A.3 (thumbprint), A.4 (JWS)
RFC8037_ED25519_PRIVATE = {
    "kty": "OKP",
    "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_ED25519 = {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_ED25519_PRIVATE["x"]}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_A4_JWS = (
    "eyJhbGciOiJFZERTQSJ9"
    ".RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

# Device proofs for user "alice" over the challenge bytes 0..31, iat 2026-01-01T00:00:00Z.
CHALLENGE = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
ISSUED_AT = 1767225600
# {"typ":"dk+jwt","alg":"ES256","kid":<thumbprint>} . {"challenge","sub":"alice","purpose":"verify","iat"}
ES256_VERIFY_PROOF = (
    "eyJ0eXAiOiJkaytqd3QiLCJhbGciOiJFUzI1NiIsImtpZCI6Im9LSXl3dkdVcFRWVHl4TVEzYndJSWVRVXVkZnJfQ2tMTWpDRTE5RUNELVUifQ"
    ".eyJjaGFsbGVuZ2UiOiJBQUVDQXdRRkJnY0lDUW9MREEwT0R4QVJFaE1VRlJZWEdCa2FHeHdkSGg4Iiwic3ViIjoiYWxpY2UiLCJwdXJwb3Nl"
    "IjoidmVyaWZ5IiwiaWF0IjoxNzY3MjI1NjAwfQ"
    ".A21K_nOd_bordt1lKT2qB1hs94raf4Z51-QtywOdJwIvy8tQ4P9q2ipc5LBr6VfZA8atchtmcEIafB2dGWqvSQ"
)
# The same claims signed by the RFC 8037 key (Ed25519 is deterministic: our client must match it byte for byte)
ED25519_VERIFY_PROOF = (
    "eyJ0eXAiOiJkaytqd3QiLCJhbGciOiJFZDI1NTE5Iiwia2lkIjoia1ByS19xbXhWV2FZVkE5d3dCRjZJdW8zdlZ6ejdUeEhDVHdYQnlnclM0ayJ9"
    ".eyJjaGFsbGVuZ2UiOiJBQUVDQXdRRkJnY0lDUW9MREEwT0R4QVJFaE1VRlJZWEdCa2FHeHdkSGg4Iiwic3ViIjoiYWxpY2UiLCJwdXJwb3Nl"
    "IjoidmVyaWZ5IiwiaWF0IjoxNzY3MjI1NjAwfQ"
    ".kIIkr8H_meqLOXBaowA7NFnlHbC1cnx-Zd_y7KmFsvLLoocfJZlSHJWnsqHJjAMGqjFO6C1rVsJVJzZYyiEfCQ"
)
# A register proof's signing input (header with the RFC 7515 key as jwk), and a keystore's DER signature of it
REGISTER_SIGNING_INPUT = (
    "eyJ0eXAiOiJkaytqd3QiLCJhbGciOiJFUzI1NiIsImp3ayI6eyJrdHkiOiJFQyIsImNydiI6IlAtMjU2IiwieCI6ImY4M09KM0QyeEYxQmc4d"
    "nViOXRMZTFnSE16Vjc2ZThUdXM5dVBIdlJWRVUiLCJ5IjoieF9GRXpSdTltMzZITE5fdHVlNjU5TE5wWFc2cEN5U3Rpa1lqS0lXSTVhMCJ9fQ"
    ".eyJjaGFsbGVuZ2UiOiJBQUVDQXdRRkJnY0lDUW9MREEwT0R4QVJFaE1VRlJZWEdCa2FHeHdkSGg4Iiwic3ViIjoiYWxpY2UiLCJwdXJwb3Nl"
    "IjoicmVnaXN0ZXIiLCJpYXQiOjE3NjcyMjU2MDB9"
)
KEYSTORE_DER_SIGNATURE = bytes.fromhex(
    "304502210083a09297b474bc2166d25e7058743733b8f21cc26abeef7e6d07c79cf07086e7"
    "02200752989862aac40f7357dbdf5f4c7d90001e2b6d48257ba4fd782184274cc9b6"
)
KEYSTORE_JWS_SIGNATURE = "g6CSl7R0vCFm0l5wWHQ3M7jyHMJqvu9-bQfHnPBwhucHUpiYYqrED3NX299fTH2QAB4rbUgle6T9eCGEJ0zJtg"


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def split(jws: str) -> tuple[bytes, bytes]:
    header, payload, signature = jws.split(".")
    return f"{header}.{payload}".encode(), b64decode(signature)


def flip_last_bit(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


@pytest.mark.parametrize(
    ("jwk", "alg", "jws"),
    [(RFC7515_P256, "ES256", RFC7515_A3_JWS), (RFC8037_ED25519, "EdDSA", RFC8037_A4_JWS)],
    ids=["RFC 7515 A.3", "RFC 8037 A.4"],
)
def test_the_specifications_own_signatures_verify_and_a_flipped_bit_does_not(
    jwk: dict[str, str], alg: str, jws: str
) -> None:
    message, signature = split(jws)

    assert verify_signature(jwk, alg=alg, message=message, signature=signature)
    assert not verify_signature(jwk, alg=alg, message=message, signature=flip_last_bit(signature))
    assert not verify_signature(jwk, alg=alg, message=flip_last_bit(message), signature=signature)


@pytest.mark.parametrize(
    ("jwk", "alg", "thumbprint"),
    [(RFC7515_P256, "ES256", RFC7515_P256_THUMBPRINT), (RFC8037_ED25519, "Ed25519", RFC8037_THUMBPRINT)],
    ids=["P-256", "Ed25519 (RFC 8037 A.3)"],
)
def test_key_ids_are_the_rfc_7638_thumbprints_others_compute(jwk: dict[str, str], alg: str, thumbprint: str) -> None:
    assert load_public_key(jwk, alg).key_id == thumbprint


def accept(proof: str, jwk: dict[str, str], alg: str, *, purpose: str = "verify") -> None:
    """What the service does with a proof of a known key (claims at a fixed clock, then the signature)."""
    parsed = read_proof(proof)
    check_claims(parsed, user_id="alice", purpose=purpose, now=ISSUED_AT + 5, clock_skew_seconds=60, audience=None)
    if not signature_is_valid(parsed, load_public_key(jwk, alg)):
        raise InvalidProof("the proof signature is not valid")


@pytest.mark.parametrize(
    ("proof", "jwk", "alg"),
    [(ES256_VERIFY_PROOF, RFC7515_P256, "ES256"), (ED25519_VERIFY_PROOF, RFC8037_ED25519, "Ed25519")],
    ids=["ES256", "Ed25519"],
)
def test_proofs_signed_by_another_implementation_are_accepted(proof: str, jwk: dict[str, str], alg: str) -> None:
    accept(proof, jwk, alg)

    parsed = read_proof(proof)
    assert (parsed.challenge, parsed.header["kid"]) == (CHALLENGE, load_public_key(jwk, alg).key_id)
    header, payload, signature = proof.split(".")
    with pytest.raises(InvalidProof):
        accept(f"{header}.{payload}.{base64.urlsafe_b64encode(flip_last_bit(b64decode(signature))).decode()}", jwk, alg)


def test_our_client_signs_exactly_what_the_other_implementation_signed() -> None:
    device = DeviceKeyPair(alg="Ed25519", key=OKPKey.import_key(RFC8037_ED25519_PRIVATE))

    proof = device.proof(challenge=CHALLENGE, user_id="alice", purpose="verify", issued_at=ISSUED_AT)

    assert proof == ED25519_VERIFY_PROOF
    assert device.key_id == RFC8037_THUMBPRINT


def test_a_keystores_der_signature_becomes_the_jws_signature_the_service_accepts() -> None:
    converted = ecdsa_der_to_jws(KEYSTORE_DER_SIGNATURE, "ES256")

    assert base64.urlsafe_b64encode(converted).rstrip(b"=").decode() == KEYSTORE_JWS_SIGNATURE
    proof = f"{REGISTER_SIGNING_INPUT}.{KEYSTORE_JWS_SIGNATURE}"
    accept(proof, RFC7515_P256, "ES256", purpose="register")
    assert read_proof(proof).header["jwk"] == RFC7515_P256


def test_a_der_signature_sent_as_it_is_is_refused() -> None:
    """A client that forgets the conversion must fail loudly, not be accepted by a lenient parser."""
    der = base64.urlsafe_b64encode(KEYSTORE_DER_SIGNATURE).rstrip(b"=").decode()

    with pytest.raises(InvalidProof):
        accept(f"{REGISTER_SIGNING_INPUT}.{der}", RFC7515_P256, "ES256", purpose="register")
