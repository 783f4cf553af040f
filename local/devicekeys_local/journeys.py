"""Run the journeys (Step Functions state machines) on one machine, from their real ASL.

moto's Step Functions interpreter executes each ``statemachines/*.asl.json`` exactly as the
template deploys it (``DefinitionSubstitutions`` resolved to function ARNs), and every Lambda
task it runs is routed to the in-process handler through ``LocalFunctions.invoke_direct``.
A handler's exception comes back the way the Lambda runtime reports it (``FunctionError``
"Unhandled", ``errorType`` = the exception's class name), so a ``Catch`` on ``DeviceNotFound``
matches here as it does on AWS.

Use it inside the ``mock_aws`` that holds the local DynamoDB tables::

    with LocalJourneys(functions) as journeys:
        execution = journeys.run("login-registered-device", {"user_id": "alice", "proof": proof})

While the context is open, the journey starter function (``POST /v1/journeys/{journey}``) is
wired to these executions too, so its HTTP routes work through ``LocalFunctions.invoke_http``.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws
from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import LambdaBackend
from moto.core.exceptions import ServiceException
from werkzeug.exceptions import HTTPException

from .functions import LocalFunctions
from .template import (
    LOCAL_ACCOUNT,
    LOCAL_REGION,
    TEMPLATE,
    JourneyDefinition,
    journey_definitions,
    state_machine_arn,
)

__all__ = ["JourneyDefinition", "JourneyExecution", "LambdaRouter", "LocalJourneys", "journey_definitions"]

REGION, ACCOUNT = LOCAL_REGION, LOCAL_ACCOUNT
STARTER = "JourneyStarterFunction"
STATE_MACHINE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/devicekeys-local-journeys"
# moto executes state machines only when asked to; otherwise executions stay RUNNING forever.
SFN_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}}
HISTORY = 1000  # executions and invocations kept for inspection


@dataclass(frozen=True)
class JourneyExecution:
    """How an execution ended, with its output parsed; ``error``/``cause`` when it failed.

    ``states`` names every state entered, in order (a Map's inner states once per item): the
    path the execution took, for tests that must show which branch ran.
    """

    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    states: tuple[str, ...] = ()

    def sync_response(self) -> dict[str, Any]:
        """The members of a StartSyncExecution response that callers read."""
        response: dict[str, Any] = {"status": self.status}
        if self.output is not None:
            response["output"] = json.dumps(self.output)
        if self.error is not None:
            response["error"] = self.error
        if self.cause is not None:
            response["cause"] = self.cause
        return response


@dataclass
class LambdaRouter:
    """Stands in for moto's Lambda backend: ``Invoke`` runs the template's handler in this process.

    Tests can make the next call to a function fail (a Lambda service error such as a throttle,
    or an exception raised inside the function) or run an action just before it (to stage a race).
    """

    functions: LocalFunctions
    # the latest invocations (function, payload), and those that raised (function, errorType);
    # bounded, so a long-running local API does not grow without end
    calls: deque[tuple[str, Any]] = field(default_factory=lambda: deque(maxlen=HISTORY))
    failures: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=HISTORY))
    _faults: dict[str, deque[Exception]] = field(default_factory=lambda: defaultdict(deque))
    _before: dict[str, deque[Callable[[], None]]] = field(default_factory=lambda: defaultdict(deque))

    def fail_next(self, logical_id: str, error: Exception) -> None:
        """The next invocation of ``logical_id`` fails with ``error`` instead of running.

        A moto service error (e.g. ``JsonRESTError("TooManyRequestsException", ...)`` with code
        429) is a failure of the Lambda service (``Lambda.<Code>`` in the state machine); any
        other exception is raised by the function itself (its class name is the error).
        """
        self._faults[logical_id].append(error)

    def before_next(self, logical_id: str, action: Callable[[], None]) -> None:
        """Run ``action`` just before the next invocation of ``logical_id``."""
        self._before[logical_id].append(action)

    def invoke(self, function_name: str, body: str | bytes | None, response_headers: dict[str, Any]) -> bytes:
        """One synchronous invocation: the payload in, the function's result (or its error document) out."""
        logical_id = function_name.rsplit(":", 1)[-1]
        if logical_id not in self.functions.definitions:
            raise UnknownFunctionException(function_name)
        payload = json.loads(body) if body else {}
        self.calls.append((logical_id, payload))
        if self._before[logical_id]:
            self._before[logical_id].popleft()()
        try:
            if self._faults[logical_id]:
                raise self._faults[logical_id].popleft()
            result = self.functions.invoke_direct(logical_id, payload)
        except (ServiceException, HTTPException):  # the Lambda service failed: the function never ran
            raise
        except Exception as exc:  # the Lambda runtime reports any exception the same way
            self.failures.append((logical_id, type(exc).__name__))
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(lambda_error_document(exc)).encode()
        return json.dumps(result).encode()

    @contextmanager
    def installed(self) -> Iterator[LambdaRouter]:
        """Route moto's Lambda ``Invoke`` here for the duration of the block."""
        router = self

        def invoke(
            backend: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
        ) -> bytes:
            payload = router.invoke(function_name, body, response_headers)
            response_headers["Content-Length"] = str(len(payload))
            return payload

        with mock.patch.object(LambdaBackend, "invoke", invoke):
            yield self


def lambda_error_document(exc: BaseException) -> dict[str, Any]:
    """What the Python Lambda runtime returns for an unhandled exception (the Catch reads errorType)."""
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": str(uuid.uuid4()),
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


class LocalJourneys:
    """The template's state machines in moto's Step Functions, their tasks served by ``functions``."""

    def __init__(self, functions: LocalFunctions, template: Path = TEMPLATE, *, timeout_seconds: float = 60) -> None:
        self.functions = functions
        self.definitions = {journey.name: journey for journey in journey_definitions(template)}
        self.router = LambdaRouter(functions)
        self.timeout_seconds = timeout_seconds
        self._stack: ExitStack | None = None
        self._client: Any = None
        self._created: set[str] = set()
        self._creating = threading.Lock()  # the local API serves requests from several threads
        # the latest executions, by journey name, in order (the starter's included)
        self.executions: deque[tuple[str, JourneyExecution]] = deque(maxlen=HISTORY)

    # --- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> LocalJourneys:
        with ExitStack() as stack:
            stack.enter_context(mock_aws(config=SFN_CONFIG))
            stack.enter_context(self.router.installed())
            self._client = boto3.client("stepfunctions", region_name=REGION)
            self._created.clear()
            if STARTER in self.functions.definitions:
                stack.enter_context(self._starter_wired())
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    @contextmanager
    def _starter_wired(self) -> Iterator[None]:
        """Point the starter function at these executions instead of the Step Functions API."""
        from devicekeys.journeys import JourneyRunner  # noqa: PLC0415 - the layer is on sys.path once functions load

        starter = self.functions.module(STARTER)
        wired = JourneyRunner(
            state_machines={name: state_machine_arn(name) for name in self.definitions},
            execute=self.start_sync_execution,
        )
        with mock.patch.object(starter, "journeys", wired):
            yield

    # --- executions ---------------------------------------------------------------------

    def run(self, journey: str, document: Mapping[str, Any] | str) -> JourneyExecution:
        """Execute ``journey`` with ``document`` as its input and wait for the end."""
        if self._client is None:
            raise RuntimeError("use LocalJourneys as a context manager")
        if journey not in self.definitions:
            raise KeyError(f"no journey {journey!r}; the template has {sorted(self.definitions)}")
        with self._creating:
            if journey not in self._created:  # on first use: parsing a definition is the slow part
                definition = self.definitions[journey]
                self._client.create_state_machine(
                    name=journey, definition=definition.definition(), roleArn=STATE_MACHINE_ROLE, type=definition.type
                )
                self._created.add(journey)
        text = document if isinstance(document, str) else json.dumps(document)
        execution_arn = self._client.start_execution(
            stateMachineArn=state_machine_arn(journey), name=uuid.uuid4().hex, input=text
        )["executionArn"]
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            described = self._client.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{journey} still running after {self.timeout_seconds}s")
            time.sleep(0.005)
        output = described.get("output")
        execution = JourneyExecution(
            status=described["status"],
            output=json.loads(output) if output is not None else None,
            error=described.get("error"),
            cause=described.get("cause"),
            states=self._entered_states(execution_arn),
        )
        self.executions.append((journey, execution))
        return execution

    def _entered_states(self, execution_arn: str) -> tuple[str, ...]:
        names: list[str] = []
        request: dict[str, Any] = {"executionArn": execution_arn}
        while True:
            page = self._client.get_execution_history(**request)
            for event in page["events"]:
                if event["type"].endswith("StateEntered"):
                    names.append(event["stateEnteredEventDetails"]["name"])
            if not page.get("nextToken"):
                return tuple(names)
            request["nextToken"] = page["nextToken"]

    def start_sync_execution(self, state_machine: str, input_document: str) -> dict[str, Any]:
        """StartSyncExecution, as the starter function calls it on AWS."""
        name = state_machine.rsplit(":", 1)[-1]
        return self.run(name, input_document).sync_response()
