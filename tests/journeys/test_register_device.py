"""Journey: register the current device after authentication."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import device_for
from devicekeys.errors import InvalidProof
from devicekeys_client import DeviceKeyPair

from .conftest import Journeys

JOURNEY = "register-device"


def test_a_new_device_is_registered_with_its_name_and_data(journeys: Journeys) -> None:
    device = device_for("Ed25519")
    proof = journeys.register_proof("alice", device)

    output = journeys.succeeded(
        JOURNEY, {"user_id": "alice", "proof": proof, "display_name": "My work cellphone", "custom_data": {"os": "ios"}}
    )

    assert (output["outcome"], output["user_id"], output["key_id"]) == ("registered", "alice", device.key_id)
    assert output["device_key"] == journeys.record("alice", device)
    assert output["device_key"]["display_name"] == "My work cellphone"
    assert output["device_key"]["custom_data"] == {"os": "ios"}


def test_the_registered_device_is_then_a_known_device(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.register_proof("alice", device)})

    login = journeys.succeeded(
        "login-registered-device", {"user_id": "alice", "proof": journeys.verify_proof("alice", device)}
    )

    assert login["outcome"] == "allowed"


def test_registering_a_device_twice_says_it_is_already_registered(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.register_proof("alice", device)})

    assert output == {"outcome": "already_registered", "user_id": "alice", "reason": "device_key_exists"}
    assert journeys.key_ids("alice") == [device.key_id]


def test_a_user_at_the_device_limit_is_rejected(journeys: Journeys) -> None:
    for slot in range(10):
        journeys.register("alice", device_for("ES256", 100 + slot))

    output = journeys.succeeded(
        JOURNEY, {"user_id": "alice", "proof": journeys.register_proof("alice", device_for("ES256", 1))}
    )

    assert (output["outcome"], output["reason"]) == ("rejected", "device_limit_reached")
    assert "10" in output["message"]


def _proof_signed_by_another_key(journeys: Journeys, device: DeviceKeyPair) -> str:
    return journeys.register_proof("alice", device_for("ES256", 1), header={"jwk": device.public_jwk})


def _proof_over_an_expired_challenge(journeys: Journeys, device: DeviceKeyPair) -> str:
    challenge = journeys.challenge("alice", "register")
    journeys.expire(challenge)
    return device.proof(challenge=challenge, user_id="alice", purpose="register")


def _proof_over_a_verify_challenge(journeys: Journeys, device: DeviceKeyPair) -> str:
    return device.proof(challenge=journeys.challenge("alice", "verify"), user_id="alice", purpose="register")


def _proof_with_a_short_rsa_key(journeys: Journeys, device: DeviceKeyPair) -> str:
    return journeys.register_proof("alice", DeviceKeyPair.generate("RS256", rsa_bits=1024))


REFUSED_PROOFS: dict[str, Any] = {
    "invalid_proof": _proof_signed_by_another_key,
    "challenge_expired": _proof_over_an_expired_challenge,
    "challenge_not_found": _proof_over_a_verify_challenge,
    "unsupported_key": _proof_with_a_short_rsa_key,
}


@pytest.mark.filterwarnings("ignore:Key size should be:UserWarning")
@pytest.mark.parametrize("reason", REFUSED_PROOFS)
def test_a_refused_registration_proof_is_rejected_with_the_api_error_code(journeys: Journeys, reason: str) -> None:
    device = device_for("ES256")
    proof = REFUSED_PROOFS[reason](journeys, device)

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": proof})

    assert (output["outcome"], output["reason"]) == ("rejected", reason)
    assert output["message"] and "Traceback" not in output["message"]
    assert journeys.key_ids("alice") == []


def test_fields_the_journey_does_not_name_never_reach_the_function(journeys: Journeys) -> None:
    # GIVEN an execution input that tries to smuggle an administrator and a replacement in
    journeys.register("alice", device_for("ES256", 1))
    proof = journeys.register_proof("alice", device_for("ES256"))
    document = {
        "user_id": "alice",
        "proof": proof,
        "replace_active": True,
        "actor": {"kind": "admin", "subject": "mallory"},
    }

    output = journeys.succeeded(JOURNEY, document)

    # THEN the register function saw only the journey's own fields
    assert output["outcome"] == "registered"
    (_, payload), *_ = [call for call in journeys.router.calls if call[0] == "RegisterDeviceKeyFunction"][-1:]
    assert set(payload) == {"user_id", "proof", "display_name", "custom_data"}
    assert journeys.key_ids("alice") == sorted([device_for("ES256", 1).key_id, device_for("ES256").key_id])


def test_a_key_an_administrator_blocked_cannot_come_back_by_registering_again(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    journeys.block("alice", device)

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.register_proof("alice", device)})

    assert (output["outcome"], output["reason"]) == ("rejected", "device_blocked")
    assert journeys.record("alice", device)["status"] == "blocked"


def test_a_missing_proof_fails_the_execution_before_any_call(journeys: Journeys) -> None:
    execution = journeys.run(JOURNEY, {"user_id": "alice", "display_name": "x"})
    assert (execution.status, execution.error) == ("FAILED", "InvalidRequest")
    assert not journeys.router.calls


def test_the_rejection_message_is_the_functions_message_not_its_stack_trace(journeys: Journeys) -> None:
    document = {"user_id": "alice", "proof": "not-a-jws"}
    with pytest.raises(InvalidProof) as raised:
        journeys.functions.invoke_direct("RegisterDeviceKeyFunction", document)

    output = journeys.succeeded(JOURNEY, document)

    assert set(output) == {"outcome", "user_id", "reason", "message"}
    assert output["message"] == raised.value.message
