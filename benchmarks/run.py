"""Run the project's benchmarks and check them against the budgets (docs/protocol.md, section 12).

    .venv/bin/python -m benchmarks.run            # everything, a few minutes
    .venv/bin/python -m benchmarks.run --quick    # fewer iterations, same report
    .venv/bin/python -m benchmarks.run --only warm,requests --proposals
    .venv/bin/python -m benchmarks.run --price dynamodb.write_request_unit_per_million=1.25

Prints one table and writes benchmarks/results/latest.json (``--reference`` also writes the
committed benchmarks/results/reference.json). When ``requests`` and ``warm`` both ran, the
cost per million calls is added (``benchmarks.cost``; prices in benchmarks/prices.json).
Timings on a shared 2-core machine are noisy: compare ratios measured in one run, not absolute
numbers across runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` a package, not a path entry
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))
    __package__ = "benchmarks"

import argparse
import platform
import time
from datetime import UTC, datetime
from typing import Any

from benchmarks import environments
from benchmarks.common import RESULTS_DIR, ROOT, use_project_paths, write_json

SECTIONS = ("requests", "warm", "cold", "memory", "package", "peer")
PROPOSALS_DIR = ROOT / "benchmarks" / "proposals"
COLD_BUDGET, WARM_VERIFY_BUDGET = 1.5, 1.3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run, ~2 minutes)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {', '.join(SECTIONS)}")
    parser.add_argument("--iterations", type=int, help="warm iterations per operation (default 200, quick 50)")
    parser.add_argument("--runs", type=int, help="fresh processes per cold-start target (default 9, quick 5)")
    parser.add_argument("--invocations", type=int, help="invocations in the memory run (default 1000, quick 200)")
    parser.add_argument("--proposals", action="store_true", help="also measure benchmarks/proposals/* (cold start)")
    parser.add_argument("--no-setup", action="store_true", help="do not create the Python 3.13 venvs if missing")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.json")
    parser.add_argument("--reference", action="store_true", help="also write benchmarks/results/reference.json")
    parser.add_argument("--prices", type=Path, help="a JSON file merged over benchmarks/prices.json (the cost)")
    parser.add_argument(
        "--price",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one price, e.g. lambda.request_per_million=0.2",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_project_paths()
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections: {', '.join(sorted(unknown))}")
    quick = args.quick
    iterations = args.iterations or (50 if quick else 200)
    runs = max(5, args.runs or (5 if quick else 9))
    invocations = args.invocations or (200 if quick else 1000)
    create = not args.no_setup

    py313 = environments.lambda313(create=create) if {"cold", "memory"} & set(sections) else None
    interpreters = [i for i in (py313, environments.project()) if i is not None]
    # The project's .venv on the same Python as py313 measures nothing new (and its dev tools'
    # .pth files import modules at startup): keep the venv that holds only what Lambda has.
    interpreters = [i for n, i in enumerate(interpreters) if i.name not in {j.name for j in interpreters[:n]}]
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": _cpus(), "python": platform.python_version()},
        "settings": {"quick": quick, "iterations": iterations, "runs": runs, "invocations": invocations},
        "interpreters": {i.name: i.version for i in interpreters},
    }
    timings: dict[str, float] = {}
    for section in sections:
        start = time.perf_counter()
        print(f"[bench] {section} ...", file=sys.stderr)
        results[section] = _run_section(section, args, interpreters, iterations, runs, invocations, create)
        timings[section] = round(time.perf_counter() - start, 1)
    results["seconds"] = timings
    if "requests" in results and "warm" in results:
        from benchmarks import cost

        results["cost"] = cost.estimate(results, cost.load_prices(args.prices, args.price))
    results["budgets"] = budgets(results)
    write_json(args.output, results)
    if args.reference:
        write_json(RESULTS_DIR / "reference.json", results)
    print(render(results))
    print(f"\nwritten: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


def _run_section(  # noqa: PLR0911 - one return per section
    section: str,
    args: argparse.Namespace,
    interpreters: list[environments.Interpreter],
    iterations: int,
    runs: int,
    invocations: int,
    create: bool,
) -> Any:
    if section == "requests":
        from benchmarks import requests

        return requests.measure()
    if section == "warm":
        from benchmarks import warm

        return warm.measure(iterations=iterations, warmup=max(10, iterations // 10))
    if section == "cold":
        from benchmarks import cold_start

        proposals = sorted(PROPOSALS_DIR.glob("*.diff")) + sorted(PROPOSALS_DIR.glob("*.py")) if args.proposals else []
        return cold_start.measure(interpreters, runs=runs, proposals=proposals, importtime_runs=1 if args.quick else 3)
    if section == "memory":
        from benchmarks import memory

        return memory.measure(interpreters, invocations=invocations)
    if section == "package":
        from benchmarks import package

        return package.measure()
    if section == "peer":
        from benchmarks import peer

        interpreter = environments.peer(create=create)
        if interpreter is None:
            return {"skipped": "no Python 3.13 to build benchmarks/.venv-peer from"}
        return peer.measure(interpreter, iterations=500 if args.quick else 2000)
    raise ValueError(section)


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


# --- budgets and the table ------------------------------------------------------------------


def budgets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each budget (docs/protocol.md, section 12) with the figure measured for it."""
    rows: list[dict[str, Any]] = []

    def row(name: str, measured: str, limit: str, met: bool | None) -> None:
        rows.append({"budget": name, "measured": measured, "limit": limit, "met": met})

    cold = results.get("cold", {}).get("variants", {})
    for name, variant in cold.items():
        if "-" not in name:  # the standard variants (py313, py311), not nobytecode or proposals
            function, worst = max(variant["functions"].items(), key=lambda item: item[1]["import_ratio"])
            measured = f"{worst['import_ratio']:.2f}x ({function}: {worst['import_ms']:.0f} ms"
            cpu = variant.get("worst_import_cpu_ratio")
            row(
                f"cold start: worst handler import / import boto3 ({name})",
                f"{measured} vs {variant['boto3_import_ms']:.0f} ms)"
                + (f"; CPU time worst {cpu:.2f}x" if cpu is not None else ""),
                f"<= {COLD_BUDGET}x",
                worst["import_ratio"] <= COLD_BUDGET,
            )
    verify = results.get("warm", {}).get("operations", {}).get("verify")
    if verify:
        handler, floor = verify["handler_ms"]["median"], verify["floor_ms"]["median"]
        row(
            "warm verify / floor (medians)",
            f"{verify['ratio_median']:.2f}x ({handler:.2f} vs {floor:.2f} ms, +{verify['overhead_ms_median']:.2f} ms)",
            f"<= {WARM_VERIFY_BUDGET}x",
            verify["ratio_median"] <= WARM_VERIFY_BUDGET,
        )
    for operation, data in results.get("requests", {}).items():
        if not operation.startswith("_") and data.get("budget") is not None:
            row(f"DynamoDB requests: {operation}", str(data["requests"]), f"<= {data['budget']}", data["within_budget"])
    for name, data in results.get("memory", {}).get("interpreters", {}).items():
        row(
            f"peak RSS after {data['invocations']} verify invocations ({name})",
            f"{data['peak_mb']:.1f} MB",
            "< 110 MB",
            data["within_budget"],
        )
    package = results.get("package", {})
    if "deployed" in package:
        deployed = package["deployed"]
        row(
            "layer unzipped, without the runtime's SDK",
            f"{deployed['unzipped_mib']:.1f} MiB (bytecode {deployed['bytecode_mib']:.1f}, "
            f"native {deployed['extensions_mib']:.1f})",
            "< 15 MiB",
            package["within_budget"],
        )
    return rows


def render(results: dict[str, Any]) -> str:
    """The human-readable report: budgets first, then the figures behind them."""
    lines = ["", "BUDGETS (docs/protocol.md, section 12)"]
    for r in results["budgets"]:
        status = {True: "met", False: "NOT MET", None: "-"}[r["met"]]
        lines.append(f"  {status:8} {r['budget']:58} {r['measured']:64} {r['limit']}")
    renderers = {
        "cold": _render_cold,
        "warm": _render_warm,
        "requests": _render_requests,
        "memory": _render_memory,
        "package": _render_package,
        "peer": _render_peer,
        "cost": _render_cost,
    }
    for section, renderer in renderers.items():
        if section in results:
            lines += ["", *renderer(results[section])]
    lines += ["", f"seconds per section: {results['seconds']}"]
    return "\n".join(lines)


def _render_cold(cold: dict[str, Any]) -> list[str]:
    lines = [f"COLD START (median of {cold['runs']} fresh processes; ratio to the same interpreter's boto3)"]
    for name, variant in cold["variants"].items():
        first = variant["boto3_first_ms"]
        head = f"  [{name}] import boto3 {variant['boto3_import_ms']:.0f} ms"
        if "boto3_import_cpu_ms" in variant:
            head += f" (CPU {variant['boto3_import_cpu_ms']:.0f} ms)"
        lines.append(head + (f"; import boto3 + client + first GetItem {first:.0f} ms" if first else ""))
        for function, data in variant["functions"].items():
            text = f"    {function:22} import {data['import_ms']:6.0f} ms {data['import_ratio']:5.2f}x"
            text += f" (best {data['import_best_ratio']:4.2f}x"
            text += f", CPU {data['import_cpu_ratio']:4.2f}x)" if "import_cpu_ratio" in data else ")"
            if "first_ms" in data:
                text += f"   import + first invocation {data['first_ms']:6.0f} ms {data['first_ratio']:5.2f}x"
            lines.append(text)
        lines += [f"    FAILED: {failure}" for failure in variant.get("failures", [])]
        for function, trace in variant.get("importtime", {}).items():
            top = ", ".join(f"{p['package']} {p['self_ms']:.0f}" for p in trace["extra_by_package"][:7])
            lines.append(f"    -X importtime {function}: {trace['extra_ms']:.0f} ms beyond boto3's modules: {top}")
    return lines


def _render_warm(warm: dict[str, Any]) -> list[str]:
    lines = [
        f"WARM (ms; {warm['iterations']} iterations after {warm['warmup']} warm-up, handler and floor interleaved)",
        f"  {'operation':10} {'handler p50':>11} {'p99':>8} {'floor p50':>10} {'p99':>8} {'ratio':>6} {'overhead':>9}",
    ]
    for operation, data in warm["operations"].items():
        h, f = data["handler_ms"], data["floor_ms"]
        lines.append(
            f"  {operation:10} {h['median']:11.2f} {h['p99']:8.2f} {f['median']:10.2f} {f['p99']:8.2f} "
            f"{data['ratio_median']:6.2f} {data['overhead_ms_median']:+9.2f}"
            + (f"  ({len(data['retried'])} retried, not sampled)" if data.get("retried") else "")
        )
    return lines


def _render_requests(requests: dict[str, Any]) -> list[str]:
    lines = ["DYNAMODB REQUESTS per invocation (hooked on the functions' clients; request units from item sizes)"]
    for operation, data in requests.items():
        if operation.startswith("_"):
            continue
        reported = "-" if data["reported_capacity"] is None else f"{data['reported_capacity']:g}"
        lines.append(
            f"  {operation:15} {data['requests']} req  RRU {data['rru']:<4g} WRU {data['wru']:<4g} "
            f"reported {reported:4}  floor {data['floor_requests'] or '-'}  " + "; ".join(data["calls"])
        )
    lines.append(f"  note: {requests['_note']}")
    return lines


def _render_memory(memory: dict[str, Any]) -> list[str]:
    lines = ["MEMORY (verify function process)"]
    for name, data in memory["interpreters"].items():
        lines.append(
            f"  [{name}] after import {data['rss_after_import_mb']} MB, after first {data['rss_after_first_mb']} MB, "
            f"after {data['invocations']}: {data['rss_end_mb']} MB, peak {data['peak_mb']} MB"
        )
    return lines


def _render_package(package: dict[str, Any]) -> list[str]:
    if "deployed" not in package:
        return [f"LAYER SIZE: {package.get('skipped')}"]
    lines = ["LAYER SIZE (sam build, layers/devicekeys/Makefile)"]
    for name in ("deployed", "with_sdk"):
        data = package[name]
        largest = ", ".join(f"{e['name']} {e['mib']}" for e in data["largest"][:5])
        lines.append(
            f"  {name:9} {data['unzipped_mib']:6.2f} MiB unzipped, {data['zipped_mib']:5.2f} MiB zipped, "
            f"{data['files']} files; largest: {largest}"
        )
    if package.get("strip"):
        s = package["strip"]
        lines.append(
            f"  strip --strip-unneeded {s['extension']}: {s['before_mib']} -> {s['after_mib']} MiB (not applied)"
        )
    return lines


def _render_cost(cost: dict[str, Any]) -> list[str]:
    from benchmarks.cost import render

    return render(cost)


def _render_peer(peer: dict[str, Any]) -> list[str]:
    if "checks" not in peer:
        return [f"PEER: {peer.get('skipped')}"]
    lines = [f"PEER (one ES256 check, us, Python {peer['python']}, py_webauthn {peer['webauthn_version']})"]
    for name, data in peer["checks"].items():
        lines.append(f"  {name:26} median {data['median']:7.1f}  p99 {data['p99']:7.1f}")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
