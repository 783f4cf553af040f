"""Dollars per million calls, from what the benchmark measured and dated, overridable prices.

Per operation (one HTTP API call to its function):

- API Gateway HTTP API: one request (metered per 512 KB; our bodies are ~1-2 KB);
- Lambda: one request, and the measured warm duration (handler median, ``benchmarks.warm``)
  rounded up to 1 ms as Lambda bills it, times the function's ``MemorySize`` from
  ``template.yaml`` (Globals, or the function's own), at the price of its architecture;
- DynamoDB on demand: the read and write request units of one invocation
  (``benchmarks.requests``: computed from the items' sizes by DynamoDB's rules).

A login from a registered device is ``challenge`` + ``verify`` over HTTP. Its journey variant
(``POST /v1/journeys/login-registered-device``) is priced from the same measurements: the
challenge over HTTP, then one API request, the journey starter function (billed while it waits
for the synchronous Express execution, plus its own work), the Express execution (a request,
and its duration rounded up to 100 ms at 64 MB) and the verify function invoked by the state
machine, with verify's DynamoDB requests. What Step Functions adds to the verify task's time is
an assumption (``assumptions.journey_orchestration_ms``), not a measurement.

Prices and assumptions live in ``benchmarks/prices.json`` (dated, with sources). Recompute the
dollars of a finished run with other prices, without measuring again::

    .venv/bin/python -m benchmarks.cost --results benchmarks/results/latest.json \\
        --prices my-prices.json --price dynamodb.write_request_unit_per_million=1.25
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` a package, not a path entry
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))
    __package__ = "benchmarks"

from .common import RESULTS_DIR, ROOT, use_project_paths

PRICES_FILE = ROOT / "benchmarks" / "prices.json"
TEMPLATE = ROOT / "template.yaml"
MILLION = 1_000_000
STARTER = "JourneyStarterFunction"


# --- prices -----------------------------------------------------------------------------------


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in, nested objects key by key."""
    merged = copy.deepcopy(dict(base))
    for name, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(name), Mapping):
            merged[name] = merge(merged[name], value)
        else:
            merged[name] = copy.deepcopy(value)
    return merged


def set_dotted(prices: dict[str, Any], assignment: str) -> None:
    """Apply one ``a.b.c=value`` override (the value read as JSON when it is JSON: numbers stay numbers)."""
    name, sep, raw = assignment.partition("=")
    if not sep or not name:
        raise ValueError(f"a price override is name=value, got {assignment!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    *parents, leaf = name.split(".")
    node = prices
    for part in parents:
        if not isinstance(node.get(part), dict):
            raise KeyError(f"{name}: no price group {part!r}")
        node = node[part]
    if leaf not in node:
        raise KeyError(f"{name}: no such price (see {PRICES_FILE.relative_to(ROOT)})")
    node[leaf] = value


def load_prices(path: Path | None = None, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The default prices, with a JSON file merged over them and ``name=value`` overrides applied."""
    prices: dict[str, Any] = json.loads(PRICES_FILE.read_text())
    if path is not None:
        prices = merge(prices, json.loads(Path(path).read_text()))
        prices["overridden_by"] = str(path)
    for assignment in overrides:
        set_dotted(prices, assignment)
    if overrides:
        prices["overrides"] = list(overrides)
    return prices


# --- the arithmetic ---------------------------------------------------------------------------


def billed(duration_ms: float, increment_ms: int) -> int:
    """A duration rounded up to the billing increment (1 ms for Lambda, 100 ms for Express)."""
    if duration_ms <= 0:
        return increment_ms
    # round() first: 19.000000000001 ms of float noise is 19 ms, not 20
    return math.ceil(round(duration_ms / increment_ms, 6)) * increment_ms


def chunks(memory_mb: float, increment_mb: int) -> int:
    """Memory rounded up to the billing chunk (64 MB for Express)."""
    return math.ceil(memory_mb / increment_mb) * increment_mb


@dataclass(frozen=True)
class Charge:
    """What one call costs in one service, in dollars (per call) and the units behind it."""

    service: str
    usd: float
    units: str

    @property
    def per_million(self) -> float:
        return self.usd * MILLION


def lambda_charges(duration_ms: float, memory_mb: int, architecture: str, prices: Mapping[str, Any]) -> list[Charge]:
    """One Lambda invocation: the request, and GB-seconds at the billed duration."""
    lam = prices["lambda"]
    billed_ms = billed(duration_ms, int(lam.get("duration_increment_ms", 1)))
    gb_seconds = memory_mb / 1024 * billed_ms / 1000
    return [
        Charge("lambda requests", lam["request_per_million"] / MILLION, "1 request"),
        Charge(
            "lambda duration",
            gb_seconds * lam["gb_second"][architecture],
            f"{billed_ms} ms x {memory_mb} MB = {gb_seconds:.6f} GB-s ({architecture})",
        ),
    ]


def http_api_charge(prices: Mapping[str, Any], payload_kb: float) -> Charge:
    api = prices["api_gateway_http"]
    metered = max(1, math.ceil(payload_kb / api.get("metered_kb", 512)))
    return Charge("api gateway http", metered * api["request_per_million"] / MILLION, f"{metered} request")


def dynamodb_charge(rru: float, wru: float, prices: Mapping[str, Any]) -> Charge:
    ddb = prices["dynamodb"]
    usd = (rru * ddb["read_request_unit_per_million"] + wru * ddb["write_request_unit_per_million"]) / MILLION
    return Charge("dynamodb", usd, f"{rru:g} RRU + {wru:g} WRU")


def express_charges(duration_ms: float, memory_mb: float, prices: Mapping[str, Any]) -> list[Charge]:
    """One Express execution: the request, and GB-seconds at 100 ms and 64 MB increments."""
    sfn = prices["step_functions_express"]
    billed_ms = billed(duration_ms, int(sfn["duration_increment_ms"]))
    billed_mb = chunks(memory_mb, int(sfn["memory_increment_mb"]))
    gb_seconds = billed_mb / 1024 * billed_ms / 1000
    return [
        Charge("express requests", sfn["request_per_million"] / MILLION, "1 execution"),
        Charge(
            "express duration",
            gb_seconds * sfn["gb_second"],
            f"{billed_ms} ms x {billed_mb} MB = {gb_seconds:.6f} GB-s",
        ),
    ]


def summarise(charges: Sequence[Charge]) -> dict[str, Any]:
    """Dollars per million calls, by service and in total (rounded for reading; totals from exact sums)."""
    by_service: dict[str, float] = {}
    for charge in charges:
        by_service[charge.service] = by_service.get(charge.service, 0.0) + charge.per_million
    return {
        "per_million_usd": {service: round(usd, 4) for service, usd in by_service.items()},
        "total_per_million_usd": round(sum(c.per_million for c in charges), 4),
        "units": [f"{c.service}: {c.units}" for c in charges],
    }


def operation_charges(
    *,
    rru: float,
    wru: float,
    duration_ms: float,
    memory_mb: int,
    architecture: str,
    prices: Mapping[str, Any],
    payload_kb: float | None = None,
) -> list[Charge]:
    """One HTTP API call to a function: API Gateway, Lambda and DynamoDB."""
    payload = prices.get("assumptions", {}).get("http_payload_kb", 2) if payload_kb is None else payload_kb
    return [
        http_api_charge(prices, payload),
        *lambda_charges(duration_ms, memory_mb, architecture, prices),
        dynamodb_charge(rru, wru, prices),
    ]


# --- the template -----------------------------------------------------------------------------


def function_configuration(logical_id: str, template: Path = TEMPLATE) -> tuple[int, str]:
    """(MemorySize in MB, architecture) of a function: its own properties, else the template's Globals."""
    use_project_paths()
    from devicekeys_local.template import load_template

    document = load_template(template)
    globals_ = document.get("Globals", {}).get("Function", {})
    properties = document["Resources"][logical_id].get("Properties", {})
    memory = int(properties.get("MemorySize", globals_.get("MemorySize", 128)))
    architectures = properties.get("Architectures", globals_.get("Architectures", ["x86_64"]))
    return memory, str(architectures[0])


# --- the estimate of a run ----------------------------------------------------------------------


def estimate(results: Mapping[str, Any], prices: Mapping[str, Any], template: Path = TEMPLATE) -> dict[str, Any]:
    """Per-operation and per-login dollars per million from a run's ``requests`` and ``warm`` sections."""
    from .scenario import FUNCTION_OF

    requests, warm = results["requests"], results["warm"]["operations"]
    configuration = {logical_id: function_configuration(logical_id, template) for logical_id in FUNCTION_OF.values()}
    operations: dict[str, Any] = {}
    charges_of: dict[str, list[Charge]] = {}
    for operation, logical_id in FUNCTION_OF.items():
        if operation not in requests or operation not in warm:
            continue
        memory, architecture = configuration[logical_id]
        duration = warm[operation]["handler_ms"]["median"]
        charges = operation_charges(
            rru=requests[operation]["rru"],
            wru=requests[operation]["wru"],
            duration_ms=duration,
            memory_mb=memory,
            architecture=architecture,
            prices=prices,
        )
        charges_of[operation] = charges
        operations[operation] = {
            "function": logical_id,
            "memory_mb": memory,
            "architecture": architecture,
            "warm_ms": duration,
            "billed_ms": billed(duration, int(prices["lambda"].get("duration_increment_ms", 1))),
            "rru": requests[operation]["rru"],
            "wru": requests[operation]["wru"],
            **summarise(charges),
        }
    out: dict[str, Any] = {
        "prices": {
            key: prices.get(key) for key in ("region", "currency", "read_on", "basis", "overridden_by", "overrides")
        },
        "sources": {
            name: group["source"] for name, group in prices.items() if isinstance(group, dict) and "source" in group
        },
        "operations": operations,
    }
    if "challenge" in charges_of and "verify" in charges_of:
        out["login"] = {
            "what": "issue challenge + verify, over the HTTP API",
            **summarise(charges_of["challenge"] + charges_of["verify"]),
        }
        out["login_journey"] = journey_login(
            challenge=charges_of["challenge"],
            verify=operations["verify"],
            starter_own_ms=operations["challenge"]["warm_ms"],
            starter=function_configuration(STARTER, template),
            prices=prices,
        )
    return out


def journey_login(
    *,
    challenge: Sequence[Charge],
    verify: Mapping[str, Any],
    starter_own_ms: float,
    starter: tuple[int, str],
    prices: Mapping[str, Any],
) -> dict[str, Any]:
    """The login-registered-device journey over HTTP, after the challenge: see the module docstring."""
    assumptions = prices.get("assumptions", {})
    execution_ms = verify["warm_ms"] + assumptions.get("journey_orchestration_ms", 25)
    starter_memory, starter_architecture = starter
    charges = [
        *challenge,
        http_api_charge(prices, assumptions.get("http_payload_kb", 2)),
        *lambda_charges(execution_ms + starter_own_ms, starter_memory, starter_architecture, prices),
        *express_charges(execution_ms, assumptions.get("express_memory_mb", 64), prices),
        *lambda_charges(verify["warm_ms"], verify["memory_mb"], verify["architecture"], prices),
        dynamodb_charge(verify["rru"], verify["wru"], prices),
    ]
    return {
        "what": (
            "issue challenge over HTTP + POST /v1/journeys/login-registered-device: the starter function "
            "(billed for the Express execution it waits for, plus its own work, taken as the challenge "
            "handler's), the Express execution, verify invoked by the state machine"
        ),
        "execution_ms": round(execution_ms, 3),
        **summarise(charges),
    }


# --- command line ----------------------------------------------------------------------------


def render(cost: Mapping[str, Any]) -> list[str]:
    prices = cost["prices"]
    lines = [
        f"COST PER MILLION CALLS (USD; {prices['region']} prices read {prices['read_on']}; {prices['basis']})",
        f"  {'operation':10} {'RRU':>4} {'WRU':>4} {'MB':>4} {'warm ms':>8} {'billed':>6} "
        f"{'API GW':>7} {'λ req':>6} {'λ dur':>7} {'DynamoDB':>8} {'total':>8}",
    ]
    for operation, data in cost["operations"].items():
        usd = data["per_million_usd"]
        lines.append(
            f"  {operation:10} {data['rru']:4g} {data['wru']:4g} {data['memory_mb']:4d} {data['warm_ms']:8.2f} "
            f"{data['billed_ms']:6d} {usd['api gateway http']:7.3f} {usd['lambda requests']:6.3f} "
            f"{usd['lambda duration']:7.4f} {usd['dynamodb']:8.4f} {data['total_per_million_usd']:8.4f}"
        )
    for name in ("login", "login_journey"):
        if name in cost:
            data = cost[name]
            parts = ", ".join(f"{service} {usd:.4f}" for service, usd in data["per_million_usd"].items())
            lines.append(f"  one million logins ({name}): ${data['total_per_million_usd']:.2f} ({parts})")
    if prices.get("overridden_by") or prices.get("overrides"):
        lines.append(f"  prices overridden: {prices.get('overridden_by') or ''} {prices.get('overrides') or ''}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Recompute the cost of a benchmark run with other prices.")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR / "latest.json", help="a benchmarks.run JSON")
    parser.add_argument("--prices", type=Path, help="a JSON file merged over benchmarks/prices.json")
    parser.add_argument(
        "--price", action="append", default=[], metavar="NAME=VALUE", help="e.g. lambda.gb_second.arm64=0.00001"
    )
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    cost = estimate(results, load_prices(args.prices, args.price))
    print(json.dumps(cost, indent=2) if args.json else "\n".join(render(cost)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
