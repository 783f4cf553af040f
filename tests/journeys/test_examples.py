"""The example bodies in events/journeys/ are accepted as they are: each ends in an outcome, not an error.

They are what a client sends over HTTP (``POST /v1/journeys/<name>``): no ``user_id`` but for the
open login journey, whose body names the user; an IAM caller of Step Functions adds ``user_id``.
"""

from __future__ import annotations

import json

import pytest
from conftest import Api
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
    "sign-out-other-devices": ("rejected", "invalid_proof"),
}


def test_there_is_one_example_per_journey(journeys: Journeys) -> None:
    assert sorted(path.name.removesuffix(".json") for path in EXAMPLES.glob("*.json")) == sorted(
        journeys.local.definitions
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_example_body_sent_over_http_as_it_is_reaches_an_outcome(journeys: Journeys, name: str) -> None:
    body = (EXAMPLES / f"{name}.json").read_bytes()

    result = Api(journeys.functions).call("POST", f"/v1/journeys/{name}", raw_body=body, as_user="alice")

    assert result.status == 200, result.body
    assert (result.body["outcome"], result.body.get("reason")) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_example_as_an_execution_input_reaches_an_outcome(journeys: Journeys, name: str) -> None:
    document = {"user_id": "alice", **json.loads((EXAMPLES / f"{name}.json").read_text())}

    output = journeys.succeeded(name, document)

    assert (output["outcome"], output.get("reason")) == EXPECTED[name]
