"""Journey: count the user's devices and branch on the count."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import device_for
from devicekeys_local.functions import LocalFunctions

from .conftest import Journeys, running_journeys

JOURNEY = "count-devices"


@pytest.mark.parametrize(
    ("devices", "outcome", "message"),
    [
        (0, "no_devices", "You have no registered device"),
        (1, "one_device", "You have one registered device"),
        (3, "several_devices", "You have 3 registered devices"),
    ],
)
def test_the_journey_branches_on_the_number_of_devices(
    journeys: Journeys, devices: int, outcome: str, message: str
) -> None:
    for slot in range(devices):
        journeys.register("alice", device_for("ES256", slot))
    journeys.register("bob", device_for("ES256", 9))  # another user's device never counts

    output = journeys.succeeded(JOURNEY, {"user_id": "alice"})

    assert output == {"outcome": outcome, "message": message, "user_id": "alice", "count": devices}


def test_blocked_devices_are_still_the_users_devices(journeys: Journeys) -> None:
    journeys.register("alice", device_for("ES256", 0))
    journeys.register("alice", device_for("ES256", 1))
    journeys.block("alice", device_for("ES256", 1))

    assert journeys.succeeded(JOURNEY, {"user_id": "alice"})["count"] == 2


def test_more_devices_than_a_page_are_counted_exactly_by_following_next_token(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a deployment that allows more devices per user than one list page holds (100)
    monkeypatch.setenv("MAX_DEVICES_PER_USER", "150")
    functions = LocalFunctions()  # its own cold start reads the setting
    with running_journeys(functions, dynamodb) as journeys:
        for slot in range(101):
            journeys.register("alice", device_for("ES256", 1000 + slot))

        output = journeys.succeeded(JOURNEY, {"user_id": "alice"})

        assert (output["outcome"], output["count"]) == ("several_devices", 101)
        pages = [payload for called, payload in journeys.router.calls if called == "ListDeviceKeysFunction"]
        assert len(pages) == 2
        assert "next_token" not in pages[0] and pages[1]["next_token"]


def test_a_missing_user_fails_the_execution_as_an_invalid_request(journeys: Journeys) -> None:
    execution = journeys.run(JOURNEY, {})
    assert (execution.status, execution.error) == ("FAILED", "InvalidRequest")
