"""Journey: known device after password, with a step-up branch for anything not known."""

from __future__ import annotations

from conftest import device_for

from .conftest import Journeys

JOURNEY = "known-device-step-up"


def test_a_known_device_completes_the_login(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", device)})

    assert output == {"outcome": "complete", "user_id": "alice", "key_id": device.key_id}


def test_an_unknown_device_must_step_up_to_an_otp(journeys: Journeys) -> None:
    journeys.register("alice", device_for("ES256", 0))
    new_device = device_for("ES256", 1)

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", new_device)})

    assert output == {"outcome": "step_up_required", "step_up": "otp", "user_id": "alice", "reason": "device_not_found"}


def test_a_device_without_a_key_steps_up_without_calling_verify(journeys: Journeys) -> None:
    output = journeys.succeeded(JOURNEY, {"user_id": "alice"})

    assert output == {"outcome": "step_up_required", "step_up": "otp", "user_id": "alice", "reason": "no_device_proof"}
    assert not journeys.router.calls


def test_a_proof_that_does_not_verify_steps_up_too(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    forged = journeys.verify_proof("alice", device_for("ES256", 1), header={"kid": device.key_id})

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": forged})

    assert (output["outcome"], output["reason"]) == ("step_up_required", "device_not_found")


def test_a_proof_for_another_purpose_steps_up_as_an_invalid_proof(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    wrong = journeys.verify_proof("alice", device, claims={"purpose": "register"})

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": wrong})

    assert (output["outcome"], output["reason"]) == ("step_up_required", "invalid_proof")


def test_a_blocked_device_is_rejected_and_cannot_step_up(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    journeys.block("alice", device)

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", device)})

    assert (output["outcome"], output["reason"]) == ("rejected", "device_blocked")
    assert "step_up" not in output


def test_a_missing_user_fails_the_execution_as_an_invalid_request(journeys: Journeys) -> None:
    execution = journeys.run(JOURNEY, {"proof": "a.b.c"})
    assert (execution.status, execution.error) == ("FAILED", "InvalidRequest")
