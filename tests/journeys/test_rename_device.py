"""Journey: rename the current device (is known device, then update display_name from client data)."""

from __future__ import annotations

from conftest import device_for
from devicekeys.errors import ServiceUnavailable

from .conftest import Journeys

JOURNEY = "rename-device"


def _rename(journeys: Journeys, device_name: str, device_slot: int = 0) -> dict:
    proof = journeys.verify_proof("alice", device_for("ES256", device_slot))
    return {"user_id": "alice", "proof": proof, "client_data": {"device_name": device_name}}


def test_a_known_device_gets_the_name_the_user_typed(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device, display_name="Phone")

    output = journeys.succeeded(JOURNEY, _rename(journeys, "My work cellphone"))

    assert (output["outcome"], output["key_id"], output["display_name"]) == (
        "renamed",
        device.key_id,
        "My work cellphone",
    )
    assert journeys.record("alice", device)["display_name"] == "My work cellphone"
    assert output["device_key"] == journeys.record("alice", device)


def test_an_unknown_device_is_rejected_and_nothing_is_renamed(journeys: Journeys) -> None:
    known = device_for("ES256", 0)
    journeys.register("alice", known, display_name="Phone")

    output = journeys.succeeded(JOURNEY, _rename(journeys, "Hijacked", device_slot=1))

    assert (output["outcome"], output["reason"]) == ("rejected", "device_not_found")
    assert journeys.record("alice", known)["display_name"] == "Phone"
    assert journeys.calls_to("UpdateDeviceKeyFunction") == 0


def test_a_device_deleted_during_the_journey_is_reported_not_recreated(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    # GIVEN another session forgets the device between the check and the update
    journeys.router.before_next("UpdateDeviceKeyFunction", lambda: journeys.delete("alice", device.key_id))

    output = journeys.succeeded(JOURNEY, _rename(journeys, "Too late"))

    assert (output["outcome"], output["reason"]) == ("rejected", "device_not_found")
    assert journeys.key_ids("alice") == []


def test_a_busy_store_is_retried_because_renaming_twice_is_harmless(journeys: Journeys) -> None:
    journeys.register("alice", device_for("ES256"))
    journeys.router.fail_next("UpdateDeviceKeyFunction", ServiceUnavailable("the device key store is busy"))

    output = journeys.succeeded(JOURNEY, _rename(journeys, "Laptop"))

    assert output["outcome"] == "renamed"
    assert journeys.calls_to("UpdateDeviceKeyFunction") == 2


def test_a_name_the_api_would_refuse_fails_the_execution_as_an_invalid_request(journeys: Journeys) -> None:
    journeys.register("alice", device_for("ES256"), display_name="Phone")

    execution = journeys.run(JOURNEY, _rename(journeys, "x" * 65))

    assert (execution.status, execution.error) == ("FAILED", "InvalidRequest")
    assert journeys.record("alice", device_for("ES256"))["display_name"] == "Phone"


def test_a_missing_device_name_fails_the_execution_before_any_call(journeys: Journeys) -> None:
    execution = journeys.run(JOURNEY, {"user_id": "alice", "proof": "a.b.c", "client_data": {}})
    assert (execution.status, execution.error) == ("FAILED", "InvalidRequest")
    assert not journeys.router.calls
