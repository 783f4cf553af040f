"""Journey: sign out other devices (keep this device, remove the user's other active keys)."""

from __future__ import annotations

from conftest import device_for
from devicekeys_client import DeviceKeyPair

from .conftest import Journeys

JOURNEY = "sign-out-other-devices"
LOGIN = "login-registered-device"


def _statuses(journeys: Journeys) -> dict[str, str]:
    page = journeys.functions.invoke_direct("ListDeviceKeysFunction", {"user_id": "alice"})
    return {key["key_id"]: key["status"] for key in page["device_keys"]}


def _sign_out(journeys: Journeys, device: DeviceKeyPair) -> dict[str, object]:
    return journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", device)})


def test_this_device_stays_the_other_active_ones_go_and_blocked_ones_stay(journeys: Journeys) -> None:
    current, others, blocked = (
        device_for("ES256", 0),
        [device_for("ES256", 1), device_for("Ed25519", 0)],
        device_for("ES256", 2),
    )
    for device in (current, *others, blocked):
        journeys.register("alice", device)
    journeys.block("alice", blocked)
    journeys.register("bob", device_for("ES256", 3))

    output = _sign_out(journeys, current)

    assert output == {"outcome": "signed_out", "user_id": "alice", "key_id": current.key_id, "removed": 2}
    assert _statuses(journeys) == {current.key_id: "active", blocked.key_id: "blocked"}
    assert journeys.key_ids("bob") == [device_for("ES256", 3).key_id]
    signed_out = journeys.succeeded(LOGIN, {"user_id": "alice", "proof": journeys.verify_proof("alice", others[0])})
    assert (signed_out["outcome"], signed_out["reason"]) == ("rejected", "device_not_found")


def test_a_device_that_is_not_known_signs_out_nothing(journeys: Journeys) -> None:
    registered, stranger = device_for("ES256", 0), device_for("ES256", 1)
    journeys.register("alice", registered)

    output = _sign_out(journeys, stranger)

    assert (output["outcome"], output["reason"], output["removed"]) == ("rejected", "device_not_found", 0)
    assert journeys.key_ids("alice") == [registered.key_id]


def test_a_forged_proof_naming_a_registered_key_signs_out_nothing(journeys: Journeys) -> None:
    current, other = device_for("ES256", 0), device_for("ES256", 1)
    journeys.register("alice", current)
    journeys.register("alice", other)
    forged = journeys.verify_proof("alice", device_for("ES256", 2), header={"kid": current.key_id})

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": forged})

    assert (output["outcome"], output["removed"]) == ("rejected", 0)
    assert journeys.key_ids("alice") == sorted([current.key_id, other.key_id])


def test_a_blocked_device_cannot_sign_out_the_others(journeys: Journeys) -> None:
    current, other = device_for("ES256", 0), device_for("ES256", 1)
    journeys.register("alice", current)
    journeys.register("alice", other)
    journeys.block("alice", current)

    output = _sign_out(journeys, current)

    assert (output["outcome"], output["reason"], output["removed"]) == ("rejected", "device_blocked", 0)
    assert _statuses(journeys) == {current.key_id: "blocked", other.key_id: "active"}


def test_a_missing_proof_fails_the_execution_before_any_call(journeys: Journeys) -> None:
    execution = journeys.run(JOURNEY, {"user_id": "alice"})
    assert (execution.status, execution.error) == ("FAILED", "InvalidRequest")
    assert not journeys.router.calls
