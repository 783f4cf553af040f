"""The example inputs in events/journeys/ are accepted by their journeys: each ends in an outcome, not an error."""

from __future__ import annotations

import json

import pytest
from devicekeys_local.template import ROOT

from .conftest import Journeys

EXAMPLES = ROOT / "events" / "journeys"
# Their proofs are well formed but signed long ago (iat outside the clock skew), so they are
# refused on their face, before any challenge is looked up.
EXPECTED = {
    "login-registered-device": ("rejected", "invalid_proof"),
    "known-device-step-up": ("step_up_required", "invalid_proof"),
    "register-device": ("rejected", "invalid_proof"),
    "rename-device": ("rejected", "invalid_proof"),
    "read-device-name": ("rejected", "invalid_proof"),
    "count-devices": ("no_devices", None),
    "single-device-policy": ("rejected", "invalid_proof"),
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
