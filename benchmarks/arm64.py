"""Run the ``sam build`` artifact on aarch64 CPython 3.13 under qemu user-mode emulation, laid out as Lambda does.

The layer is built on x86_64 from manylinux aarch64 wheels, with bytecode compiled for 3.13:
nothing on the build machine can load it. This check does, before anyone deploys it:

1. an aarch64 root holding Debian trixie's CPython 3.13 (Lambda's python3.13 is the same minor
   version, so the same bytecode format), from packages checked against the archive's signed
   index (cached in .cache/arm64/);
2. the AWS SDK the runtime ships and the layer leaves out: boto3 as requirements-dev.txt pins
   it, with its dependencies (cached);
3. a Lambda-like tree from zips of the artifacts, as ``sam deploy`` uploads them and Lambda
   unpacks them: /opt/python (the layer), /var/task per function, the SDK after them on sys.path;
4. moto's DynamoDB on loopback with the built template's tables;
5. per handler, a fresh emulated interpreter that imports it (a cold start's import), then one
   that drives challenge -> register -> verify -> block -> verify through the handlers
   (benchmarks/arm64_scenario.py). Both record every module compiled from source: with
   PYTHONDONTWRITEBYTECODE=1 (/opt is read-only on Lambda) a layer module compiled from
   source means its shipped bytecode did not load, and fails the check.

Exits non-zero, saying what could not load and why, when the root cannot be made, a handler
cannot be imported or a scenario step gets an unexpected answer. ``scripts/arm64-check``
installs qemu and runs ``sam build`` first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import lzma
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devicekeys_local.environment import Resolver, function_environment, local_table_names, resolve_parameters
from devicekeys_local.template import FunctionDefinition, create_tables, function_definitions

from .common import REGION, ROOT, dynamodb_client, free_port

CACHE_DIR = ROOT / ".cache" / "arm64"
SCENARIO = Path(__file__).with_name("arm64_scenario.py")
MIB = 1024 * 1024

DEBIAN_MIRROR = "https://deb.debian.org/debian/"
DEBIAN_SUITE = "trixie"  # CPython 3.13.5
PACKAGES_INDEX = "main/binary-arm64/Packages.xz"
DEBIAN_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
# What the interpreter, the stdlib extension modules the layer and the SDK load, and the layer's
# own extensions need. A fixed list rather than the packages' Depends, whose closure brings in
# tzdata, debconf, ncurses and more that nothing here loads.
ROOT_PACKAGES = (
    "python3.13-minimal",  # the interpreter
    "libpython3.13-minimal",  # the stdlib it needs to start
    "libpython3.13-stdlib",  # the rest of the stdlib and its extension modules
    "libc6",  # glibc and the loader, ld-linux-aarch64.so.1
    "libgcc-s1",  # libgcc_s, which cryptography's Rust extension links
    "zlib1g",  # zlib
    "libexpat1",  # pyexpat, for botocore's XML parsing
    "libssl3t64",  # _ssl and _hashlib
    "libzstd1",  # needed by libssl3t64
    "libffi8",  # _ctypes
    "libbz2-1.0",  # _bz2
    "liblzma5",  # _lzma
)
# Imported once the root is unpacked: a library missing from ROOT_PACKAGES would otherwise show
# as a silent fallback (hashlib without _hashlib) or as an ImportError deep inside a handler.
ROOT_EXTENSION_MODULES = ("_ssl", "_hashlib", "_ctypes", "_decimal", "_bz2", "_lzma", "zlib", "pyexpat")
ROOT_MARKER = ".arm64-root.json"  # written last: a root without it is incomplete
ROOT_INCOMPLETE = ".arm64-root-incomplete"  # written first: lets a rerun clear an interrupted root

RUNTIME_SDK_MARKER = ".complete"
# Compiling the stdlib or the SDK under emulation takes a minute or two. Serially: compileall -j
# starts a multiprocessing fork server, which fails under qemu-user.
COMPILE_TIMEOUT = 1800
LAYER = "DeviceKeysLayer"  # the template's layer, which every function mounts at /opt
# Lambda's python3.13 runtime, seen from a function: region, credentials (fake), execution env.
RUNTIME_ENVIRONMENT = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "TZ": ":UTC",
}
# For the interpreter itself. /opt and /var/task are read-only on Lambda, so no bytecode is ever
# written back: what runs is what the artifact ships, or source compiled at every cold start.
INTERPRETER_ENVIRONMENT = {"PYTHONDONTWRITEBYTECODE": "1"}


class CheckFailed(Exception):
    """The artifact, or what the check needs to run it, failed; the message says what and why."""


def log(message: str) -> None:
    print(message, flush=True)


# --- the arm64 root, from Debian's signed archive --------------------------------------------


@dataclass(frozen=True)
class DebianPackage:
    name: str
    version: str
    filename: str  # its path under the mirror root
    sha256: str


def fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - a fixed https mirror
            return bytes(response.read())
    except OSError as exc:
        raise CheckFailed(f"cannot download {url}: {exc}") from exc


def verified(data: bytes, sha256: str, what: str) -> bytes:
    """``data`` when its SHA256 is the one the index gives; anything else is refused."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256.lower():
        raise CheckFailed(f"{what}: SHA256 is {actual}, the index says {sha256}; refusing it")
    return data


def signed_release_text(in_release: bytes, keyring: Path = DEBIAN_KEYRING) -> str:
    """The signed part of an InRelease file, once gpgv has checked it against the Debian archive keys."""
    gpgv = shutil.which("gpgv")
    if gpgv is None or not keyring.exists():
        raise CheckFailed(
            f"gpgv and {keyring} are needed to check the archive (apt-get install gpgv debian-archive-keyring)"
        )
    with tempfile.TemporaryDirectory(prefix="arm64-release-") as tmp:
        signed = Path(tmp) / "InRelease"
        signed.write_bytes(in_release)
        completed = subprocess.run(
            [gpgv, "--quiet", "--keyring", str(keyring), "--output", "-", str(signed)],
            capture_output=True,
            check=False,
        )
    if completed.returncode != 0:
        raise CheckFailed(f"the {DEBIAN_SUITE} InRelease signature does not verify: {completed.stderr.decode()}")
    return completed.stdout.decode()


def release_sha256(release_text: str) -> dict[str, str]:
    """Index path -> SHA256, from the ``SHA256:`` section of a Release file."""
    digests: dict[str, str] = {}
    in_section = False
    for line in release_text.splitlines():
        if not line.startswith(" "):
            in_section = line.rstrip() == "SHA256:"
        elif in_section:
            digest, _size, path = line.split()
            digests[path] = digest
    return digests


def parse_packages_index(text: str, wanted: Collection[str]) -> dict[str, DebianPackage]:
    """The entries of ``wanted`` in a Packages index: one paragraph per package, ``Package:`` first."""
    found: dict[str, DebianPackage] = {}
    for paragraph in text.split("\n\n"):
        name = paragraph.lstrip("\n").partition("\n")[0].removeprefix("Package: ")
        if name not in wanted or name in found:
            continue
        fields = {}
        for line in paragraph.splitlines():
            key, separator, value = line.partition(":")
            if separator and not line[0].isspace():
                fields[key] = value.strip()
        found[name] = DebianPackage(name, fields["Version"], fields["Filename"], fields["SHA256"])
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise CheckFailed(f"Debian {DEBIAN_SUITE} arm64 has no package {', '.join(missing)}")
    return found


def debian_packages(names: Sequence[str]) -> list[DebianPackage]:
    """``names`` as the signed index lists them: InRelease (gpgv) -> Packages.xz (SHA256) -> entries."""
    release = signed_release_text(fetch(f"{DEBIAN_MIRROR}dists/{DEBIAN_SUITE}/InRelease"))
    index_sha256 = release_sha256(release).get(PACKAGES_INDEX)
    if index_sha256 is None:
        raise CheckFailed(f"the {DEBIAN_SUITE} Release file lists no {PACKAGES_INDEX}")
    index_url = f"{DEBIAN_MIRROR}dists/{DEBIAN_SUITE}/{PACKAGES_INDEX}"
    index = lzma.decompress(verified(fetch(index_url), index_sha256, index_url)).decode()
    entries = parse_packages_index(index, names)
    return [entries[name] for name in names]


@dataclass(frozen=True)
class Emulator:
    """The root's python3.13 under qemu-aarch64-static; ``-L`` makes the root the guest's / for libraries."""

    qemu: str
    root: Path

    @property
    def python(self) -> list[str]:
        return [self.qemu, "-L", str(self.root), str(self.root / "usr" / "bin" / "python3.13")]

    def run(self, args: list[str], *, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
        command = [*self.python, *args]
        try:
            return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise CheckFailed(f"no answer in {timeout:.0f} s under emulation: {' '.join(args)[:200]}") from exc

    def run_checked(self, args: list[str], *, what: str, timeout: float) -> None:
        completed = self.run(args, env=INTERPRETER_ENVIRONMENT, timeout=timeout)
        if completed.returncode != 0:
            raise CheckFailed(f"{what} failed under emulation:\n{tail(completed.stderr or completed.stdout)}")


def find_qemu() -> str:
    qemu = shutil.which("qemu-aarch64-static")
    if qemu is None:
        raise CheckFailed(
            "qemu-aarch64-static is not installed (apt-get install qemu-user-static; scripts/arm64-check does)"
        )
    return qemu


def root_is_ready(root: Path) -> bool:
    marker = root / ROOT_MARKER
    return marker.exists() and set(json.loads(marker.read_text())["packages"]) == set(ROOT_PACKAGES)


def make_root(emulator: Emulator, *, timeout: float) -> None:
    """Unpack ROOT_PACKAGES into the emulator's root, prove its extension modules load, compile its stdlib.

    The stdlib is compiled once, by the emulated interpreter itself, as Lambda's image ships it:
    with PYTHONDONTWRITEBYTECODE=1 every run would otherwise compile it again from source.
    """
    root = emulator.root
    if root_is_ready(root):
        return
    if root.exists() and any(root.iterdir()) and not (root / ROOT_INCOMPLETE).exists():
        raise CheckFailed(f"{root} exists and is not an arm64 root this check made: choose another --root")
    dpkg_deb = shutil.which("dpkg-deb")
    if dpkg_deb is None:
        raise CheckFailed("dpkg-deb is needed to unpack the Debian packages")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / ROOT_INCOMPLETE).touch()
    log(f"making the arm64 root {root} from Debian {DEBIAN_SUITE}: {', '.join(ROOT_PACKAGES)}")
    started = time.perf_counter()
    packages = debian_packages(ROOT_PACKAGES)
    with tempfile.TemporaryDirectory(prefix="arm64-debs-") as tmp:
        for package in packages:
            deb = Path(tmp) / Path(package.filename).name
            deb.write_bytes(verified(fetch(DEBIAN_MIRROR + package.filename), package.sha256, package.filename))
            unpacked = subprocess.run(
                [dpkg_deb, "-x", str(deb), str(root)], capture_output=True, text=True, check=False
            )
            if unpacked.returncode != 0:
                raise CheckFailed(f"dpkg-deb cannot unpack {deb.name}: {unpacked.stderr}")
    (root / "lib").symlink_to("usr/lib")  # usrmerge: the loader is looked up as /lib/ld-linux-aarch64.so.1
    extensions = f"import {', '.join(ROOT_EXTENSION_MODULES)}"
    emulator.run_checked(["-c", extensions], what="importing the stdlib's extension modules", timeout=timeout)
    stdlib = root / "usr" / "lib" / "python3.13"
    emulator.run_checked(["-m", "compileall", "-q", str(stdlib)], what="compiling the stdlib", timeout=COMPILE_TIMEOUT)
    versions = {package.name: package.version for package in packages}
    (root / ROOT_MARKER).write_text(json.dumps({"suite": DEBIAN_SUITE, "packages": versions}, indent=2) + "\n")
    (root / ROOT_INCOMPLETE).unlink()
    log(f"  made in {time.perf_counter() - started:.0f} s (Python {versions['python3.13-minimal']})")


# --- the runtime's SDK ---------------------------------------------------------------------------


def requirement_pins(requirements: Path) -> dict[str, str]:
    """The ``name==version`` pins of a requirements file and of the files it includes with ``-r``."""
    pins: dict[str, str] = {}
    for raw_line in requirements.read_text().splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            pins |= requirement_pins(requirements.parent / line.split(maxsplit=1)[1])
            continue
        name, separator, version = line.partition("==")
        if separator:
            pins[name.split("[", 1)[0].strip().lower()] = version.strip()
    return pins


def pinned_version(package: str, requirements: Path = ROOT / "requirements-dev.txt") -> str:
    version = requirement_pins(requirements).get(package)
    if version is None:
        raise CheckFailed(f"{requirements.name} and the files it includes do not pin {package}")
    return version


def runtime_sdk(emulator: Emulator) -> Path:
    """boto3 and its dependencies, unpacked and compiled: the runtime's own site-packages.

    botocore is pinned to boto3's version: they are released in lockstep, and boto3 requires at
    least its own botocore, which is the pair a runtime image ships.
    """
    version = pinned_version("boto3")
    target = CACHE_DIR / f"runtime-sdk-boto3-{version}"
    if (target / RUNTIME_SDK_MARKER).exists():
        return target
    log(f"making the runtime SDK {target.relative_to(ROOT)}: boto3=={version}, botocore=={version}")
    started = time.perf_counter()
    shutil.rmtree(target, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="arm64-wheels-") as wheels:
        completed = subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                "--only-binary=:all:", "--platform", "manylinux2014_aarch64", "--python-version", "3.13",
                "--implementation", "cp", "--dest", wheels, f"boto3=={version}", f"botocore=={version}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if completed.returncode != 0:
            raise CheckFailed(f"pip download of boto3=={version} failed:\n{tail(completed.stderr)}")
        for wheel in sorted(Path(wheels).glob("*.whl")):
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(target)
    emulator.run_checked(["-m", "compileall", "-q", str(target)], what="compiling the SDK", timeout=COMPILE_TIMEOUT)
    (target / RUNTIME_SDK_MARKER).touch()
    log(f"  made in {time.perf_counter() - started:.0f} s")
    return target


# --- the Lambda-like tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class LambdaTree:
    """A temporary directory laid out as Lambda's execution environment."""

    base: Path

    @property
    def opt(self) -> Path:
        return self.base / "opt"

    @property
    def runtime_site_packages(self) -> Path:
        return self.base / "var" / "lang" / "lib" / "python3.13" / "site-packages"

    def task_root(self, logical_id: str) -> Path:
        return self.base / "var" / "task" / logical_id


@contextmanager
def lambda_tree(*, keep: bool) -> Iterator[LambdaTree]:
    base = Path(tempfile.mkdtemp(prefix="arm64-lambda-"))
    try:
        yield LambdaTree(base)
    finally:
        if keep:
            log(f"kept the Lambda tree in {base}")
        else:
            shutil.rmtree(base)


def zip_round_trip(source: Path, target: Path) -> int:
    """Zip ``source`` as ``sam deploy`` uploads it and unzip it into ``target`` as Lambda does; the zip's size.

    The copy has the timestamps an unzip gives, not the build's: bytecode that only matched the
    build's timestamps would be stale here, as on Lambda.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    archive_path = target.with_name(target.name + ".zip")
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(source))
    with zipfile.ZipFile(archive_path) as archive:
        archive.extractall(target)
    size = archive_path.stat().st_size
    archive_path.unlink()
    return size


@dataclass(frozen=True)
class LayerSize:
    files: int
    unzipped_bytes: int  # apparent bytes, as Lambda counts its 250 MB limit
    zipped_bytes: int


def lay_out(tree: LambdaTree, layer: Path, functions: list[FunctionDefinition], sdk: Path) -> LayerSize:
    """The layer at /opt, each function at its own /var/task, the SDK as the runtime's site-packages."""
    zipped = zip_round_trip(layer, tree.opt)
    for function in functions:
        zip_round_trip(function.code_dir, tree.task_root(function.logical_id))
    tree.runtime_site_packages.parent.mkdir(parents=True)
    tree.runtime_site_packages.symlink_to(sdk, target_is_directory=True)
    files = [path for path in (layer / "python").rglob("*") if path.is_file()]
    return LayerSize(len(files), sum(path.stat().st_size for path in files), zipped)


# --- DynamoDB and the functions' environment ------------------------------------------------------


@contextmanager
def local_dynamodb(template: Path, table_names: dict[str, str]) -> Iterator[str]:
    """moto's DynamoDB in this process on loopback, with the template's tables; yields its URL.

    This process only waits while the emulated functions run, so the server's threads have it.
    """
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        create_tables(dynamodb_client(endpoint), table_names, template)
        yield endpoint
    finally:
        server.stop()


def lambda_environments(template: Path, table_names: dict[str, str], endpoint: str) -> dict[str, dict[str, str]]:
    """Per function, the variables Lambda would give it, pointed at the local DynamoDB.

    The template's (Globals, then the function's own) resolved with the parameters' defaults,
    then the runtime's. Resources other than the tables resolve to their logical ids: the state
    machines JOURNEY_STATE_MACHINES names are never started here.
    """
    resolver = Resolver(parameters=resolve_parameters(path=template), physical_ids=table_names, path=template)
    return {
        function.logical_id: {
            **function_environment(function.logical_id, resolver),
            **RUNTIME_ENVIRONMENT,
            "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
            "DYNAMODB_ENDPOINT": endpoint,
        }
        for function in function_definitions(template)
    }


def scenario_spec(
    tree: LambdaTree, functions: list[FunctionDefinition], environments: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """What arm64_scenario.py reads: where the tree is, and each function's handler, routes and environment."""
    return {
        "opt_python": str(tree.opt / "python"),
        "runtime_site_packages": str(tree.runtime_site_packages),
        "functions": [
            {
                "name": function.logical_id,
                "task_root": str(tree.task_root(function.logical_id)),
                "module": function.module,
                "handler": function.handler,
                "routes": [f"{route.method} {route.path}" for route in function.routes],
                "environment": environments[function.logical_id],
            }
            for function in functions
        ],
    }


# --- runs under emulation -------------------------------------------------------------------------

REPORT_KEYS = ("import", "step", "summary")


def scenario_lines(stdout: str) -> list[dict[str, Any]]:
    """arm64_scenario.py's own JSON lines; the handlers' Powertools logs and metrics are JSON lines too."""
    lines = []
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and any(key in document for key in REPORT_KEYS):
            lines.append(document)
    return lines


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def compiled_by_place(paths: list[str], tree: LambdaTree) -> dict[str, list[str]]:
    """Modules compiled from source, by where they live: the layer, a function's code, or the runtime."""
    places: dict[str, list[str]] = {"layer": [], "function": [], "runtime": []}
    for path in paths:
        resolved = Path(path)
        if resolved.is_relative_to(tree.opt):
            places["layer"].append(str(resolved.relative_to(tree.opt)))
        elif resolved.is_relative_to(tree.base / "var" / "task"):
            places["function"].append(str(resolved.relative_to(tree.base / "var" / "task")))
        else:
            places["runtime"].append(path)
    return places


@dataclass(frozen=True)
class Run:
    lines: list[dict[str, Any]]
    process_ms: float
    failure: str | None  # why it failed, with the end of its output


def run_emulated(emulator: Emulator, spec_path: Path, args: list[str], *, timeout: float) -> Run:
    """arm64_scenario.py in a fresh emulated interpreter (-s: no user site, -P: not its own directory on sys.path)."""
    start = time.perf_counter()
    completed = emulator.run(
        ["-s", "-P", str(SCENARIO), str(spec_path), *args], env=INTERPRETER_ENVIRONMENT, timeout=timeout
    )
    process_ms = (time.perf_counter() - start) * 1000
    lines = scenario_lines(completed.stdout)
    failure = None
    if completed.returncode != 0:
        summary = next((line["summary"] for line in reversed(lines) if "summary" in line), {})
        output = tail(completed.stderr) or tail(completed.stdout)
        reason = summary.get("error") or (output.splitlines() or [f"exit status {completed.returncode}"])[-1]
        failure = f"{reason}\n{output}"
    return Run(lines, process_ms, failure)


def bytecode_problems(result: dict[str, Any], places: dict[str, list[str]]) -> list[str]:
    """Why a run does not prove the layer's bytecode loads on aarch64, if it does not."""
    problems = []
    if result["machine"] != "aarch64":
        problems.append(f"ran on {result['machine']}, not aarch64")
    if not result["dont_write_bytecode"]:
        problems.append("PYTHONDONTWRITEBYTECODE was not in effect")
    if places["layer"]:
        shown = ", ".join(places["layer"][:5])
        problems.append(f"{len(places['layer'])} layer modules compiled from source, their .pyc unusable: {shown}")
    return problems


def import_each_handler(
    emulator: Emulator, spec_path: Path, tree: LambdaTree, names: list[str], *, timeout: float
) -> list[str]:
    """Import every handler in its own fresh emulated interpreter; print a row each; the failures."""
    log("\nhandler imports, one fresh emulated interpreter each (process: from exec to exit):")
    failures = []
    for name in names:
        run = run_emulated(emulator, spec_path, ["import", name], timeout=timeout)
        if run.failure:
            failures.append(f"{name} cannot be imported: {run.failure}")
            log(f"  {name:<28} FAILED")
            continue
        result = run.lines[-1]
        places = compiled_by_place(result["compiled_from_source"], tree)
        failures += [f"{name}: {problem}" for problem in bytecode_problems(result, places)]
        log(
            f"  {name:<28} import {result['import_ms']:7.0f} ms   process {run.process_ms:7.0f} ms   "
            f"{result['layer_modules']} layer modules; compiled from source: {len(places['layer'])} layer, "
            f"{len(places['function'])} function, {len(places['runtime'])} runtime"
        )
    return failures


def run_scenario(emulator: Emulator, spec_path: Path, tree: LambdaTree, *, timeout: float) -> None:
    log("\nscenario, one emulated interpreter: every handler imported in turn (the first pays for what they share):")
    run = run_emulated(emulator, spec_path, ["scenario"], timeout=timeout)
    for line in run.lines:
        if "import" in line:
            log(f"  import {line['import']:<28} {line['import_ms']:7.0f} ms")
        elif "step" in line:
            answer = f"{line['status']} (expected {line['expected']})"
            log(f"  {line['step']:<22} {line['function']:<28} {answer} {line['ms']:7.0f} ms")
    if run.failure:
        raise CheckFailed(f"the scenario failed under emulation: {run.failure}")
    summary = run.lines[-1]["summary"]  # what the whole process compiled: the imports, and the steps' lazy imports
    problems = bytecode_problems(summary, compiled_by_place(summary["compiled_from_source"], tree))
    if problems:
        raise CheckFailed("the scenario ran, but " + "; ".join(problems))
    log(
        f"  {summary['steps']} steps as expected in {summary['steps_ms']:.0f} ms; process {run.process_ms:.0f} ms "
        f"(CPython {summary['python']} on {summary['machine']}, {summary['layer_modules']} layer modules loaded)"
    )


# --- the check ------------------------------------------------------------------------------------


def check(build_dir: Path, root: Path, *, keep: bool, timeout: float) -> None:
    template = build_dir / "template.yaml"
    layer = build_dir / LAYER
    if not template.exists() or not (layer / "python").is_dir():
        raise CheckFailed(f"no sam build output in {build_dir}: run sam build (scripts/arm64-check does)")
    emulator = Emulator(find_qemu(), root)
    make_root(emulator, timeout=timeout)
    sdk = runtime_sdk(emulator)
    functions = function_definitions(template)
    table_names = local_table_names("arm64", template)
    with lambda_tree(keep=keep) as tree, local_dynamodb(template, table_names) as endpoint:
        size = lay_out(tree, layer, functions, sdk)
        log(
            f"layer {layer / 'python'}: {size.files} files, {size.unzipped_bytes / MIB:.1f} MiB unzipped, "
            f"{size.zipped_bytes / MIB:.1f} MiB zipped"
        )
        spec_path = tree.base / "spec.json"
        environments = lambda_environments(template, table_names, endpoint)
        spec_path.write_text(json.dumps(scenario_spec(tree, functions, environments), indent=2))
        names = [function.logical_id for function in functions]
        failures = import_each_handler(emulator, spec_path, tree, names, timeout=timeout)
        if failures:
            raise CheckFailed("\n".join(failures))
        run_scenario(emulator, spec_path, tree, timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam" / "build", help="sam build's output")
    parser.add_argument("--root", type=Path, default=CACHE_DIR / "root", help="the arm64 root (made when missing)")
    parser.add_argument("--keep", action="store_true", help="keep the Lambda tree (its path is printed)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds for each emulated interpreter")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        check(args.build_dir.resolve(), args.root.resolve(), keep=args.keep, timeout=args.timeout)
    except CheckFailed as exc:
        print(f"\narm64 check FAILED: {exc}", file=sys.stderr)
        return 1
    log(f"\narm64 check passed in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
