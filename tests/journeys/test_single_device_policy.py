"""Journey: single device policy (keep a known device; for a new one, delete every key, then register it)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import device_for
from devicekeys_client import DeviceKeyPair

from .conftest import Journeys
from .test_register_device import REFUSED_PROOFS

JOURNEY = "single-device-policy"
LOGIN = "login-registered-device"


def _policy(journeys: Journeys, device: DeviceKeyPair, **registration: Any) -> dict[str, Any]:
    """The input a device sends: a verify proof, and a registration proof in case it is new."""
    registration.setdefault("proof", journeys.register_proof("alice", device))
    return {"user_id": "alice", "proof": journeys.verify_proof("alice", device), "registration": registration}


def test_a_known_device_completes_and_every_device_is_kept(journeys: Journeys) -> None:
    current, other = device_for("ES256", 0), device_for("ES256", 1)
    journeys.register("alice", current)
    journeys.register("alice", other)

    output = journeys.succeeded(JOURNEY, _policy(journeys, current))

    assert output == {"outcome": "complete", "user_id": "alice", "key_id": current.key_id, "removed": 0}
    assert journeys.key_ids("alice") == sorted([current.key_id, other.key_id])


def test_a_new_device_replaces_every_other_device_including_blocked_ones(journeys: Journeys) -> None:
    others = [device_for("ES256", slot) for slot in (1, 2, 3)]
    for other in others:
        journeys.register("alice", other)
    journeys.block("alice", others[2])
    journeys.register("bob", device_for("ES256", 4))
    new = device_for("ES384", 0)

    output = journeys.succeeded(JOURNEY, _policy(journeys, new, display_name="New phone", custom_data={"os": "ios"}))

    assert (output["outcome"], output["key_id"], output["removed"]) == ("registered", new.key_id, 3)
    assert output["device_key"]["display_name"] == "New phone"
    assert output["device_key"]["custom_data"] == {"os": "ios"}
    assert journeys.key_ids("alice") == [new.key_id]
    assert journeys.key_ids("bob") == [device_for("ES256", 4).key_id]
    assert journeys.calls_to("DeleteDeviceKeyFunction") == 3


def test_a_first_device_is_registered_with_nothing_to_remove(journeys: Journeys) -> None:
    new = device_for("ES256")

    output = journeys.succeeded(JOURNEY, _policy(journeys, new))

    assert (output["outcome"], output["removed"]) == ("registered", 0)
    assert output["device_key"]["display_name"] is None and output["device_key"]["custom_data"] is None
    assert journeys.key_ids("alice") == [new.key_id]
    assert journeys.calls_to("DeleteDeviceKeyFunction") == 0


def test_the_new_device_is_then_the_users_only_known_device(journeys: Journeys) -> None:
    old, new = device_for("ES256", 0), device_for("ES256", 1)
    journeys.register("alice", old)
    journeys.succeeded(JOURNEY, _policy(journeys, new))

    old_login = journeys.succeeded(LOGIN, {"user_id": "alice", "proof": journeys.verify_proof("alice", old)})
    new_login = journeys.succeeded(LOGIN, {"user_id": "alice", "proof": journeys.verify_proof("alice", new)})

    assert (old_login["outcome"], old_login["reason"]) == ("rejected", "device_not_found")
    assert new_login["outcome"] == "allowed"


def test_a_blocked_current_device_is_rejected_and_nothing_is_deleted(journeys: Journeys) -> None:
    current, other = device_for("ES256", 0), device_for("ES256", 1)
    journeys.register("alice", current)
    journeys.register("alice", other)
    journeys.block("alice", current)

    output = journeys.succeeded(JOURNEY, _policy(journeys, current))

    assert (output["outcome"], output["reason"], output["removed"]) == ("rejected", "device_blocked", 0)
    assert journeys.key_ids("alice") == sorted([current.key_id, other.key_id])
    assert journeys.calls_to("DeleteDeviceKeyFunction") == 0


def test_a_verify_proof_that_does_not_verify_deletes_nothing(journeys: Journeys) -> None:
    current = device_for("ES256", 0)
    journeys.register("alice", current)
    forged = journeys.verify_proof("alice", device_for("ES256", 1), header={"kid": current.key_id})
    document = {**_policy(journeys, device_for("ES256", 1)), "proof": forged}

    output = journeys.succeeded(JOURNEY, document)

    assert (output["outcome"], output["reason"]) == ("rejected", "invalid_proof")
    assert journeys.key_ids("alice") == [current.key_id]


@pytest.mark.filterwarnings("ignore:Key size should be:UserWarning")
@pytest.mark.parametrize("reason", sorted(REFUSED_PROOFS))
def test_a_refused_registration_proof_is_reported_after_the_other_devices_are_gone(
    journeys: Journeys, reason: str
) -> None:
    journeys.register("alice", device_for("ES256", 1))
    new = device_for("ES256", 0)
    document = _policy(journeys, new, proof=REFUSED_PROOFS[reason](journeys, new))

    output = journeys.succeeded(JOURNEY, document)

    assert (output["outcome"], output["reason"], output["removed"]) == ("rejected", reason, 1)
    assert output["message"]
    assert journeys.key_ids("alice") == []


def test_a_device_deleted_meanwhile_by_another_session_counts_as_removed(journeys: Journeys) -> None:
    others = [device_for("ES256", slot) for slot in (1, 2)]
    for other in others:
        journeys.register("alice", other)
    journeys.router.before_next("DeleteDeviceKeyFunction", lambda: journeys.delete("alice", others[0].key_id))

    execution = journeys.run(JOURNEY, _policy(journeys, device_for("ES256", 0)))

    assert (execution.output["outcome"], execution.output["removed"]) == ("registered", 2)
    assert ("DeleteDeviceKeyFunction", "DeviceNotFound") in journeys.router.failures
    assert execution.states.count("DeleteDevice") == 2 and execution.states.count("AlreadyGone") == 1
    assert journeys.key_ids("alice") == [device_for("ES256", 0).key_id]


def test_the_registration_object_cannot_name_another_user(journeys: Journeys) -> None:
    new = device_for("ES256")

    output = journeys.succeeded(JOURNEY, _policy(journeys, new, user_id="mallory"))

    assert (output["outcome"], output["device_key"]["user_id"]) == ("registered", "alice")
    assert journeys.key_ids("mallory") == []


def test_a_missing_registration_proof_fails_the_execution_before_any_call(journeys: Journeys) -> None:
    execution = journeys.run(JOURNEY, {"user_id": "alice", "proof": "a.b.c", "registration": {}})
    assert (execution.status, execution.error) == ("FAILED", "InvalidRequest")
    assert not journeys.router.calls
