"""The functions' IAM policies, proven against what the code does (a pytest plugin).

While the suite runs, every AWS call a function makes (attributed through
``devicekeys_local.functions.RUNNING_FUNCTION``) is recorded as the IAM action it needs and the
template resource it touches. At the end of the session:

- every recorded action must be granted by that function's policies in ``template.yaml``, on
  that resource (always checked, whatever ran);
- every action a function's policies grant must have been used by some test (checked only when
  the whole suite ran: a partial run cannot tell an unused grant from an untested one).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.client import BaseClient
from devicekeys_local.functions import RUNNING_FUNCTION
from devicekeys_local.journeys import LocalJourneys
from devicekeys_local.template import journey_definitions, load_template, resources

# DynamoDB's TransactWriteItems needs each item's own action.
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Delete": "DeleteItem",
    "Update": "UpdateItem",
    "ConditionCheck": "ConditionCheckItem",
}
# Resources the tests name by their physical names: the tables of tests/conftest.py.
PHYSICAL_NAMES = {
    "test-device-keys": "DeviceKeysTable",
    "test-challenges": "ChallengesTable",
    "test-published-events": "PublishedEventsTable",
    "test-device-key-events": "DeviceKeyEventBus",
    "alias/test-dbsc-signing": "DbscSigningKey",
}

# Grants the Lambda service uses on a function's behalf, which no test of the function's code sees.
USED_BY_LAMBDA = {
    # the stream's event source mapping sends what it could not process to the dead-letter queue
    ("EventPublisherFunction", "sqs:SendMessage", "DeviceKeyEventsDeadLetterQueue"),
}

USED: dict[str, set[tuple[str, str]]] = defaultdict(set)  # function -> {(action, resource)}
_LOCK = threading.Lock()


def granted(logical_id: str) -> set[tuple[str, str]]:
    """(action, resource logical id) pairs a function's inline policy statements allow."""
    pairs = set()
    for policy in resources("AWS::Serverless::Function")[logical_id]["Properties"].get("Policies") or []:
        if not isinstance(policy, dict) or "Statement" not in policy:
            continue
        for statement in policy["Statement"]:
            if statement.get("Effect") != "Allow":
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            pairs |= {(action, _resource_name(target)) for action in actions for target in targets}
    return pairs


def _resource_name(target: Any) -> str:
    if isinstance(target, dict) and "Fn::GetAtt" in target:
        return str(target["Fn::GetAtt"][0])
    if isinstance(target, dict) and "Ref" in target:
        return str(target["Ref"])
    return str(target)


def _record(client: Any, operation: str, params: dict[str, Any]) -> None:
    function = RUNNING_FUNCTION.get()
    if function is None:
        return
    service = client.meta.service_model.endpoint_prefix
    calls: list[tuple[str, str]] = []
    if service == "dynamodb" and operation == "TransactWriteItems":
        for item in params["TransactItems"]:
            ((kind, request),) = item.items()
            calls.append((f"dynamodb:{_TRANSACT_ACTIONS[kind]}", request["TableName"]))
    elif service == "dynamodb":
        calls.append((f"dynamodb:{operation}", params.get("TableName", "*")))
    elif service == "events":
        calls.append((f"events:{operation}", params["Entries"][0].get("EventBusName", "default")))
    elif service == "kms":
        calls.append((f"kms:{operation}", params.get("KeyId", "*")))
    elif service == "states" and "stateMachineArn" in params:
        calls.append((f"states:{operation}", _state_machine(params["stateMachineArn"])))
    else:
        calls.append((f"{service}:{operation}", "*"))
    with _LOCK:
        USED[function] |= {(action, PHYSICAL_NAMES.get(resource, resource)) for action, resource in calls}


def _state_machine(arn: str) -> str:
    """The template's state machine an ARN names (locally, a state machine is named after its journey)."""
    name = arn.rsplit(":", 1)[-1]
    return next((journey.logical_id for journey in journey_definitions() if journey.name == name), name)


@pytest.fixture(scope="session", autouse=True)
def _record_aws_calls() -> Iterator[None]:
    original = BaseClient._make_api_call
    original_sync = LocalJourneys.start_sync_execution

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        _record(client, operation, params)
        return original(client, operation, params)

    def sync_execution(journeys: LocalJourneys, state_machine: str, input_document: str) -> Any:
        # The starter's StartSyncExecution, run locally by moto: the emulator's own calls are not the function's.
        function = RUNNING_FUNCTION.get()
        if function is not None:
            with _LOCK:
                USED[function].add(("states:StartSyncExecution", _state_machine(state_machine)))
        token = RUNNING_FUNCTION.set(None)
        try:
            return original_sync(journeys, state_machine, input_document)
        finally:
            RUNNING_FUNCTION.reset(token)

    BaseClient._make_api_call = recording  # type: ignore[method-assign]
    LocalJourneys.start_sync_execution = sync_execution  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
        LocalJourneys.start_sync_execution = original_sync  # type: ignore[method-assign]


def policy_problems(*, whole_suite: bool) -> list[str]:
    problems = []
    template_functions = set(resources("AWS::Serverless::Function"))
    for function in sorted(template_functions):
        allowed = granted(function)
        used = USED.get(function, set()) | {
            (action, resource) for name, action, resource in USED_BY_LAMBDA if name == function
        }
        for action, resource in sorted(used - allowed):
            problems.append(f"{function} calls {action} on {resource}, which its policies do not grant")
        if whole_suite:
            for action, resource in sorted(allowed - used):
                problems.append(f"{function} is granted {action} on {resource}, which no test saw it use")
    assert load_template()  # the template is the one the functions were built from
    return problems
