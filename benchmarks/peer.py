"""A peer side by side: one ES256 proof check by devicekeys against py_webauthn's assertion check.

Both verify one P-256 ECDSA signature made by a real key over a fresh challenge, including
parsing what the client sent: devicekeys a compact JWS (``read_proof`` + ``check_claims`` + ``signature_is_valid``, the
layer's own code), py_webauthn an authentication credential (authenticatorData +
clientDataJSON + DER signature, ``verify_authentication_response``) against a COSE public key.
devicekeys caches imported public keys (``keys._import_key``), so it is timed twice: with the
cache (a device that verifies again soon) and with it cleared before every check (the first
check of a key in a container, which is what py_webauthn does every time). A bare ECDSA
verification with a ready key object is timed alongside as the floor under both.

Runs inside the peer interpreter (benchmarks/.venv-peer: layer requirements + webauthn), so
py_webauthn is never installed in the project.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .common import LAYER_DIR, ROOT, Summary, run_json
from .environments import Interpreter


def child(iterations: int) -> dict[str, Any]:
    """Time both libraries in this process, interleaved; medians in microseconds."""
    import base64
    import hashlib
    import os
    import time

    sys.path[:0] = [str(LAYER_DIR), str(ROOT / "clients" / "python" / "src")]
    import cbor2
    import webauthn
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from devicekeys import keys
    from devicekeys.proofs import check_claims, read_proof, signature_is_valid
    from devicekeys_client import DeviceKeyPair

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    challenge = os.urandom(32)
    user, now = "alice", int(time.time())

    # devicekeys: a verify proof signed by a real ES256 device key.
    device = DeviceKeyPair.generate("ES256")
    proof = device.proof(challenge=b64(challenge), user_id=user, purpose="verify")
    stored = keys.load_public_key(device.public_jwk, "ES256")

    def devicekeys_check() -> None:
        read = read_proof(proof)
        check_claims(read, user_id=user, purpose="verify", now=now, clock_skew_seconds=60, audience=None)
        if not signature_is_valid(read, stored):
            raise AssertionError("the benchmark's own proof must verify")

    def devicekeys_uncached() -> None:
        keys._import_key.cache_clear()
        devicekeys_check()

    # py_webauthn: an ES256 assertion as a platform authenticator makes it.
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    cose_key = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
    rp_id, origin = "example.com", "https://example.com"
    authenticator_data = hashlib.sha256(rp_id.encode()).digest() + bytes([0x05]) + (7).to_bytes(4, "big")
    client_data = json.dumps(
        {"type": "webauthn.get", "challenge": b64(challenge), "origin": origin, "crossOrigin": False}
    ).encode()
    signature = private.sign(authenticator_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
    credential_id = os.urandom(16)
    credential = {
        "id": b64(credential_id),
        "rawId": b64(credential_id),
        "type": "public-key",
        "response": {
            "authenticatorData": b64(authenticator_data),
            "clientDataJSON": b64(client_data),
            "signature": b64(signature),
        },
    }

    def webauthn_check() -> None:
        webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=cose_key,
            credential_current_sign_count=0,
            require_user_verification=False,
        )

    # The floor under both: one ECDSA P-256 verification with a ready key object.
    message = authenticator_data + hashlib.sha256(client_data).digest()
    public_key = private.public_key()

    def ecdsa_only() -> None:
        public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))

    checks = {
        "ecdsa_p256_only": ecdsa_only,
        "devicekeys_cached_key": devicekeys_check,
        "devicekeys_uncached_key": devicekeys_uncached,
        "webauthn": webauthn_check,
    }
    samples: dict[str, list[float]] = {name: [] for name in checks}
    for i in range(iterations + iterations // 10):
        for name, check in checks.items():
            start = time.perf_counter()
            check()
            elapsed = (time.perf_counter() - start) * 1e6
            if i >= iterations // 10:  # the first tenth warms up
                samples[name].append(elapsed)
    summaries = {name: Summary.of(values).to_dict(1) for name, values in samples.items()}
    return {
        "iterations": iterations,
        "unit": "us",
        "python": ".".join(map(str, sys.version_info[:3])),
        "webauthn_version": getattr(webauthn, "__version__", "?"),
        "checks": summaries,
        "webauthn_over_devicekeys_uncached": round(
            summaries["webauthn"]["median"] / summaries["devicekeys_uncached_key"]["median"], 2
        ),
    }


def measure(interpreter: Interpreter, iterations: int = 2000) -> dict[str, Any]:
    code = f"import sys, json; sys.path.insert(0, {str(ROOT)!r}); from benchmarks.peer import child; "
    code += f"print(json.dumps(child({iterations})))"
    return run_json([str(interpreter.python), "-I", "-c", code])  # type: ignore[no-any-return]
