"""POST /v1/journeys/{journey}: run a device journey (an Express state machine) and answer with its outcome.

A function rather than API Gateway's ``StepFunctions-StartSyncExecution`` integration, because
an HTTP API cannot build a JSON input safely from a token claim and a body (it only pastes
strings together), and passes Step Functions' answer through unchanged: 200 for a failed
execution, and the output as an escaped string. Here:

- authenticated journeys run for the token's ``sub``: a body that names a ``user_id`` is refused;
- login-registered-device is an open route: the body names the user, the device proof is the credential;
- 200 with the journey's output; a journey that fails with a domain error (``InvalidRequest``,
  ``DeviceKeyExists``, ...) answers like the API does for that error; any other failure is 502
  ``journey_failed``, a journey past its time is 504 ``journey_timed_out``.

Not for direct invocation: Step Functions' own API starts the state machines for IAM callers.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import boto3
from botocore.exceptions import ClientError
from devicekeys import errors
from devicekeys.errors import DeviceKeysError, Forbidden, InvalidRequest, PayloadTooLarge, RouteNotFound
from devicekeys.inputs import MAX_BODY_BYTES
from devicekeys.lambda_api import FunctionRuntime

# The one journey whose route is open (the template says ``Authorizer: NONE`` for it alone).
OPEN_JOURNEYS = frozenset({"login-registered-device"})

# (state machine ARN, input JSON) -> StartSyncExecution response (status, output, error, cause)
Executor = Callable[[str, str], Mapping[str, Any]]

runtime = FunctionRuntime("start_journey")
app = runtime.app


class JourneyFailed(DeviceKeysError):
    """The journey failed for a reason that is not the caller's: a bug or an outage, logged."""

    code, status = "journey_failed", 502


class JourneyTimedOut(DeviceKeysError):
    code, status = "journey_timed_out", 504


class Journeys:
    """The journeys' state machines by name, and how to run one synchronously."""

    def __init__(self, state_machines: Mapping[str, str], execute: Executor | None = None) -> None:
        self.state_machines = dict(state_machines)
        self._execute = execute

    @classmethod
    def from_env(cls) -> Journeys:
        """``JOURNEY_STATE_MACHINES``: a JSON object of journey name -> state machine ARN."""
        return cls(json.loads(os.environ.get("JOURNEY_STATE_MACHINES") or "{}"))

    @cached_property
    def _client(self) -> Any:
        return boto3.client("stepfunctions")

    def execute(self, state_machine: str, input_document: str) -> Mapping[str, Any]:
        if self._execute is not None:
            return self._execute(state_machine, input_document)
        try:
            response: Mapping[str, Any] = self._client.start_sync_execution(
                stateMachineArn=state_machine, input=input_document
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("ThrottlingException", "TooManyRequestsException"):
                raise errors.ServiceUnavailable("too many journeys are running; retry shortly") from exc
            raise
        return response

    def run(self, journey: str, document: dict[str, Any]) -> Any:
        """Run ``journey`` with ``document`` as its input; its output, or the error it failed with."""
        state_machine = self.state_machines.get(journey)
        if state_machine is None:
            raise RouteNotFound("no such journey")
        result = self.execute(state_machine, json.dumps(document, separators=(",", ":")))
        status = result.get("status")
        if status == "SUCCEEDED":
            return json.loads(result.get("output") or "null")
        if status == "TIMED_OUT":
            raise JourneyTimedOut("the journey did not finish in time")
        error, cause = result.get("error"), result.get("cause")
        if error == "Lambda.TooManyRequestsException":  # throttled beyond the journey's retries
            raise errors.ServiceUnavailable("too many requests right now; retry shortly")
        domain_error = getattr(errors, str(error), None)
        if isinstance(domain_error, type) and issubclass(domain_error, DeviceKeysError):
            raise domain_error(_message(cause))
        runtime.logger.error("journey failed", extra={"journey": journey, "status": status, "error": error})
        raise JourneyFailed("the journey failed; it has been logged")


def _message(cause: Any) -> str:
    """A failed Lambda task's cause is the runtime's error document: show its message, never its stack trace."""
    if not isinstance(cause, str) or not cause:
        return "the journey refused the request"
    try:
        document = json.loads(cause)
    except ValueError:
        return cause  # a Fail state's own Cause: written in the ASL, safe to show
    if isinstance(document, dict) and isinstance(document.get("errorMessage"), str):
        return str(document["errorMessage"])
    return "the journey refused the request"


journeys = Journeys.from_env()


def journey_input(journey: str, subject: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """The execution input: the body, with the user taken from the token for every journey but login."""
    if journey in OPEN_JOURNEYS:
        return body
    if subject is None:
        raise Forbidden("this journey needs an authenticated caller")
    if "user_id" in body:
        raise InvalidRequest("user_id comes from your token; leave it out of the body")
    return {**body, "user_id": subject}


def _body() -> dict[str, Any]:
    event = runtime.app.current_event
    raw = event.body or ""
    try:
        data = base64.b64decode(raw, validate=True) if event.is_base64_encoded else raw.encode("utf-8")
    except (binascii.Error, UnicodeError) as exc:
        raise InvalidRequest("the request body could not be decoded") from exc
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the request body must be at most {MAX_BODY_BYTES} bytes")
    if not data.strip():
        return {}
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest("the request body is not valid JSON") from exc
    if not isinstance(document, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return document


@app.post("/v1/journeys/<journey>")
def start_journey_route(journey: str) -> Any:
    document = journey_input(journey, runtime.caller().subject, _body())
    return runtime.ok(journeys.run(journey, document))


def direct(event: dict[str, Any]) -> dict[str, Any]:
    raise InvalidRequest("journeys start over HTTP; IAM callers start the state machines with Step Functions")


lambda_handler = runtime.handler(direct=direct)
