"""Journey: login from registered devices only (the proof is the credential)."""

from __future__ import annotations

import pytest
from conftest import ALGORITHMS, device_for
from devicekeys.errors import ServiceUnavailable

from .conftest import Journeys, lambda_throttled

JOURNEY = "login-registered-device"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_registered_device_logs_in_with_a_fresh_proof(journeys: Journeys, alg: str) -> None:
    device = device_for(alg)
    journeys.register("alice", device)

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", device)})

    assert output == {"outcome": "allowed", "user_id": "alice", "key_id": device.key_id}
    assert journeys.record("alice", device)["last_verified_at"] is not None


def test_an_unknown_device_is_rejected_with_the_reason(journeys: Journeys) -> None:
    journeys.register("alice", device_for("ES256", 0))
    stranger = device_for("ES256", 1)

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", stranger)})

    assert output["outcome"] == "rejected"
    assert output["reason"] == "device_not_found"
    assert output["message"]


def test_an_unknown_user_is_rejected_exactly_like_an_unknown_device(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    unknown_user = journeys.succeeded(JOURNEY, {"user_id": "nobody", "proof": journeys.verify_proof("nobody", device)})
    unknown_device = journeys.succeeded(
        JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", device_for("ES256", 1))}
    )
    assert {k: v for k, v in unknown_user.items() if k != "user_id"} == {
        k: v for k, v in unknown_device.items() if k != "user_id"
    }


def test_a_blocked_device_is_rejected_and_told_it_is_blocked(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    journeys.block("alice", device)

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", device)})

    assert (output["outcome"], output["reason"]) == ("rejected", "device_blocked")


def test_a_forger_naming_a_registered_key_is_rejected_like_an_unknown_device(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    forged = journeys.verify_proof("alice", device_for("ES256", 1), header={"kid": device.key_id})
    unknown = journeys.verify_proof("alice", device_for("ES256", 2))

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": forged})
    unknown_output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": unknown})

    assert (output["outcome"], output["reason"]) == ("rejected", "device_not_found")
    assert output == unknown_output  # the forger cannot tell that alice registered the key


def test_a_replayed_proof_is_rejected_because_its_challenge_is_used_up(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    proof = journeys.verify_proof("alice", device)

    first = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": proof})
    replay = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": proof})

    assert first["outcome"] == "allowed"
    assert (replay["outcome"], replay["reason"]) == ("rejected", "challenge_not_found")


def test_a_proof_over_an_expired_challenge_is_rejected(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    challenge = journeys.challenge("alice", "verify")
    journeys.expire(challenge)
    proof = device.proof(challenge=challenge, user_id="alice", purpose="verify")

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": proof})

    assert (output["outcome"], output["reason"]) == ("rejected", "challenge_expired")


@pytest.mark.parametrize("document", [{"user_id": "alice"}, {"proof": "a.b.c"}, {}])
def test_a_missing_field_fails_the_execution_as_an_invalid_request(journeys: Journeys, document: dict) -> None:
    execution = journeys.run(JOURNEY, document)
    assert (execution.status, execution.error) == ("FAILED", "InvalidRequest")
    assert not journeys.router.calls


def test_a_malformed_user_id_fails_with_the_functions_own_error_name(journeys: Journeys) -> None:
    execution = journeys.run(JOURNEY, {"user_id": "a/b", "proof": "a.b.c"})
    assert (execution.status, execution.error) == ("FAILED", "InvalidRequest")
    assert "user_id" in execution.cause


def test_a_throttled_verify_is_retried_and_the_login_goes_on(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    journeys.router.fail_next("VerifyDeviceKeyFunction", lambda_throttled())

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", device)})

    assert output["outcome"] == "allowed"
    assert journeys.calls_to("VerifyDeviceKeyFunction") == 2


def test_a_busy_store_during_verify_fails_the_login_instead_of_replaying_a_consumed_challenge(
    journeys: Journeys,
) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    journeys.router.fail_next("VerifyDeviceKeyFunction", ServiceUnavailable("the device key store is busy"))

    execution = journeys.run(JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", device)})

    assert (execution.status, execution.error) == ("FAILED", "ServiceUnavailable")
    assert journeys.calls_to("VerifyDeviceKeyFunction") == 1
