"""Device proofs: structure, pinned algorithm, signature and claims (docs/protocol.md, sections 2 and 3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from conftest import ALGORITHMS, device_for
from devicekeys.errors import InvalidProof
from devicekeys.keys import load_public_key
from devicekeys.proofs import check_claims, read_proof, signature_is_valid

CHALLENGE = base64.urlsafe_b64encode(b"\x07" * 32).rstrip(b"=").decode()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], payload: Any, signature: bytes = b"sig") -> str:
    """A compact JWS with whatever header, payload and signature bytes a test needs."""
    encoded = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    return encoded + "." + b64(signature)


def claims(**overrides: Any) -> dict[str, Any]:
    return {"challenge": CHALLENGE, "sub": "alice", "purpose": "verify", "iat": int(time.time()), **overrides}


def check(proof: str, alg: str = "ES256", *, audience: str | None = None, now: int | None = None) -> None:
    """What the service does with a proof of a known key: the claims, then the pinned key's signature."""
    parsed = read_proof(proof)
    check_claims(
        parsed,
        user_id="alice",
        purpose="verify",
        now=int(time.time()) if now is None else now,
        clock_skew_seconds=60,
        audience=audience,
    )
    if not signature_is_valid(parsed, load_public_key(device_for(alg).public_jwk, alg)):
        raise InvalidProof("the proof signature is not valid")


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_well_formed_proof_of_every_algorithm_verifies(alg: str) -> None:
    proof = device_for(alg).proof(challenge=CHALLENGE, user_id="alice", purpose="verify")
    check(proof, alg)
    assert read_proof(proof).challenge == CHALLENGE


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "....",
        "e30.e30.",  # {} header
        None,
        42,
        {"proof": "x"},
        "é.é.é",
        "A" * 9000,
    ],
)
def test_values_that_are_not_compact_jws_are_invalid_proofs(value: Any) -> None:
    with pytest.raises(InvalidProof):
        read_proof(value)


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        ({"alg": "none", "typ": "dk+jwt"}, claims()),
        ({"alg": "HS256", "typ": "dk+jwt"}, claims()),
        ({"alg": "ES512", "typ": "dk+jwt"}, claims()),
        ({"alg": "ES256", "typ": "JWT"}, claims()),
        ({"alg": "ES256"}, claims()),
        ({"alg": "ES256", "typ": "dk+jwt", "crit": ["exp"], "exp": 1}, claims()),
        ({"alg": "ES256", "typ": "dk+jwt", "b64": False, "crit": ["b64"]}, claims()),
        ({"alg": "ES256", "typ": "dk+jwt"}, ["challenge"]),
        ({"alg": "ES256", "typ": "dk+jwt"}, {"sub": "alice"}),
        ({"alg": "ES256", "typ": "dk+jwt"}, claims(challenge=123)),
        ({"typ": "dk+jwt"}, claims()),
    ],
)
def test_proofs_with_a_refused_header_or_payload_shape_are_invalid(header: dict[str, Any], payload: Any) -> None:
    with pytest.raises(InvalidProof):
        read_proof(forge(header, payload))


def test_the_none_algorithm_never_verifies_even_with_an_empty_signature() -> None:
    with pytest.raises(InvalidProof):
        check(forge({"alg": "none", "typ": "dk+jwt"}, claims(), b""))


def test_an_hmac_proof_keyed_with_the_public_key_never_verifies() -> None:
    # The classic algorithm-confusion attack: HS256 with the device's public key as the secret.
    device = device_for("ES256")
    secret = json.dumps(device.public_jwk).encode()
    signing_input = b64(json.dumps({"alg": "HS256", "typ": "dk+jwt", "kid": device.key_id}).encode())
    signing_input += "." + b64(json.dumps(claims()).encode())
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidProof):
        check(signing_input + "." + b64(mac))


def test_a_header_alg_other_than_the_keys_pinned_alg_is_refused() -> None:
    # GIVEN a key pinned to PS256 and a valid RS256 signature by that same RSA key
    rs256 = device_for("RS256")
    pinned = load_public_key(rs256.public_jwk, "PS256")
    proof = read_proof(rs256.proof(challenge=CHALLENGE, user_id="alice", purpose="verify"))
    # THEN the signature does not count: the key is pinned to another algorithm
    assert signature_is_valid(proof, load_public_key(rs256.public_jwk, "RS256"))
    assert not signature_is_valid(proof, pinned)


def test_a_tampered_payload_or_signature_does_not_verify() -> None:
    proof = device_for("ES256").proof(challenge=CHALLENGE, user_id="alice", purpose="verify")
    header, payload, signature = proof.split(".")
    other_payload = b64(json.dumps(claims(sub="alice", extra=1)).encode())
    with pytest.raises(InvalidProof, match="signature"):
        check(f"{header}.{other_payload}.{signature}")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    with pytest.raises(InvalidProof, match="signature"):
        check(f"{header}.{payload}.{flipped}")
    with pytest.raises(InvalidProof):
        check(f"{header}.{payload}.{signature}!")  # not base64url
    with pytest.raises(InvalidProof):
        check(f"{header}.{payload}.{signature[:20]}")  # truncated


def test_a_proof_signed_by_another_key_does_not_verify() -> None:
    proof = device_for("ES256", slot=1).proof(challenge=CHALLENGE, user_id="alice", purpose="verify")
    with pytest.raises(InvalidProof, match="signature"):
        check(proof)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"sub": "bob"}, "another user"),
        ({"sub": None}, "another user"),
        ({"purpose": "register"}, "another purpose"),
        ({"iat": "now"}, "integer number of seconds"),
        ({"iat": True}, "integer number of seconds"),
        ({"iat": None}, "integer number of seconds"),
        ({"iat": float(int(time.time()))}, "integer number of seconds"),
    ],
)
def test_claims_must_match_the_expected_user_purpose_and_time(overrides: dict[str, Any], reason: str) -> None:
    proof = device_for("ES256").proof(challenge=CHALLENGE, user_id="alice", purpose="verify", claims=overrides)
    with pytest.raises(InvalidProof, match=reason):
        check(proof)


def test_iat_must_lie_within_the_clock_skew_on_both_sides() -> None:
    now = 1_800_000_000
    device = device_for("ES256")
    for iat, accepted in [(now - 60, True), (now + 60, True), (now - 61, False), (now + 61, False)]:
        proof = device.proof(challenge=CHALLENGE, user_id="alice", purpose="verify", issued_at=iat)
        if accepted:
            check(proof, now=now)
        else:
            with pytest.raises(InvalidProof, match="clock skew"):
                check(proof, now=now)


def test_the_audience_is_required_when_the_deployment_sets_one() -> None:
    device = device_for("ES256")
    with_aud = device.proof(challenge=CHALLENGE, user_id="alice", purpose="verify", audience="login.example")
    check(with_aud, audience="login.example")
    as_list = device.proof(
        challenge=CHALLENGE, user_id="alice", purpose="verify", claims={"aud": ["x", "login.example"]}
    )
    check(as_list, audience="login.example")
    for proof in (
        device.proof(challenge=CHALLENGE, user_id="alice", purpose="verify"),
        device.proof(challenge=CHALLENGE, user_id="alice", purpose="verify", audience="evil.example"),
    ):
        with pytest.raises(InvalidProof, match="audience"):
            check(proof, audience="login.example")


# --- JSON inside a proof follows the service's rules ------------------------------------------------


def _segments(header: str, payload: str) -> str:
    return b64(header.encode()) + "." + b64(payload.encode()) + "." + b64(b"sig")


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        ('{"alg": "ES256", "typ": "dk+jwt"}', '{"challenge": "c", "iat": NaN}'),
        ('{"alg": "ES256", "typ": "dk+jwt"}', '{"challenge": "c", "iat": Infinity}'),
        ('{"alg": "ES256", "typ": "dk+jwt"}', '{"challenge": "c", "iat": -Infinity}'),
        ('{"alg": "ES256", "typ": "dk+jwt"}', '{"challenge": "c", "iat": 1e999}'),
        ('{"alg": "ES256", "typ": "dk+jwt", "x": NaN}', '{"challenge": "c"}'),
        ('{"alg": "ES256", "typ": "dk+jwt"}', '{"challenge": "c", "sub": "\\ud800"}'),
        ('{"alg": "ES256", "typ": "dk+jwt", "kid": "a\\u0000"}', '{"challenge": "c"}'),
        ('{"alg": "ES256", "typ": "dk+jwt"}', '{"challenge": "c", "sub": "alice", "sub": "bob"}'),
        ('{"alg": "ES256", "typ": "dk+jwt", "alg": "none"}', '{"challenge": "c"}'),
        ('{"alg": "none", "typ": "dk+jwt", "alg": "ES256"}', '{"challenge": "c"}'),
    ],
    ids=[
        "iat-nan",
        "iat-infinity",
        "iat-minus-infinity",
        "iat-overflow",
        "header-nan",
        "payload-surrogate",
        "header-nul",
        "duplicate-claim",
        "duplicate-alg",
        "duplicate-alg-reversed",
    ],
)
def test_proofs_whose_json_breaks_the_rules_are_invalid(header: str, payload: str) -> None:
    with pytest.raises(InvalidProof):
        read_proof(_segments(header, payload))


@pytest.mark.parametrize("iat", [float("nan"), float("inf"), float("-inf"), 1.5])
def test_a_signed_proof_with_an_iat_that_is_not_an_integer_never_verifies(iat: float) -> None:
    # the reviewer's case: every comparison with NaN is false, so a NaN iat skipped the skew check
    proof = device_for("ES256").proof(challenge=CHALLENGE, user_id="alice", purpose="verify", claims={"iat": iat})
    with pytest.raises(InvalidProof):
        check(proof)
