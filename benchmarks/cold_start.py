"""Cold start: importing each handler as Lambda does, against ``import boto3``, in fresh processes.

Each sample is a new interpreter (``-I``: no user site, no PYTHON* variables) that puts the
function's directory and the layer on ``sys.path`` in Lambda's order (/var/task, then
/opt/python; the venv's site-packages stands for the layer's libraries and the runtime's
boto3), imports ``app`` and, for "import + first invocation", invokes ``lambda_handler`` once
with a real API Gateway event against the local DynamoDB, which is when the PynamoDB models
and the botocore client are built. Targets are interleaved round-robin so drift on a busy
machine spreads over all of them; ratios compare medians taken in the same run.

Variants:
- the layer as the Makefile builds it (bytecode shipped, boto3/botocore from the runtime),
  under Python 3.13 (Lambda's runtime) and the project's 3.11;
- ``nobytecode``: the layer as the python3.13 BuildMethod built it (no .pyc anywhere and
  botocore inside the layer, shadowing the runtime's): /opt is read-only on Lambda, so every
  cold start compiles every module from source;
- ``proposed``: the layer's libraries with a proposed build step (benchmarks/proposals/*.py)
  applied to a copy.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import FUNCTIONS_DIR, LAYER_DIR, ROOT, Summary, lambda_environment, local_dynamodb, run_json
from .environments import Interpreter

CHILD = r"""
import json, os, sys, time
spec = json.loads(sys.argv[1])

class Context:
    function_name = "bench"; function_version = "$LATEST"; memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    def get_remaining_time_in_millis(self): return 10000

out = {}
if spec["target"] == "boto3":
    start, cpu = time.perf_counter(), time.process_time()
    import boto3
    out["import_ms"] = (time.perf_counter() - start) * 1000
    out["import_cpu_ms"] = (time.process_time() - cpu) * 1000
    if spec.get("get_item"):
        client = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT"])
        client.get_item(**spec["get_item"])
        out["first_ms"] = (time.perf_counter() - start) * 1000
else:
    sys.path[:0] = [spec["function_dir"], *spec["layer_paths"]]
    start, cpu = time.perf_counter(), time.process_time()
    import app
    out["import_ms"] = (time.perf_counter() - start) * 1000
    out["import_cpu_ms"] = (time.process_time() - cpu) * 1000
    if spec.get("event"):
        with open(spec["event"]) as handle:
            event = json.load(handle)
        response = app.lambda_handler(event, Context())
        out["first_ms"] = (time.perf_counter() - start) * 1000
        out["status"] = response.get("statusCode")
out["modules"] = len(sys.modules)
print(json.dumps(out))
"""


@dataclass
class Variant:
    """One way of loading the layer: an interpreter, extra flags and the layer's paths."""

    name: str
    python: str
    layer_paths: list[str]
    flags: list[str] = field(default_factory=list)
    function_root: Path = FUNCTIONS_DIR
    first_invocation: bool = True
    functions: Sequence[str] | None = None  # None: every function
    reference_python: str | None = None  # boto3's interpreter, when not ``python``


def function_dirs() -> list[str]:
    """Every handler the template deploys from functions/: functions/*/app.py."""
    return sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/app.py"))


def _operation_of(function_dir: str) -> str | None:
    from .scenario import FUNCTION_DIR_OF

    return next((op for op, d in FUNCTION_DIR_OF.items() if d == function_dir), None)


def _spawn(variant: Variant, target: str, env: dict[str, str], extra: dict[str, Any], importtime: bool = False) -> Any:
    spec = {"target": target, **extra}
    python, flags = variant.python, ["-I", *variant.flags]
    if target == "boto3":
        python, flags = variant.reference_python or python, ["-I"] if variant.reference_python else flags
    else:
        spec["function_dir"] = str(variant.function_root / target)
        spec["layer_paths"] = variant.layer_paths
    if importtime:
        flags += ["-X", "importtime"]
    command = [python, *flags, "-c", CHILD, json.dumps(spec)]
    if not importtime:
        return run_json(command, env=env)
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=True, cwd=ROOT)
    return completed.stderr


# --- importtime -------------------------------------------------------------------------

_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def parse_importtime(stderr: str) -> list[tuple[str, int, int, int]]:
    """(module, self_us, cumulative_us, depth) for each import in ``-X importtime`` output."""
    rows = []
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match:
            rows.append((match[4], int(match[1]), int(match[2]), len(match[3]) // 2))
    return rows


def _parents(rows: list[tuple[str, int, int, int]]) -> dict[str, str | None]:
    """Who imported each module first (importtime prints children before their parent)."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for name, _, _, depth in reversed(rows):
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def contributors(handler: str, boto3: str, top: int = 12) -> dict[str, Any]:
    """What a handler imports beyond ``import boto3``: self time by top-level package, and why."""
    rows, base = parse_importtime(handler), {name for name, *_ in parse_importtime(boto3)}
    parents = _parents(rows)
    extra = [row for row in rows if row[0] not in base]
    by_package: collections.Counter[str] = collections.Counter()
    first_importer: dict[str, str] = {}
    for name, self_us, _, _ in extra:
        package = name.split(".")[0]
        by_package[package] += self_us
        if package not in first_importer:
            chain, parent = [], parents.get(name)
            while parent and len(chain) < 4:
                chain.append(parent)
                parent = parents.get(parent)
            first_importer[package] = " <- ".join([name, *chain])
    return {
        "handler_total_ms": round(sum(r[1] for r in rows) / 1000, 1),
        "boto3_total_ms": round(sum(r[1] for r in parse_importtime(boto3)) / 1000, 1),
        "extra_ms": round(sum(r[1] for r in extra) / 1000, 1),
        "extra_by_package": [
            {"package": package, "self_ms": round(us / 1000, 1), "via": first_importer[package]}
            for package, us in by_package.most_common(top)
        ],
    }


# --- variants ---------------------------------------------------------------------------


def _copy_without_bytecode(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)


def _site_packages(interpreter: Interpreter) -> Path:
    out = subprocess.run(
        [str(interpreter.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


@contextmanager
def nobytecode_variant(interpreter: Interpreter) -> Iterator[Variant]:
    """The layer as .py only, botocore included, loaded by the bare interpreter with -B."""
    site = _site_packages(interpreter)
    base = subprocess.run(
        [str(interpreter.python), "-c", "import sys; print(sys._base_executable)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-nopyc-") as tmp:
        opt, task = Path(tmp) / "opt", Path(tmp) / "task"
        _copy_without_bytecode(site, opt)
        _copy_without_bytecode(LAYER_DIR / "devicekeys", opt / "devicekeys")
        _copy_without_bytecode(FUNCTIONS_DIR, task)
        yield Variant(
            name=f"{interpreter.name}-nobytecode",
            python=base,
            layer_paths=[str(opt)],
            flags=["-S", "-B"],
            function_root=task,
            first_invocation=False,
            functions=["verify_device_key", "get_device_key"],
            reference_python=str(interpreter.python),
        )


@contextmanager
def proposed_variant(interpreter: Interpreter, proposal: Path) -> Iterator[Variant]:
    """A proposal applied to copies: a ``.diff`` to the layer's code, a ``.py`` build step to its libraries.

    A ``.py`` proposal is a script run on a copy of the interpreter's site-packages (how a
    Makefile step would change the built layer), which is then byte-compiled.
    """
    python = str(interpreter.python)
    with tempfile.TemporaryDirectory(prefix="bench-proposed-") as tmp:
        copy = Path(tmp)
        layer_paths = [str(copy / "layers" / "devicekeys")]
        shutil.copytree(LAYER_DIR, copy / "layers" / "devicekeys", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(FUNCTIONS_DIR, copy / "functions", ignore=shutil.ignore_patterns("__pycache__"))
        if proposal.suffix == ".diff":
            git = shutil.which("git")
            if git is None:
                raise RuntimeError("git is needed to apply a .diff proposal")
            subprocess.run([git, "apply", str(proposal.resolve())], cwd=copy, check=True)
        else:
            site = copy / "site-packages"
            shutil.copytree(_site_packages(interpreter), site)
            subprocess.run([python, str(proposal.resolve()), str(site)], check=True)
            layer_paths.insert(0, str(site))
        subprocess.run([python, "-m", "compileall", "-q", str(copy)], check=True)
        yield Variant(
            name=f"{interpreter.name}-proposed:{proposal.stem}",
            python=python,
            layer_paths=layer_paths,
            function_root=copy / "functions",
        )


def standard_variant(interpreter: Interpreter) -> Variant:
    return Variant(name=interpreter.name, python=str(interpreter.python), layer_paths=[str(LAYER_DIR)])


# --- measurement --------------------------------------------------------------------------


def measure(
    interpreters: Sequence[Interpreter],
    *,
    runs: int = 5,
    proposals: Sequence[Path] = (),
    nobytecode: bool = True,
    importtime_runs: int = 3,
) -> dict[str, Any]:
    """Median import and import + first invocation per function and variant, with boto3's.

    Every run spawns each (variant, target) once, round-robin, so a slow moment of a shared
    machine hits all variants alike; ratios are taken between medians of the same variant.
    """
    import contextlib
    import warnings

    from .scenario import Workbench

    results: dict[str, Any] = {"runs": runs, "variants": {}}
    with local_dynamodb() as endpoint, tempfile.TemporaryDirectory(prefix="bench-events-") as events_dir:
        os.environ.update(lambda_environment(endpoint))
        env = {"PATH": os.environ.get("PATH", ""), **lambda_environment(endpoint)}
        warnings.simplefilter("ignore")
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            bench = Workbench(prefix="cold")
            bench.setup()
        get_item = {
            "TableName": env["DEVICE_KEYS_TABLE"],
            "Key": {"user_id": {"S": bench.user}, "key_id": {"S": bench.key_id}},
            "ConsistentRead": True,
        }
        serial = iter(range(1_000_000))
        rotations: dict[str, Any] = {}

        def extra_for(variant: Variant, target: str) -> dict[str, Any]:
            """A fresh first-invocation event (a new challenge, a key to delete) per child."""
            if not variant.first_invocation:
                return {}
            if target == "boto3":
                return {"get_item": get_item}
            operation = _operation_of(target)
            if operation is None:
                return {}
            with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
                prepared = bench.prepare(operation)
            if operation == "rotate":
                rotations[target] = prepared  # the child rotates: the next proof must come from the new key
            path = Path(events_dir) / f"{next(serial)}.json"
            path.write_text(json.dumps(prepared.event))
            return {"event": str(path)}

        with contextlib.ExitStack() as stack:
            variants = [standard_variant(i) for i in interpreters]
            if nobytecode:
                variants += [stack.enter_context(nobytecode_variant(i)) for i in interpreters if i.name == "py313"]
            for proposal in proposals:
                variants += [stack.enter_context(proposed_variant(interpreters[0], proposal))]
            samples: dict[tuple[str, str], dict[str, list[float]]] = collections.defaultdict(
                lambda: {"import": [], "import_cpu": [], "first": []}
            )
            failures: dict[str, list[str]] = collections.defaultdict(list)
            for run in range(runs):
                print(f"[cold] run {run + 1}/{runs}", file=sys.stderr)
                for variant in variants:
                    for target in ["boto3", *(variant.functions or function_dirs())]:
                        out = _spawn(variant, target, env, extra_for(variant, target))
                        sample = samples[(variant.name, target)]
                        sample["import"].append(out["import_ms"])
                        sample["import_cpu"].append(out["import_cpu_ms"])
                        if "first_ms" in out:
                            sample["first"].append(out["first_ms"])
                        if (out.get("status") or 0) >= 400:
                            failures[variant.name].append(f"{target}: first invocation returned {out['status']}")
                        rotated = rotations.pop(target, None)
                        if rotated is not None and out.get("status") == 200:
                            bench.rotating_device = rotated.device
            for variant in variants:
                results["variants"][variant.name] = _summarise(variant, samples, failures[variant.name])
            for interpreter in interpreters:
                variant = standard_variant(interpreter)
                results["variants"][variant.name]["importtime"] = _importtime(variant, env, importtime_runs)
    return results


def _importtime(variant: Variant, env: dict[str, str], runs: int) -> dict[str, Any]:
    """Top contributors beyond ``import boto3``, from the median of ``runs`` traced imports."""
    traces: dict[str, Any] = {}
    for function_dir in ("verify_device_key", "get_device_key"):
        reports = [
            contributors(
                _spawn(variant, function_dir, env, {}, importtime=True),
                _spawn(variant, "boto3", env, {}, importtime=True),
            )
            for _ in range(runs)
        ]
        reports.sort(key=lambda report: report["extra_ms"])
        traces[function_dir] = reports[len(reports) // 2]
    return traces


def _summarise(
    variant: Variant, samples: dict[tuple[str, str], dict[str, list[float]]], failures: list[str]
) -> dict[str, Any]:
    boto3 = samples[(variant.name, "boto3")]
    boto3_import = Summary.of(boto3["import"]).median
    boto3_best = min(boto3["import"])
    boto3_cpu = Summary.of(boto3["import_cpu"]).median
    boto3_first = Summary.of(boto3["first"]).median if boto3["first"] else None
    functions: dict[str, Any] = {}
    for target in variant.functions or function_dirs():
        sample = samples[(variant.name, target)]
        imported = Summary.of(sample["import"]).median
        row: dict[str, Any] = {
            "import_ms": round(imported, 1),
            "import_ratio": round(imported / boto3_import, 3),
            # Fastest against fastest: the figure least moved by other work on a shared machine.
            "import_best_ratio": round(min(sample["import"]) / boto3_best, 3),
            # CPU time of the importing process: what waiting for a busy CPU does not inflate.
            "import_cpu_ms": round(Summary.of(sample["import_cpu"]).median, 1),
            "import_cpu_ratio": round(Summary.of(sample["import_cpu"]).median / boto3_cpu, 3),
        }
        if sample["first"]:
            first = Summary.of(sample["first"]).median
            row["first_ms"] = round(first, 1)
            row["first_ratio"] = round(first / boto3_first, 3) if boto3_first else None
        functions[target] = row
    return {
        "python": variant.python,
        "boto3_import_ms": round(boto3_import, 1),
        "boto3_import_cpu_ms": round(boto3_cpu, 1),
        "boto3_first_ms": None if boto3_first is None else round(boto3_first, 1),
        "functions": functions,
        "worst_import_ratio": max(row["import_ratio"] for row in functions.values()),
        "worst_import_cpu_ratio": max(row["import_cpu_ratio"] for row in functions.values()),
        "failures": failures,
    }
