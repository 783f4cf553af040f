"""The JWTs of bound sessions under hostile encodings: the browser's (``Secure-Session-Response``) and
the service's own credential. Nothing but ``InvalidProof`` / ``InvalidCredential`` (or a clean 4xx
over HTTP) comes out of any input, and only well-formed, allowed shapes get through.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from bound_session_helpers import ORIGIN, Dbsc, SessionBrowser, signing_key
from conftest import Api
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from devicekeys.bound_credentials import CredentialIssuer, CredentialVerifier, InvalidCredential, KmsSigningKey
from devicekeys.dbsc_proofs import read_dbsc_proof, signature_is_valid
from devicekeys.dbsc_protocol import session_id_value
from devicekeys.errors import ERROR_STATUS, InvalidProof
from devicekeys.keys import load_public_key
from devicekeys.session_settings import SessionSettings
from devicekeys_client import DeviceKeyPair
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CHALLENGE = base64.urlsafe_b64encode(b"\x07" * 32).rstrip(b"=").decode()
any_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
HEADER_NAMES = ["alg", "typ", "jwk", "kid", "crit", "b64", "x5u"]
CLAIM_NAMES = ["jti", "authorization", "aud", "iat"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: Any, payload: Any, signature: bytes = b"sig") -> str:
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)])


# --- the browser's JWT ----------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_what_chromium_sends_parses_and_verifies(alg: str) -> None:
    browser = SessionBrowser.generate(alg)

    registration = read_dbsc_proof(browser.registration(CHALLENGE, "code"))
    refresh = read_dbsc_proof(browser.refresh(CHALLENGE))

    key = load_public_key(registration.jwk, registration.alg)
    assert (registration.challenge, registration.authorization, registration.alg) == (CHALLENGE, "code", alg)
    assert signature_is_valid(registration, key) and signature_is_valid(refresh, key)
    assert refresh.authorization is None and refresh.jwk is None


def test_a_signature_by_another_key_or_algorithm_does_not_verify() -> None:
    browser, other = SessionBrowser.generate("ES256"), DeviceKeyPair.generate("ES256")
    key = load_public_key(browser.public_jwk, "ES256")

    assert not signature_is_valid(read_dbsc_proof(browser.refresh(CHALLENGE, signer=other)), key)
    rsa = DeviceKeyPair.generate("RS256")
    assert not signature_is_valid(read_dbsc_proof(browser.refresh(CHALLENGE, signer=rsa)), key)
    tampered = browser.refresh(CHALLENGE).split(".")
    tampered[1] = b64(json.dumps({"jti": "B" * 43}).encode())
    assert not signature_is_valid(read_dbsc_proof(".".join(tampered)), key)


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        ({"alg": "none", "typ": "dbsc+jwt"}, {"jti": CHALLENGE}),
        ({"alg": "HS256", "typ": "dbsc+jwt"}, {"jti": CHALLENGE}),
        ({"alg": "ES384", "typ": "dbsc+jwt"}, {"jti": CHALLENGE}),
        ({"alg": "EdDSA", "typ": "dbsc+jwt"}, {"jti": CHALLENGE}),
        ({"alg": "PS256", "typ": "dbsc+jwt"}, {"jti": CHALLENGE}),
        ({"alg": "es256", "typ": "dbsc+jwt"}, {"jti": CHALLENGE}),
        ({"alg": "ES256"}, {"jti": CHALLENGE}),
        ({"alg": "ES256", "typ": "DBSC+JWT"}, {"jti": CHALLENGE}),
        ({"alg": "ES256", "typ": "dk+jwt"}, {"jti": CHALLENGE}),
        ({"alg": "ES256", "typ": "dbsc+jwt", "crit": ["b64"], "b64": True}, {"jti": CHALLENGE}),
        ({"alg": "ES256", "typ": "dbsc+jwt", "b64": False}, {"jti": CHALLENGE}),
        ({"alg": "ES256", "typ": "dbsc+jwt"}, {}),
        ({"alg": "ES256", "typ": "dbsc+jwt"}, {"jti": 42}),
        ({"alg": "ES256", "typ": "dbsc+jwt"}, {"jti": CHALLENGE + "A"}),
        ({"alg": "ES256", "typ": "dbsc+jwt"}, {"jti": CHALLENGE, "authorization": 7}),
        ({"alg": "ES256", "typ": "dbsc+jwt"}, {"jti": CHALLENGE, "authorization": "a" * 257}),
        ({"alg": "ES256", "typ": "dbsc+jwt"}, [CHALLENGE]),
        (["ES256"], {"jti": CHALLENGE}),
    ],
)
def test_shapes_outside_the_protocol_are_refused(header: Any, payload: Any) -> None:
    with pytest.raises(InvalidProof):
        read_dbsc_proof(forge(header, payload))


@pytest.mark.parametrize(
    "value",
    [None, 42, "", "a.b", "a.b.c.d", "e30.e30.", "é.é.é", "A" * 9000, {"jwt": "x"}, "....", " " + CHALLENGE],
)
def test_values_that_are_not_compact_jws_are_refused(value: Any) -> None:
    with pytest.raises(InvalidProof):
        read_dbsc_proof(value)


def test_non_canonical_base64url_and_json_tricks_are_refused() -> None:
    good = SessionBrowser.generate().refresh(CHALLENGE)
    header, payload, signature = good.split(".")
    raw_header = json.dumps({"alg": "ES256", "typ": "dbsc+jwt"}).encode()
    duplicate = b64(b'{"alg":"none","alg":"ES256","typ":"dbsc+jwt"}')
    not_a_number = b64(b'{"jti":NaN}')
    surrogate = b64(b'{"jti":"\\ud800"}')
    last = b64(raw_header)[-1]
    cases = {
        "padded signature": f"{header}.{payload}.{signature}==",
        "standard alphabet": f"{header}.{payload}.{signature.replace('-', '+').replace('_', '/')}+",
        "duplicate alg": f"{duplicate}.{payload}.{signature}",
        "NaN in the payload": f"{header}.{not_a_number}.{signature}",
        "a lone surrogate": f"{header}.{surrogate}.{signature}",
        "trailing bits set": f"{b64(raw_header)[:-1]}{chr(ord(last) + 1)}.{payload}.{signature}",
    }
    for case, value in cases.items():
        with pytest.raises(InvalidProof):
            read_dbsc_proof(value)
        assert case


@settings(max_examples=300, deadline=None)
@given(
    header=st.dictionaries(st.sampled_from(HEADER_NAMES), json_values, max_size=5) | json_values,
    payload=st.dictionaries(st.sampled_from(CLAIM_NAMES), json_values, max_size=4) | json_values,
    signature=st.binary(max_size=80),
)
def test_any_header_and_payload_either_parse_to_an_allowed_shape_or_are_invalid(
    header: Any, payload: Any, signature: bytes
) -> None:
    try:
        proof = read_dbsc_proof(forge(header, payload, signature))
    except InvalidProof:
        return
    assert proof.alg in ("ES256", "RS256") and proof.header["typ"] == "dbsc+jwt"
    assert isinstance(proof.challenge, str) and len(proof.challenge) == 43
    assert proof.authorization is None or isinstance(proof.authorization, str)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, categories=None), max_size=200) | st.binary(max_size=200))
def test_arbitrary_strings_and_bytes_are_refused_cleanly(value: str | bytes) -> None:
    with pytest.raises(InvalidProof):
        read_dbsc_proof(value)


@given(st.text(max_size=80))
def test_a_session_id_header_is_a_token_or_an_sf_string(raw: str) -> None:
    try:
        value = session_id_value(raw)
    except ValueError:
        return
    assert '"' not in value or raw.strip().startswith('"')


# --- over HTTP: never a 5xx ------------------------------------------------------------------


@pytest.fixture
def dbsc(api: Api, functions: Any) -> Dbsc:
    return Dbsc(api, signing_key(functions))


def assert_documented(status: int, body: Any) -> None:
    assert status < 500, body
    assert status >= 400 and ERROR_STATUS[body["error"]["code"]] == status, body


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.dictionaries(st.sampled_from(HEADER_NAMES), json_values, max_size=5),
    payload=st.dictionaries(st.sampled_from(CLAIM_NAMES), json_values, max_size=4),
    signature=st.binary(max_size=80),
    session_id=st.text(alphabet=st.characters(codec=None, categories=None), max_size=60),
)
def test_forged_registrations_and_refreshes_of_any_shape_are_clean_4xx(
    dbsc: Dbsc, header: dict[str, Any], payload: dict[str, Any], signature: bytes, session_id: str
) -> None:
    response = forge(header, payload, signature)
    registration = dbsc.register(response)
    assert_documented(registration.status, registration.body)
    safe_id = session_id.encode("utf-8", "surrogatepass").decode("latin-1")
    for headers in (
        {"sec-secure-session-id": safe_id},
        {"sec-secure-session-id": safe_id, "secure-session-response": response},
    ):
        refresh = dbsc.api.call("POST", "/dbsc/refresh", headers={"origin": ORIGIN, **headers})
        assert_documented(refresh.status, refresh.body)


# --- the credential --------------------------------------------------------------------------


class _FakeKms:
    """KMS's Sign and GetPublicKey over a local P-256 key: the credential's format without moto."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())

    def sign(self, **request: Any) -> dict[str, Any]:
        assert request["MessageType"] == "RAW" and request["SigningAlgorithm"] == "ECDSA_SHA_256"
        return {"Signature": self.private.sign(request["Message"], ec.ECDSA(hashes.SHA256()))}

    def get_public_key(self, **request: Any) -> dict[str, Any]:
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {"PublicKey": der}


@pytest.fixture(scope="module")
def key() -> KmsSigningKey:
    return KmsSigningKey(SessionSettings(signing_key_id="key-1"), region="us-east-1", client=_FakeKms())


def test_a_credential_round_trips_and_expires(key: KmsSigningKey) -> None:
    token = CredentialIssuer(key, clock=lambda: 1000.0).issue("alice", "s.1", lifetime=60)

    assert CredentialVerifier(key, clock=lambda: 1059.0).verify(token).session_id == "s.1"
    with pytest.raises(InvalidCredential):
        CredentialVerifier(key, clock=lambda: 1060.0).verify(token)
    assert CredentialVerifier(key, clock=lambda: 9999.0).verify(token, allow_expired=True).user_id == "alice"


def test_a_raw_signature_is_what_kms_der_becomes(key: KmsSigningKey) -> None:
    token = CredentialIssuer(key).issue("alice", "s.1", lifetime=60)
    header, payload, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))

    assert len(raw) == 64
    key._client.private.public_key().verify(der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))


@settings(max_examples=300, deadline=None)
@given(
    header=st.dictionaries(st.sampled_from(["alg", "typ", "kid", "crit", "jwk"]), json_values, max_size=4),
    claims=st.dictionaries(st.sampled_from(["iss", "sub", "sid", "exp", "iat"]), json_values, max_size=5),
    signature=st.binary(max_size=80),
)
def test_hostile_credentials_are_invalid_never_an_error(
    key: KmsSigningKey, header: dict[str, Any], claims: dict[str, Any], signature: bytes
) -> None:
    with pytest.raises(InvalidCredential):
        CredentialVerifier(key).verify(forge(header, claims, signature))


def test_a_credential_with_altered_types_is_invalid_even_if_signed(key: KmsSigningKey) -> None:
    issuer = CredentialIssuer(key, clock=lambda: 1000.0)
    good_header = {"alg": "ES256", "typ": "dk-session+jwt", "kid": "key-1"}
    good_claims = {"iss": "devicekeys", "sub": "alice", "sid": "s", "exp": 2000}
    headers = [
        {**good_header, "typ": "JWT"},
        {"alg": "ES256", "kid": "key-1"},
        {**good_header, "kid": "key-2"},
        {"alg": "ES256", "typ": "dk-session+jwt"},
    ]
    claim_sets = [
        {**good_claims, "exp": 2000.5},
        {**good_claims, "exp": True},
        {**good_claims, "sub": ["alice"]},
        {**good_claims, "iss": "someone"},
        {"sub": "alice", "sid": "s", "exp": 2000},
    ]
    cases = [(header, good_claims) for header in headers] + [(good_header, claims) for claims in claim_sets]
    for header, claims in cases:
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        token = f"{signing_input}.{b64(issuer._key.sign(signing_input.encode()))}"
        with pytest.raises(InvalidCredential):
            CredentialVerifier(key, clock=lambda: 1000.0).verify(token)
    signing_input = f"{b64(json.dumps(good_header).encode())}.{b64(json.dumps(good_claims).encode())}"
    genuine = f"{signing_input}.{b64(issuer._key.sign(signing_input.encode()))}"
    assert CredentialVerifier(key, clock=lambda: 1000.0).verify(genuine).user_id == "alice"
