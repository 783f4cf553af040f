"""Journeys over HTTP: check a request, run the journey's Express state machine, answer with its outcome.

The starter function is a thin handler over ``JourneyRunner``. A function rather than API
Gateway's ``StepFunctions-StartSyncExecution`` integration, because an HTTP API cannot build a
JSON input safely from a token claim and a body (it only pastes strings together), and passes
Step Functions' answer through unchanged (200 for a failed execution, the output as an escaped
string). Here:

- the body is held to the journey's own schema (``devicekeys.inputs``: known fields only,
  bounded size and depth) before any execution starts;
- authenticated journeys run for the token's ``sub``: a body that names a ``user_id`` is
  refused; ``login-registered-device`` is open: the body names the user, the proof is the
  credential;
- a journey that fails with a domain error answers like the API does for that error (the
  error's name maps back through ``errors.BY_NAME``); Step Functions refusing the input is a 400,
  its throttling a 503; anything else is 502 ``journey_failed`` (logged) and a journey past its
  time 504 ``journey_timed_out``. Nothing a client sends becomes a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from .access import Caller
from .errors import (
    BY_NAME,
    Forbidden,
    InvalidRequest,
    JourneyFailed,
    JourneyTimedOut,
    RouteNotFound,
    ServiceUnavailable,
)
from .inputs import JOURNEY_INPUTS, OPEN_JOURNEYS, journey_request_schema, read_json_body, validate

# (state machine ARN, input JSON) -> StartSyncExecution's response (status, output, error, cause)
Executor = Callable[[str, str], Mapping[str, Any]]

# Step Functions' error codes, by whose fault they are.
_CLIENT_FAULTS = frozenset({"InvalidExecutionInput", "ValidationException", "InvalidName"})
_THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException", "ExecutionLimitExceeded"})

log = logging.getLogger(__name__)


class JourneyRunner:
    """The journeys' state machines by name, and how to run one synchronously."""

    def __init__(self, state_machines: Mapping[str, str], execute: Executor | None = None) -> None:
        self.state_machines = dict(state_machines)
        self._execute = execute

    def start(self, journey: str, caller: Caller, raw_body: bytes | None) -> Any:
        """Run ``journey`` for ``caller`` with a request body; its outcome document.

        Raises:
            RouteNotFound: no such journey.
            Forbidden: an authenticated journey without a token.
            InvalidRequest, PayloadTooLarge: a body the journey's schema refuses.
            DeviceKeysError: the domain error the journey failed with.
            JourneyFailed, JourneyTimedOut, ServiceUnavailable: not the caller's fault.
        """
        if journey not in self.state_machines or journey not in JOURNEY_INPUTS:
            raise RouteNotFound("no such journey")
        return self.run(journey, self.execution_input(journey, caller, read_json_body(raw_body)))

    @staticmethod
    def execution_input(journey: str, caller: Caller, body: object) -> dict[str, Any]:
        """The execution input: the checked body, with the user taken from the token but for open journeys."""
        if journey in OPEN_JOURNEYS:
            return validate(body, journey_request_schema(journey))
        if caller.subject is None:
            raise Forbidden("this journey needs an authenticated caller")
        if isinstance(body, dict) and "user_id" in body:
            raise InvalidRequest("user_id comes from your token; leave it out of the body")
        return {**validate(body, journey_request_schema(journey)), "user_id": caller.subject}

    def run(self, journey: str, document: Mapping[str, Any]) -> Any:
        """Execute ``journey`` with ``document``; its output, or the error it failed with."""
        result = self._run_sync(self.state_machines[journey], json.dumps(document, separators=(",", ":")))
        status = result.get("status")
        if status == "SUCCEEDED":
            return json.loads(result.get("output") or "null")
        if status == "TIMED_OUT":
            raise JourneyTimedOut("the journey did not finish in time")
        error, cause = result.get("error"), result.get("cause")
        if error == "Lambda.TooManyRequestsException":  # throttled beyond the journey's retries
            raise ServiceUnavailable("too many requests right now; retry shortly")
        domain_error = BY_NAME.get(str(error))
        if domain_error is not None and domain_error not in (JourneyFailed, JourneyTimedOut):
            raise domain_error(failure_message(cause))
        log.error("journey failed: %s %s %s", journey, status, error)
        raise JourneyFailed("the journey failed; it has been logged")

    def _run_sync(self, state_machine: str, input_document: str) -> Mapping[str, Any]:
        if self._execute is not None:
            return self._execute(state_machine, input_document)
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - the AWS path only

        try:
            response: Mapping[str, Any] = self._client.start_sync_execution(
                stateMachineArn=state_machine, input=input_document
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _CLIENT_FAULTS:
                raise InvalidRequest("Step Functions refused the journey's input") from exc
            if code in _THROTTLED:
                raise ServiceUnavailable("too many journeys are running; retry shortly") from exc
            log.error("StartSyncExecution failed: %s", code)
            raise JourneyFailed("the journey could not start; it has been logged") from exc
        except BotoCoreError as exc:  # no connection, timeouts: transient
            raise ServiceUnavailable("the journey service is unreachable; retry shortly") from exc
        return response

    @cached_property
    def _client(self) -> Any:
        import boto3  # noqa: PLC0415 - only when a journey runs on AWS

        return boto3.client("stepfunctions")


def failure_message(cause: Any) -> str:
    """A failed Lambda task's cause is the runtime's error document: its message, never its stack trace."""
    if not isinstance(cause, str) or not cause:
        return "the journey refused the request"
    try:
        document = json.loads(cause)
    except ValueError:
        return cause  # a Fail state's own Cause: written in the ASL, safe to show
    if isinstance(document, dict) and isinstance(document.get("errorMessage"), str):
        return str(document["errorMessage"])
    return "the journey refused the request"
