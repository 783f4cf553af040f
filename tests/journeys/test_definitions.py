"""The journeys' definitions and their deployment, checked statically.

``sam validate --lint`` does not open ``DefinitionUri`` files, so the States Language rules are
checked here (devicekeys_local.asl), moto's ASL parser must accept each file, and the template
must give each state machine exactly the permissions its definition needs.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from devicekeys import errors
from devicekeys_local import asl
from devicekeys_local.journeys import JourneyDefinition, journey_definitions
from devicekeys_local.template import ROOT, invoked_function, load_template, resources
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

STATEMACHINES = ROOT / "statemachines"
JOURNEYS = {journey.name: journey for journey in journey_definitions()}
LAMBDA_TRANSIENT = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
# These consume a one-time challenge: once the function ran, a retry can only say challenge_not_found.
CONSUMES_A_CHALLENGE = {"VerifyDeviceKeyFunction", "RegisterDeviceKeyFunction"}
DOMAIN_ERRORS = {
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.DeviceKeysError) and value is not errors.DeviceKeysError
}


def _asl(journey: JourneyDefinition) -> dict[str, Any]:
    return dict(json.loads(journey.definition_path.read_text()))


def _tasks(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for _, name, state in asl._states(definition):
        if state["Type"] == "Task":
            yield name, state


def _function_of(journey: JourneyDefinition, task: dict[str, Any]) -> str:
    placeholder = task["Parameters"]["FunctionName"]
    assert placeholder.startswith("${") and placeholder.endswith("}"), placeholder
    return journey.substitutions[placeholder[2:-1]]


def test_every_asl_file_is_deployed_by_exactly_one_state_machine() -> None:
    files = sorted(path.name for path in STATEMACHINES.glob("*.asl.json"))
    deployed = sorted(journey.definition_path.name for journey in JOURNEYS.values())
    assert files == deployed
    assert len(files) == 8


@pytest.mark.parametrize("name", sorted(JOURNEYS))
def test_the_definition_obeys_the_states_language_rules(name: str) -> None:
    assert asl.problems(_asl(JOURNEYS[name])) == []


@pytest.mark.parametrize("name", sorted(JOURNEYS))
def test_the_definition_is_accepted_by_the_interpreter_that_runs_it_in_tests(name: str) -> None:
    AmazonStateLanguageParser.parse(JOURNEYS[name].definition())


@pytest.mark.parametrize("name", sorted(JOURNEYS))
def test_the_state_machine_is_an_express_workflow_that_never_logs_proofs(name: str) -> None:
    props = load_template()["Resources"][JOURNEYS[name].logical_id]["Properties"]
    assert props["Type"] == "EXPRESS"
    assert props["Logging"]["IncludeExecutionData"] is False
    assert _asl(JOURNEYS[name])["TimeoutSeconds"] < 29  # inside the starter's timeout and API Gateway's 30 s


@pytest.mark.parametrize("name", sorted(JOURNEYS))
def test_every_substitution_is_used_and_every_placeholder_is_substituted(name: str) -> None:
    journey = JOURNEYS[name]
    text = journey.definition_path.read_text()
    for placeholder in journey.substitutions:
        assert "${" + placeholder + "}" in text
    journey.definition()  # raises on a placeholder without a substitution


@pytest.mark.parametrize("name", sorted(JOURNEYS))
def test_the_role_may_invoke_exactly_the_functions_the_definition_calls(name: str) -> None:
    journey = JOURNEYS[name]
    called = {_function_of(journey, task) for _, task in _tasks(_asl(journey))}
    props = load_template()["Resources"][journey.logical_id]["Properties"]
    policies = props["Policies"]
    statements = [s for policy in policies if isinstance(policy, dict) for s in policy.get("Statement", [])]
    invocable = set()
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(action.startswith("lambda:") for action in actions):
            assert actions == ["lambda:InvokeFunction"]
            invocable |= {invoked_function(target) for target in statement["Resource"]}
            # exactly the ARNs the definition invokes (each function's alias), nothing broader
            assert all(target in props["DefinitionSubstitutions"].values() for target in statement["Resource"])
    assert invocable == called
    assert [p for p in policies if not isinstance(p, dict) or "Statement" not in p] == [
        {"Ref": "JourneyLogDeliveryPolicy"}
    ]


@pytest.mark.parametrize("name", sorted(JOURNEYS))
def test_every_task_invokes_a_function_directly_and_retries_transient_errors(name: str) -> None:
    journey = JOURNEYS[name]
    for state_name, task in _tasks(_asl(journey)):
        assert task["Resource"] == "arn:aws:states:::lambda:invoke", state_name
        assert "$.Payload" in json.dumps(task.get("ResultSelector", {})), state_name
        retried = {error for retrier in task["Retry"] for error in retrier["ErrorEquals"]}
        function = _function_of(journey, task)
        expected = LAMBDA_TRANSIENT | ({"ServiceUnavailable"} if function not in CONSUMES_A_CHALLENGE else set())
        assert retried == expected, (state_name, function)


@pytest.mark.parametrize("name", sorted(JOURNEYS))
def test_only_named_domain_errors_are_caught_and_raised(name: str) -> None:
    for _, state_name, state in asl._states(_asl(JOURNEYS[name])):
        for catcher in state.get("Catch", []):
            assert set(catcher["ErrorEquals"]) <= DOMAIN_ERRORS, state_name
        if state["Type"] == "Fail":
            assert state["Error"] in DOMAIN_ERRORS, state_name


def test_the_starter_has_one_route_per_journey_and_only_login_is_open() -> None:
    starter = resources("AWS::Serverless::Function")["JourneyStarterFunction"]["Properties"]
    routes = {
        event["Properties"]["Path"]: (event["Properties"].get("Auth") or {}).get("Authorizer")
        for event in starter["Events"].values()
    }
    assert routes == {
        f"/v1/journeys/{name}": ("NONE" if name == "login-registered-device" else None) for name in JOURNEYS
    }
    assert all(event["Properties"]["Method"] == "POST" for event in starter["Events"].values())


def test_the_starter_knows_every_state_machine_and_may_start_only_those() -> None:
    starter = resources("AWS::Serverless::Function")["JourneyStarterFunction"]["Properties"]
    mapping = json.loads(starter["Environment"]["Variables"]["JOURNEY_STATE_MACHINES"]["Fn::Sub"])
    assert mapping == {name: "${" + journey.logical_id + "}" for name, journey in JOURNEYS.items()}
    (statement,) = starter["Policies"][0]["Statement"]
    assert statement["Action"] == "states:StartSyncExecution"
    assert sorted(target["Ref"] for target in statement["Resource"]) == sorted(j.logical_id for j in JOURNEYS.values())


def test_every_journey_is_documented_with_an_example_input() -> None:
    docs = (ROOT / "docs" / "journeys.md").read_text()
    for name in JOURNEYS:
        assert f"`{name}`" in docs
        assert (ROOT / "events" / "journeys" / f"{name}.json").is_file()


# --- the checker itself: a broken definition must not pass -----------------------------------

# A realistic definition with a Map, a loop and Catches (an earlier single device policy), kept
# beside the tests so that the checker's own tests do not depend on what the journeys look like.
BASE: dict[str, Any] = json.loads((Path(__file__).parent / "checker_base.asl.json").read_text())


def _retarget(states: dict[str, Any], name: str, target: str) -> None:
    states[name].pop("End", None)
    states[name]["Next"] = target


def _orphan(states: dict[str, Any]) -> None:
    states["Orphan"] = {"Type": "Succeed"}


def _closed_loop(states: dict[str, Any]) -> None:
    states["RemoveDevices"]["Next"] = "CountRemoved"
    states["CountRemoved"]["Next"] = "RemoveDevices"


def _first_rule(states: dict[str, Any], **changes: Any) -> None:
    states["DeviceStatus"]["Choices"][0].update(changes)


def _catch_all_first(states: dict[str, Any]) -> None:
    states["RegisterCurrentDevice"]["Catch"].insert(0, {"ErrorEquals": ["States.ALL"], "Next": "InvalidProof"})


def _inner_catch_removed(states: dict[str, Any]) -> None:
    states["RemoveDevices"]["ItemProcessor"]["States"]["DeleteDevice"].pop("Catch")


# expected problem -> how to break the definition
BROKEN: dict[str, Any] = {
    "transition to 'Nowhere'": lambda s: _retarget(s, "Complete", "Nowhere"),
    "no transition reaches this state": _orphan,
    "exactly one of Next and End": lambda s: s["Registered"].update(Next="Complete"),
    "a top-level rule needs Next": lambda s: s["DeviceStatus"]["Choices"][0].pop("Next"),
    "a nested rule must not have Next": lambda s: s["CheckInput"]["Choices"][0]["Or"][0].update(Next="Complete"),
    "a comparison needs a Variable path": lambda s: _first_rule(s, Variable="device.known"),
    "BooleanEquals takes a bool": lambda s: _first_rule(s, BooleanEquals="true"),
    "exactly one known operator": lambda s: _first_rule(s, StringEquals="x"),
    "States.ALL must be alone": _catch_all_first,
    "ever ends the execution": _closed_loop,
    "Choice state has neither Next nor End": lambda s: s["AnyDeviceLeft"].update(Next="Complete"),
    "a .$ field takes a path": lambda s: s["Complete"]["Parameters"].update({"key_id.$": "key_id"}),
    "Retry is only allowed": lambda s: s["Complete"].update(Retry=[{"ErrorEquals": ["States.ALL"]}]),
    "RemoveDevices/AlreadyGone: no transition reaches": _inner_catch_removed,
}


def _broken(change: Any) -> dict[str, Any]:
    definition = copy.deepcopy(BASE)
    change(definition["States"])
    return definition


@pytest.mark.parametrize("expected", sorted(BROKEN))
def test_the_checker_reports_a_broken_definition(expected: str) -> None:
    found = asl.problems(_broken(BROKEN[expected]))
    assert any(expected in problem for problem in found), found


def test_state_names_include_a_maps_inner_states() -> None:
    assert {"RemoveDevices", "DeleteDevice", "AlreadyGone"} <= asl.state_names(BASE)


def test_the_tests_see_the_same_files_the_template_deploys() -> None:
    for journey in JOURNEYS.values():
        assert journey.definition_path.resolve().parent == Path(STATEMACHINES).resolve()
