"""Journey: single device policy (keep a known device; register a new one in place of the other active keys).

The destructive step is one domain operation (register with ``replace_active``) that removes
nothing unless the registration proof passed every check, and never removes or revives a
blocked key: an administrator's block survives any input an attacker can give this journey.
"""

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


def _statuses(journeys: Journeys, user_id: str = "alice") -> dict[str, str]:
    page = journeys.functions.invoke_direct("ListDeviceKeysFunction", {"user_id": user_id})
    return {key["key_id"]: key["status"] for key in page["device_keys"]}


def test_a_known_device_completes_and_every_device_is_kept(journeys: Journeys) -> None:
    current, other = device_for("ES256", 0), device_for("ES256", 1)
    journeys.register("alice", current)
    journeys.register("alice", other)

    output = journeys.succeeded(JOURNEY, _policy(journeys, current))

    assert output == {"outcome": "complete", "user_id": "alice", "key_id": current.key_id, "removed": 0}
    assert journeys.key_ids("alice") == sorted([current.key_id, other.key_id])


def test_a_new_device_replaces_the_other_active_devices_and_blocked_ones_stay(journeys: Journeys) -> None:
    others = [device_for("ES256", slot) for slot in (1, 2, 3)]
    for other in others:
        journeys.register("alice", other)
    journeys.block("alice", others[2])
    journeys.register("bob", device_for("ES256", 4))
    new = device_for("ES384", 0)

    output = journeys.succeeded(JOURNEY, _policy(journeys, new, display_name="New phone", custom_data={"os": "ios"}))

    assert (output["outcome"], output["key_id"], output["removed"]) == ("registered", new.key_id, 2)
    assert output["device_key"]["display_name"] == "New phone"
    assert output["device_key"]["custom_data"] == {"os": "ios"}
    assert _statuses(journeys) == {new.key_id: "active", others[2].key_id: "blocked"}
    assert journeys.key_ids("bob") == [device_for("ES256", 4).key_id]
    assert journeys.calls_to("DeleteDeviceKeyFunction") == 0  # the journey deletes nothing itself


def test_a_first_device_is_registered_with_nothing_to_remove(journeys: Journeys) -> None:
    new = device_for("ES256")

    output = journeys.succeeded(JOURNEY, _policy(journeys, new))

    assert (output["outcome"], output["removed"]) == ("registered", 0)
    assert output["device_key"]["display_name"] is None and output["device_key"]["custom_data"] is None
    assert journeys.key_ids("alice") == [new.key_id]


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
    assert _statuses(journeys) == {current.key_id: "blocked", other.key_id: "active"}
    assert journeys.calls_to("RegisterDeviceKeyFunction") == 0


def test_a_made_up_kid_cannot_revive_a_blocked_key_or_delete_anything(journeys: Journeys) -> None:
    # GIVEN the reviewer's attack: an admin blocked the stolen phone's key; the thief, still
    # logged in, sends a verify proof naming a key that does not exist (device_not_found) and a
    # valid registration proof of the blocked key itself
    stolen, other = device_for("ES256", 0), device_for("ES256", 1)
    journeys.register("alice", stolen)
    journeys.register("alice", other)
    journeys.block("alice", stolen)
    made_up = journeys.verify_proof("alice", stolen, header={"kid": "A" * 43})
    document = {
        "user_id": "alice",
        "proof": made_up,
        "registration": {"proof": journeys.register_proof("alice", stolen)},
    }

    output = journeys.succeeded(JOURNEY, document)

    # THEN the journey is rejected, the block stands and nothing was removed
    assert (output["outcome"], output["reason"], output["removed"]) == ("rejected", "device_blocked", 0)
    assert _statuses(journeys) == {stolen.key_id: "blocked", other.key_id: "active"}
    login = journeys.succeeded(LOGIN, {"user_id": "alice", "proof": journeys.verify_proof("alice", stolen)})
    assert (login["outcome"], login["reason"]) == ("rejected", "device_blocked")


def test_a_verify_proof_that_does_not_verify_with_a_refused_registration_deletes_nothing(journeys: Journeys) -> None:
    current = device_for("ES256", 0)
    journeys.register("alice", current)
    forged = journeys.verify_proof("alice", device_for("ES256", 1), header={"kid": current.key_id})
    bad_registration = journeys.register_proof("alice", device_for("ES256", 2), header={"jwk": current.public_jwk})
    document = {"user_id": "alice", "proof": forged, "registration": {"proof": bad_registration}}

    output = journeys.succeeded(JOURNEY, document)

    assert (output["outcome"], output["reason"], output["removed"]) == ("rejected", "invalid_proof", 0)
    assert journeys.key_ids("alice") == [current.key_id]


def test_a_registration_of_a_key_already_active_for_the_user_removes_nothing(journeys: Journeys) -> None:
    current, other = device_for("ES256", 0), device_for("ES256", 1)
    journeys.register("alice", current)
    journeys.register("alice", other)
    unknown_kid = journeys.verify_proof("alice", current, header={"kid": "B" * 43})
    document = {
        "user_id": "alice",
        "proof": unknown_kid,
        "registration": {"proof": journeys.register_proof("alice", current)},
    }

    output = journeys.succeeded(JOURNEY, document)

    assert (output["outcome"], output["reason"], output["removed"]) == ("rejected", "device_key_exists", 0)
    assert journeys.key_ids("alice") == sorted([current.key_id, other.key_id])


def test_a_user_at_the_limit_of_blocked_keys_cannot_register_by_replacement(journeys: Journeys) -> None:
    for slot in range(10):
        journeys.register("alice", device_for("ES256", 100 + slot))
        journeys.block("alice", device_for("ES256", 100 + slot))

    output = journeys.succeeded(JOURNEY, _policy(journeys, device_for("ES256", 0)))

    assert (output["outcome"], output["reason"], output["removed"]) == ("rejected", "device_limit_reached", 0)
    assert set(_statuses(journeys).values()) == {"blocked"} and len(_statuses(journeys)) == 10


@pytest.mark.filterwarnings("ignore:Key size should be:UserWarning")
@pytest.mark.parametrize("reason", sorted(REFUSED_PROOFS))
def test_a_refused_registration_proof_removes_nothing(journeys: Journeys, reason: str) -> None:
    journeys.register("alice", device_for("ES256", 1))
    new = device_for("ES256", 0)
    document = _policy(journeys, new, proof=REFUSED_PROOFS[reason](journeys, new))

    output = journeys.succeeded(JOURNEY, document)

    assert (output["outcome"], output["reason"], output["removed"]) == ("rejected", reason, 0)
    assert output["message"]
    assert journeys.key_ids("alice") == [device_for("ES256", 1).key_id]


def test_the_registration_object_cannot_name_another_user(journeys: Journeys) -> None:
    new = device_for("ES256")

    output = journeys.succeeded(JOURNEY, _policy(journeys, new, user_id="mallory"))

    assert (output["outcome"], output["device_key"]["user_id"]) == ("registered", "alice")
    assert journeys.key_ids("mallory") == []


def test_a_missing_registration_proof_fails_the_execution_before_any_call(journeys: Journeys) -> None:
    execution = journeys.run(JOURNEY, {"user_id": "alice", "proof": "a.b.c", "registration": {}})
    assert (execution.status, execution.error) == ("FAILED", "InvalidRequest")
    assert not journeys.router.calls
