"""Journeys over HTTP: POST /v1/journeys/{journey}, served by the starter function as API Gateway calls it."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from conftest import Api, HttpResult, device_for
from devicekeys.errors import ERROR_STATUS, InvalidRequest, ServiceUnavailable
from devicekeys.inputs import JOURNEY_INPUTS
from devicekeys.journeys import JourneyRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import Journeys, lambda_throttled


@pytest.fixture
def api(journeys: Journeys) -> Api:
    return Api(journeys.functions)


def route(journey: str) -> str:
    return f"/v1/journeys/{journey}"


def assert_error(result: HttpResult, status: int, code: str) -> None:
    assert result.status == status, result.body
    assert result.body["error"]["code"] == code
    assert result.body["error"]["message"] and result.body["request_id"]


def test_login_needs_no_token_and_answers_with_the_outcome(journeys: Journeys, api: Api) -> None:
    device = device_for("ES256")
    journeys.register("alice", device)
    body = {"user_id": "alice", "proof": journeys.verify_proof("alice", device)}

    result = api.call("POST", route("login-registered-device"), body)

    assert result.status == 200
    assert result.body == {"outcome": "allowed", "user_id": "alice", "key_id": device.key_id}


def test_a_rejected_login_is_still_a_200_whose_outcome_says_so(journeys: Journeys, api: Api) -> None:
    body = {"user_id": "alice", "proof": journeys.verify_proof("alice", device_for("ES256"))}

    result = api.call("POST", route("login-registered-device"), body)

    assert result.status == 200
    assert (result.body["outcome"], result.body["reason"]) == ("rejected", "device_not_found")


def test_an_authenticated_journey_runs_for_the_tokens_subject(journeys: Journeys, api: Api) -> None:
    journeys.register("alice", device_for("ES256", 0))
    journeys.register("alice", device_for("ES256", 1))
    journeys.register("bob", device_for("ES256", 2))

    result = api.call("POST", route("count-devices"), {}, as_user="bob")

    assert result.status == 200
    assert result.body == journeys.succeeded("count-devices", {"user_id": "bob"})
    assert result.body["count"] == 1


def test_a_body_naming_a_user_is_refused_before_any_journey_runs(journeys: Journeys, api: Api) -> None:
    result = api.call("POST", route("count-devices"), {"user_id": "bob"}, as_user="alice")

    assert_error(result, 400, "invalid_request")
    assert not journeys.local.executions


def test_another_users_proof_cannot_rename_their_device(journeys: Journeys, api: Api) -> None:
    bobs = device_for("ES256", 2)
    journeys.register("bob", bobs, display_name="Bob's phone")
    body = {"proof": journeys.verify_proof("bob", bobs), "client_data": {"device_name": "pwned"}}

    result = api.call("POST", route("rename-device"), body, as_user="alice")

    assert result.status == 200
    assert (result.body["user_id"], result.body["outcome"]) == ("alice", "rejected")
    assert journeys.record("bob", bobs)["display_name"] == "Bob's phone"


def test_another_users_proofs_cannot_make_the_single_device_policy_delete_their_devices(
    journeys: Journeys, api: Api
) -> None:
    bobs_old, bobs_new = device_for("ES256", 2), device_for("ES256", 3)
    journeys.register("bob", bobs_old)
    body = {
        "proof": journeys.verify_proof("bob", bobs_new),
        "registration": {"proof": journeys.register_proof("bob", bobs_new)},
    }

    result = api.call("POST", route("single-device-policy"), body, as_user="alice")

    assert (result.body["outcome"], result.body["removed"]) == ("rejected", 0)
    assert journeys.key_ids("bob") == [bobs_old.key_id]
    assert journeys.calls_to("DeleteDeviceKeyFunction") == 0


def test_without_a_token_the_function_refuses_an_authenticated_journey_too(journeys: Journeys, api: Api) -> None:
    # API Gateway's JWT authorizer answers 401 first; the function does not rely on it.
    assert_error(api.call("POST", route("count-devices"), {}), 403, "forbidden")
    assert not journeys.local.executions


def test_a_body_the_journey_does_not_take_is_refused_before_it_runs(journeys: Journeys, api: Api) -> None:
    missing = api.call("POST", route("register-device"), {"display_name": "x"}, as_user="alice")
    unknown = api.call("POST", route("register-device"), {"proof": "a.b.c", "status": "blocked"}, as_user="alice")
    unknown_elsewhere = api.call("POST", route("count-devices"), {"verbose": True}, as_user="alice")

    assert_error(missing, 400, "invalid_request")
    assert missing.body["error"]["message"] == "the body is missing proof"
    assert_error(unknown, 400, "invalid_request")
    assert unknown.body["error"]["message"].startswith("the body has unknown fields: status")
    assert_error(unknown_elsewhere, 400, "invalid_request")  # one rule for every journey
    assert not journeys.local.executions


@pytest.mark.parametrize(
    "raw_body",
    [
        b'{"proof": "a.b.c", "registration": {"proof": "x", "custom_data": ' + b'{"a": ' * 40 + b"1" + b"}" * 42,
        b'{"proof": "a.b.c", "registration": {"proof": "x", "custom_data": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        b'{"proof": NaN, "registration": {"proof": "x"}}',
        b'{"proof": "a.b.c", "registration": {"proof": "x", "custom_data": {"n": 1e999}}}',
        b'{"proof": "a.b.c", "registration": {"proof": "x", "display_name": "\\ud800"}}',
        b'{"proof": "a.b.c", "proof": "d.e.f", "registration": {"proof": "x"}}',
    ],
    ids=["nested-40", "nested-5000", "nan", "overflow", "lone-surrogate", "duplicate-member"],
)
def test_a_hostile_journey_body_is_a_400_and_starts_nothing(journeys: Journeys, api: Api, raw_body: bytes) -> None:
    result = api.call("POST", route("single-device-policy"), raw_body=raw_body, as_user="alice")

    assert_error(result, 400, "invalid_request")
    assert not journeys.local.executions


def test_a_busy_store_is_a_503_the_app_may_retry(journeys: Journeys, api: Api) -> None:
    journeys.register("alice", device_for("ES256"))
    journeys.router.fail_next("VerifyDeviceKeyFunction", ServiceUnavailable("the device key store is busy"))
    body = {"user_id": "alice", "proof": journeys.verify_proof("alice", device_for("ES256"))}

    result = api.call("POST", route("login-registered-device"), body)

    assert_error(result, 503, "service_unavailable")
    assert result.headers.get("Retry-After") == "1"


def test_lambda_throttling_beyond_the_retries_is_a_503(journeys: Journeys, api: Api) -> None:
    for _ in range(3):  # the first attempt and both retries
        journeys.router.fail_next("ListDeviceKeysFunction", lambda_throttled())

    assert_error(api.call("POST", route("count-devices"), {}, as_user="alice"), 503, "service_unavailable")
    assert journeys.calls_to("ListDeviceKeysFunction") == 3


def test_any_other_failure_is_a_502_that_leaks_nothing(journeys: Journeys, api: Api) -> None:
    journeys.router.fail_next("ListDeviceKeysFunction", RuntimeError("table arn:aws:dynamodb:secret"))

    result = api.call("POST", route("count-devices"), {}, as_user="alice")

    assert_error(result, 502, "journey_failed")
    assert "secret" not in str(result.body)


def test_a_journey_past_its_time_is_a_504(journeys: Journeys, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    starter = journeys.functions.module("JourneyStarterFunction")
    timed_out = JourneyRunner({"count-devices": "arn:count-devices"}, lambda *_: {"status": "TIMED_OUT"})
    monkeypatch.setattr(starter, "journeys", timed_out)

    assert_error(api.call("POST", route("count-devices"), {}, as_user="alice"), 504, "journey_timed_out")


@pytest.mark.parametrize(
    ("raw_body", "status", "code"),
    [
        (b"{not json", 400, "invalid_request"),
        (b"[1, 2]", 400, "invalid_request"),
        (b'{"user_id": "alice", "proof": "' + b"x" * (16 * 1024) + b'"}', 413, "payload_too_large"),
    ],
)
def test_a_body_that_is_not_a_small_json_object_is_refused(
    journeys: Journeys, api: Api, raw_body: bytes, status: int, code: str
) -> None:
    assert_error(api.call("POST", route("login-registered-device"), raw_body=raw_body), status, code)
    assert not journeys.local.executions


def test_the_starter_is_not_for_direct_invocation(journeys: Journeys) -> None:
    with pytest.raises(InvalidRequest):
        journeys.functions.invoke_direct("JourneyStarterFunction", {"journey": "count-devices"})


def test_every_journey_has_a_route(journeys: Journeys, api: Api) -> None:
    for name in journeys.local.definitions:
        assert api.functions.match("POST", route(name)) is not None, name


journey_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(alphabet=st.characters(codec=None, categories=None), max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["proof", "registration", "client_data", "device_name", "x"]), children, max_size=3
        )
    ),
    max_leaves=8,
)
journey_bodies = st.one_of(
    journey_json.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "proof": journey_json,
            "user_id": journey_json,
            "registration": journey_json | st.fixed_dictionaries({"proof": journey_json}),
            "client_data": journey_json | st.fixed_dictionaries({"device_name": journey_json}),
            "display_name": journey_json,
            "custom_data": journey_json,
        },
    ).map(lambda value: json.dumps(value).encode()),
    st.integers(1, 3000).map(lambda depth: b'{"custom_data": ' + b"[" * depth + b"]" * depth + b"}"),
    st.binary(max_size=64),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journey=st.sampled_from(sorted(JOURNEY_INPUTS)), body=journey_bodies, caller=st.sampled_from([None, "alice"]))
def test_no_journey_body_gives_a_5xx(
    journeys: Journeys, api: Api, journey: str, body: bytes, caller: str | None
) -> None:
    """Property: whatever a client sends a journey route, the answer is its outcome or a documented 4xx."""
    result = api.call("POST", route(journey), raw_body=body, as_user=caller)
    assert result.status < 500, (journey, body[:200], result.body)
    if result.status >= 400:
        assert ERROR_STATUS[result.body["error"]["code"]] == result.status


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("InvalidExecutionInput", 400, "invalid_request"),
        ("ValidationException", 400, "invalid_request"),
        ("ExecutionLimitExceeded", 503, "service_unavailable"),
        ("ThrottlingException", 503, "service_unavailable"),
        ("StateMachineDoesNotExist", 502, "journey_failed"),
        ("AccessDeniedException", 502, "journey_failed"),
        ("InternalFailure", 502, "journey_failed"),
    ],
)
def test_step_functions_refusals_are_answered_by_whose_fault_they_are(
    journeys: Journeys, api: Api, monkeypatch: pytest.MonkeyPatch, code: str, status: int, error: str
) -> None:
    # GIVEN the starter calling the real Step Functions API (stubbed: it answers with an error)
    client = boto3.client("stepfunctions", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error("start_sync_execution", service_error_code=code, http_status_code=400)
    runner = JourneyRunner({"count-devices": "arn:aws:states:us-east-1:123456789012:stateMachine:count-devices"})
    monkeypatch.setattr(runner, "_client", client)
    monkeypatch.setattr(journeys.functions.module("JourneyStarterFunction"), "journeys", runner)

    with stubber:
        result = api.call("POST", route("count-devices"), {}, as_user="alice")

    assert_error(result, status, error)
    assert code not in result.body["error"]["message"]


def test_an_unreachable_step_functions_is_a_503(journeys: Journeys, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    client = boto3.client("stepfunctions", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    runner = JourneyRunner({"count-devices": "arn:aws:states:us-east-1:123456789012:stateMachine:count-devices"})
    monkeypatch.setattr(runner, "_client", client)
    monkeypatch.setattr(journeys.functions.module("JourneyStarterFunction"), "journeys", runner)

    assert_error(api.call("POST", route("count-devices"), {}, as_user="alice"), 503, "service_unavailable")
