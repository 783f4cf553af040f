"""POST /v1/journeys/{journey}: run a device journey (an Express state machine) and answer with its outcome.

The body is the journey's input without ``user_id`` (the token's ``sub``), except for the open
``login-registered-device``, whose body names the user. ``devicekeys.journeys`` has the rules.
Not for direct invocation: IAM callers start the state machines with Step Functions' own API.
"""

from typing import Any

from devicekeys.access import Caller
from devicekeys.errors import InvalidRequest
from devicekeys.journeys import JourneyRunner
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("start_journey")
app = runtime.app
journeys = JourneyRunner(runtime.settings.journey_state_machines)


@app.post("/v1/journeys/<journey>")
def start_journey_route(journey: str) -> Any:
    return runtime.ok(journeys.start(journey, runtime.caller(), runtime.raw_body()))


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    raise InvalidRequest("journeys start over HTTP; IAM callers start the state machines with Step Functions")


lambda_handler = runtime.handler(direct=direct)
