"""The example inputs in events/journeys/ are accepted by their journeys: each ends in an outcome, not an error."""

from __future__ import annotations

import json

import pytest
from devicekeys_local.template import ROOT

from .conftest import Journeys

EXAMPLES = ROOT / "events" / "journeys"
# Their proofs are well formed but their challenges were never issued here.
EXPECTED = {
    "login-registered-device": ("rejected", "challenge_not_found"),
    "known-device-step-up": ("step_up_required", "challenge_not_found"),
    "register-device": ("rejected", "challenge_not_found"),
    "rename-device": ("rejected", "challenge_not_found"),
    "read-device-name": ("rejected", "challenge_not_found"),
    "count-devices": ("no_devices", None),
    "single-device-policy": ("rejected", "challenge_not_found"),
}


def test_there_is_one_example_per_journey(journeys: Journeys) -> None:
    assert sorted(path.name.removesuffix(".json") for path in EXAMPLES.glob("*.json")) == sorted(
        journeys.local.definitions
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_example_input_reaches_an_outcome(journeys: Journeys, name: str) -> None:
    document = json.loads((EXAMPLES / f"{name}.json").read_text())

    output = journeys.succeeded(name, document)

    assert (output["outcome"], output.get("reason")) == EXPECTED[name]
