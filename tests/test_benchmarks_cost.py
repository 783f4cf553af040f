"""benchmarks.cost: known inputs give known dollars; prices are dated, sourced and overridable."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from benchmarks import cost

# Round numbers, not the published ones: the arithmetic is what is tested, not today's prices.
PRICES = {
    "region": "test-region",
    "read_on": "2026-01-01",
    "lambda": {
        "request_per_million": 0.2,
        "gb_second": {"arm64": 0.00001, "x86_64": 0.00002},
        "duration_increment_ms": 1,
    },
    "api_gateway_http": {"request_per_million": 1.0, "metered_kb": 512},
    "dynamodb": {"read_request_unit_per_million": 0.25, "write_request_unit_per_million": 1.0},
    "step_functions_express": {
        "request_per_million": 1.0,
        "gb_second": 0.00002,
        "memory_increment_mb": 64,
        "duration_increment_ms": 100,
    },
    "assumptions": {"journey_orchestration_ms": 30, "express_memory_mb": 64, "http_payload_kb": 2},
}


@pytest.mark.parametrize(
    ("duration", "increment", "expected"),
    [
        (18.02, 1, 19),
        (19.0, 1, 19),
        (19.000000001, 1, 19),
        (0.2, 1, 1),
        (0, 1, 1),
        (25, 100, 100),
        (100, 100, 100),
        (100.5, 100, 200),
    ],
)
def test_durations_are_rounded_up_to_the_billing_increment(duration, increment, expected):
    assert cost.billed(duration, increment) == expected


def test_express_memory_is_billed_in_64_mb_chunks():
    assert cost.chunks(50.004, 64) == 64 and cost.chunks(64, 64) == 64 and cost.chunks(65, 64) == 128


def test_one_http_call_costs_its_request_lambda_and_dynamodb():
    """verify: 1 RRU + 2 WRU, 18.02 ms at 256 MB on arm64."""
    charges = cost.operation_charges(
        rru=1, wru=2, duration_ms=18.02, memory_mb=256, architecture="arm64", prices=PRICES
    )
    summary = cost.summarise(charges)
    # 19 ms billed x 0.25 GB = 0.00475 GB-s x $0.00001 = $4.75e-8 a call = $0.0475 per million
    assert summary["per_million_usd"] == {
        "api gateway http": 1.0,
        "lambda requests": 0.2,
        "lambda duration": 0.0475,
        "dynamodb": 1.0 * 0.25 + 2 * 1.0,
    }
    assert summary["total_per_million_usd"] == pytest.approx(1.0 + 0.2 + 0.0475 + 2.25)
    assert "19 ms x 256 MB = 0.004750 GB-s (arm64)" in " ".join(summary["units"])


def test_the_architecture_picks_its_duration_price():
    x86 = cost.lambda_charges(1000, 1024, "x86_64", PRICES)[1]
    arm = cost.lambda_charges(1000, 1024, "arm64", PRICES)[1]
    assert x86.per_million == pytest.approx(20.0) and arm.per_million == pytest.approx(10.0)


def test_an_http_request_over_512_kb_is_metered_twice():
    assert cost.http_api_charge(PRICES, 2).per_million == pytest.approx(1.0)
    assert cost.http_api_charge(PRICES, 513).per_million == pytest.approx(2.0)


def test_an_express_execution_bills_100_ms_and_64_mb_at_least():
    request, duration = cost.express_charges(45, 50.1, PRICES)
    assert request.per_million == pytest.approx(1.0)
    # 100 ms x 64 MB = 0.00625 GB-s x $0.00002 = $1.25e-7 a call
    assert duration.per_million == pytest.approx(0.125)


def _results(**warm_ms: float) -> dict:
    units = {"challenge": (0, 1), "verify": (1, 2), "get": (1, 0)}
    return {
        "requests": {op: {"rru": rru, "wru": wru} for op, (rru, wru) in units.items()},
        "warm": {"operations": {op: {"handler_ms": {"median": ms}} for op, ms in warm_ms.items()}},
    }


def test_a_login_is_a_challenge_and_a_verify(tmp_path):
    template = _template(tmp_path)
    estimate = cost.estimate(_results(challenge=4.2, verify=18.02, get=3.0), PRICES, template)
    challenge, verify = estimate["operations"]["challenge"], estimate["operations"]["verify"]
    assert challenge["billed_ms"] == 5 and verify["billed_ms"] == 19
    assert estimate["operations"]["get"]["memory_mb"] == 512  # its own MemorySize, not Globals'
    # challenge: 1 + 0.2 + 5 ms x 0.25 GB ($0.0125) + 1 WRU ($1) ; verify: 1 + 0.2 + 0.0475 + 2.25
    assert challenge["total_per_million_usd"] == pytest.approx(2.2125)
    assert estimate["login"]["total_per_million_usd"] == pytest.approx(2.2125 + 3.4975)
    assert estimate["login"]["per_million_usd"]["api gateway http"] == 2.0
    assert estimate["prices"]["read_on"] == "2026-01-01"


def test_the_journey_login_adds_the_starter_the_execution_and_the_direct_verify(tmp_path):
    estimate = cost.estimate(_results(challenge=4.2, verify=18.02), PRICES, _template(tmp_path))
    journey = estimate["login_journey"]
    assert journey["execution_ms"] == pytest.approx(48.02)  # verify + the assumed orchestration
    usd = journey["per_million_usd"]
    assert usd["api gateway http"] == 2.0  # the challenge and the journey's POST
    assert usd["lambda requests"] == pytest.approx(0.6)  # challenge, starter, verify
    # durations: challenge 5 ms; starter 48.02 + 4.2 -> 53 ms; verify 19 ms; all at 256 MB
    assert usd["lambda duration"] == pytest.approx((5 + 53 + 19) * 0.25 / 1000 * 0.00001 * 1e6)
    assert usd["express requests"] == 1.0 and usd["express duration"] == pytest.approx(0.125)
    assert usd["dynamodb"] == pytest.approx(1.0 + 2.25)  # the challenge's write, verify's read and writes


def _template(tmp_path: Path) -> Path:
    functions = {
        "IssueChallengeFunction": {},
        "RegisterDeviceKeyFunction": {},
        "VerifyDeviceKeyFunction": {},
        "GetDeviceKeyFunction": {"MemorySize": 512},
        "ListDeviceKeysFunction": {},
        "UpdateDeviceKeyFunction": {},
        "BlockDeviceKeyFunction": {},
        "UnblockDeviceKeyFunction": {},
        "DeleteDeviceKeyFunction": {},
        "RotateDeviceKeyFunction": {},
        "JourneyStarterFunction": {},
    }
    lines = ["Globals:", "  Function:", "    MemorySize: 256", "    Architectures: [arm64]", "Resources:"]
    for name, properties in functions.items():
        lines += [f"  {name}:", "    Type: AWS::Serverless::Function", "    Properties:", "      Handler: app.handler"]
        lines += [f"      {key}: {value}" for key, value in properties.items()]
    path = tmp_path / "template.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_memory_and_architecture_come_from_the_template(tmp_path):
    template = _template(tmp_path)
    assert cost.function_configuration("VerifyDeviceKeyFunction", template) == (256, "arm64")
    assert cost.function_configuration("GetDeviceKeyFunction", template) == (512, "arm64")


def test_the_project_template_is_read():
    memory, architecture = cost.function_configuration("VerifyDeviceKeyFunction")
    assert memory >= 128 and architecture in ("arm64", "x86_64")


def test_the_default_prices_are_dated_and_sourced():
    prices = cost.load_prices()
    assert date.fromisoformat(prices["read_on"]) <= date.today()
    for group in ("lambda", "api_gateway_http", "dynamodb", "step_functions_express"):
        assert prices[group]["source"].startswith("https://aws.amazon.com/")
    assert prices["lambda"]["gb_second"]["arm64"] > 0


def test_prices_are_overridden_by_a_file_and_by_name(tmp_path):
    override = tmp_path / "prices.json"
    override.write_text(json.dumps({"read_on": "2030-01-01", "dynamodb": {"write_request_unit_per_million": 9}}))
    prices = cost.load_prices(override, ["lambda.gb_second.arm64=0.5", "region=eu-west-1"])
    assert prices["read_on"] == "2030-01-01" and prices["region"] == "eu-west-1"
    assert prices["dynamodb"]["write_request_unit_per_million"] == 9
    assert (
        prices["dynamodb"]["read_request_unit_per_million"]
        == cost.load_prices()["dynamodb"]["read_request_unit_per_million"]
    )
    assert prices["lambda"]["gb_second"] == {
        "arm64": 0.5,
        "x86_64": cost.load_prices()["lambda"]["gb_second"]["x86_64"],
    }
    with pytest.raises(KeyError):
        cost.load_prices(overrides=["lambda.gb_seconds.arm64=1"])  # a typo is an error, not a new price
    with pytest.raises(ValueError, match="name=value"):
        cost.load_prices(overrides=["lambda.request_per_million"])
