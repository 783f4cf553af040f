"""Journey: read the current device's name and branch on it ("My work cellphone" is a work phone)."""

from __future__ import annotations

import pytest
from conftest import device_for

from .conftest import Journeys

JOURNEY = "read-device-name"


@pytest.mark.parametrize(
    ("display_name", "outcome", "message"),
    [
        ("My work cellphone", "work_phone", "It's a work phone"),
        ("Tablet", "other_device", "It's not a work phone"),
        (None, "unnamed_device", "This device has no name yet"),
    ],
)
def test_the_journey_branches_on_the_current_devices_name(
    journeys: Journeys, display_name: str | None, outcome: str, message: str
) -> None:
    device = device_for("ES256")
    journeys.register("alice", device, display_name=display_name, custom_data={"os": "android"})

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", device)})

    assert output == {
        "outcome": outcome,
        "message": message,
        "user_id": "alice",
        "key_id": device.key_id,
        "display_name": display_name,
        "custom_data": {"os": "android"},
    }


def test_the_name_of_another_device_is_not_read_for_an_unknown_device(journeys: Journeys) -> None:
    journeys.register("alice", device_for("ES256", 0), display_name="My work cellphone")

    output = journeys.succeeded(
        JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", device_for("ES256", 1))}
    )

    assert (output["outcome"], output["reason"]) == ("rejected", "device_not_found")
    assert "display_name" not in output
    assert journeys.calls_to("GetDeviceKeyFunction") == 0


def test_a_device_deleted_during_the_journey_is_reported(journeys: Journeys) -> None:
    device = device_for("ES256")
    journeys.register("alice", device, display_name="My work cellphone")
    journeys.router.before_next("GetDeviceKeyFunction", lambda: journeys.delete("alice", device.key_id))

    output = journeys.succeeded(JOURNEY, {"user_id": "alice", "proof": journeys.verify_proof("alice", device)})

    assert (output["outcome"], output["reason"]) == ("rejected", "device_not_found")


def test_a_missing_proof_fails_the_execution_as_an_invalid_request(journeys: Journeys) -> None:
    execution = journeys.run(JOURNEY, {"user_id": "alice"})
    assert (execution.status, execution.error) == ("FAILED", "InvalidRequest")
