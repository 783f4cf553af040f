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

The scenario then imports every module the layer's code and the handlers import inside
functions (found in their source, as layers/devicekeys/slim_layer.py finds them), which the
steps do not all reach: the event publisher's Powertools idempotency, boto3 for journeys.

Exits non-zero, saying what could not load and why, when the root cannot be made, a handler
cannot be imported or a scenario step gets an unexpected answer. ``scripts/arm64-check``
installs qemu and runs ``sam build`` first.

``--measure`` builds the layer once per slimming step (slim_layer.py's, cumulatively), for
aarch64 and for this machine's x86-64, and reports each one's size (unzipped and zipped) and
each handler's import time, natively and under emulation (docs/arm64.md).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import lzma
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import types
import urllib.request
import zipfile
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from devicekeys_local.environment import Resolver, function_environment, local_table_names, resolve_parameters
from devicekeys_local.template import FunctionDefinition, create_tables, function_definitions

from .common import REGION, RESULTS_DIR, ROOT, dynamodb_client, free_port

CACHE_DIR = ROOT / ".cache" / "arm64"
SCENARIO = Path(__file__).with_name("arm64_scenario.py")
LAYER_SOURCE = ROOT / "layers" / "devicekeys"
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


@dataclass(frozen=True)
class Native:
    """This machine's CPython 3.13 (the project's .venv), to compare with the emulated one."""

    python: str = sys.executable
    flags: tuple[str, ...] = ()

    def run(self, args: list[str], *, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
        command = [self.python, *self.flags, *args]
        try:
            return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise CheckFailed(f"no answer in {timeout:.0f} s: {' '.join(args)[:200]}") from exc


class Interpreter(Protocol):
    def run(self, args: list[str], *, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]: ...


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


def runtime_sdk(emulator: Emulator, cache: Path = CACHE_DIR) -> Path:
    """boto3 and its dependencies, unpacked and compiled: the runtime's own site-packages.

    botocore is pinned to boto3's version: they are released in lockstep, and boto3 requires at
    least its own botocore, which is the pair a runtime image ships. Their bytecode, compiled by
    the emulated 3.13, loads in any CPython 3.13 (one magic number per minor version).
    """
    version = pinned_version("boto3")
    target = cache / f"runtime-sdk-boto3-{version}"
    if (target / RUNTIME_SDK_MARKER).exists():
        return target
    log(f"making the runtime SDK {target}: boto3=={version}, botocore=={version}")
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
    libraries: int  # shared libraries (ELF)
    unstripped: tuple[str, ...]  # those that still carry a symbol table


SHT_SYMTAB = 2


def has_symbol_table(path: Path) -> bool | None:
    """Whether a 64-bit little-endian ELF file still has a .symtab (``strip`` removes it); None if not one.

    The loader needs only .dynsym, which strip keeps; .symtab and debug sections are for debuggers.
    """
    with path.open("rb") as handle:
        header = handle.read(64)
        if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            return None
        (section_offset,) = struct.unpack_from("<Q", header, 0x28)
        entry_size, count = struct.unpack_from("<HH", header, 0x3A)
        for index in range(count):
            handle.seek(section_offset + index * entry_size + 4)
            (section_type,) = struct.unpack("<I", handle.read(4))
            if section_type == SHT_SYMTAB:
                return True
    return False


def layer_size(layer: Path, zipped: int) -> LayerSize:
    files = [path for path in (layer / "python").rglob("*") if path.is_file()]
    libraries = [path for path in files if has_symbol_table(path) is not None]
    unstripped = tuple(str(path.relative_to(layer)) for path in libraries if has_symbol_table(path))
    return LayerSize(len(files), sum(path.stat().st_size for path in files), zipped, len(libraries), unstripped)


def lay_out(tree: LambdaTree, layer: Path, functions: list[FunctionDefinition], sdk: Path) -> LayerSize:
    """The layer at /opt, each function at its own /var/task, the SDK as the runtime's site-packages."""
    zipped = zip_round_trip(layer, tree.opt)
    for function in functions:
        zip_round_trip(function.code_dir, tree.task_root(function.logical_id))
    tree.runtime_site_packages.parent.mkdir(parents=True)
    tree.runtime_site_packages.symlink_to(sdk, target_is_directory=True)
    return layer_size(layer, zipped)


def describe_size(size: LayerSize) -> str:
    stripped = f"{size.libraries - len(size.unstripped)} of {size.libraries} shared libraries stripped"
    if size.unstripped:
        stripped += f" (not: {', '.join(size.unstripped)}; no strip tool at build time?)"
    return (
        f"{size.files} files, {size.unzipped_bytes / MIB:.1f} MiB unzipped, "
        f"{size.zipped_bytes / MIB:.1f} MiB zipped; {stripped}"
    )


# --- what the code imports inside functions -------------------------------------------------------


def slim_layer() -> types.ModuleType:
    """layers/devicekeys/slim_layer.py, the layer's build step (not a package: loaded from its path)."""
    module = sys.modules.get("slim_layer")
    if module is None:
        spec = importlib.util.spec_from_file_location("slim_layer", LAYER_SOURCE / "slim_layer.py")
        if spec is None or spec.loader is None:
            raise CheckFailed(f"cannot load {LAYER_SOURCE / 'slim_layer.py'}")
        module = importlib.util.module_from_spec(spec)
        sys.modules["slim_layer"] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    return module


def code_files(layer_site: Path, functions: Sequence[FunctionDefinition]) -> list[tuple[Path, str]]:
    """(source, package) of the layer's own code and of every function's: what may import lazily."""
    slim = slim_layer()
    files = [(path, slim.package_of(layer_site, path)) for path in sorted((layer_site / "devicekeys").rglob("*.py"))]
    for function in functions:
        files += [(path, "") for path in sorted(function.code_dir.glob("*.py"))]
    return files


def lazy_modules(layer_site: Path, functions: Sequence[FunctionDefinition]) -> list[str]:
    """Every module the layer's code and the handlers may import, at their top or inside functions.

    Leaves out imports under ``try: ... except ImportError:``: the code expects they may be missing
    (snapshot_restore_py, which only a SnapStart runtime has).
    """
    slim = slim_layer()
    names: set[str] = set()
    for path, package in code_files(layer_site, functions):
        source = path.read_text(encoding="utf-8")
        names.update(name for _line, name in slim.imported_modules(source, package, optional=False))
    return sorted(names - {"__future__"})


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
    tree: LambdaTree,
    functions: list[FunctionDefinition],
    environments: dict[str, dict[str, str]],
    lazy: Sequence[str] = (),
) -> dict[str, Any]:
    """What arm64_scenario.py reads: the tree, each function's handler, routes and environment, the lazy imports."""
    return {
        "opt_python": str(tree.opt / "python"),
        "runtime_site_packages": str(tree.runtime_site_packages),
        "lazy_modules": list(lazy),
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

REPORT_KEYS = ("import", "step", "lazy", "summary")


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


def run_emulated(emulator: Interpreter, spec_path: Path, args: list[str], *, timeout: float) -> Run:
    """arm64_scenario.py in a fresh interpreter (-s: no user site, -P: not its own directory on sys.path)."""
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
    emulator: Emulator, spec_path: Path, tree: LambdaTree, names: list[str], *, timeout: float, jobs: int = 1
) -> list[str]:
    """Import every handler in its own fresh emulated interpreter, ``jobs`` at a time; a row each; the failures.

    With more than one job the interpreters share the CPUs, so their times are not cold starts'
    (``--measure`` runs one at a time); what each one imported and loaded is the same.
    """
    log(f"\nhandler imports, one fresh emulated interpreter each, {jobs} at a time (process: from exec to exit):")
    failures = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        runs = pool.map(lambda name: run_emulated(emulator, spec_path, ["import", name], timeout=timeout), names)
    for name, run in zip(names, runs, strict=True):
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


def run_scenario(emulator: Interpreter, spec_path: Path, tree: LambdaTree, *, timeout: float) -> None:
    log("\nscenario, one emulated interpreter: every handler imported in turn (the first pays for what they share):")
    run = run_emulated(emulator, spec_path, ["scenario"], timeout=timeout)
    for line in run.lines:
        if "import" in line:
            log(f"  import {line['import']:<28} {line['import_ms']:7.0f} ms")
        elif "step" in line:
            answer = f"{line['status']} (expected {line['expected']})"
            log(f"  {line['step']:<22} {line['function']:<28} {answer} {line['ms']:7.0f} ms")
        elif "lazy" in line:
            loaded = line["lazy"] - len(line["failed"])
            log(f"  imported inside functions: {loaded} of {line['lazy']} modules loaded {line['ms']:7.0f} ms")
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


def built(build_dir: Path) -> tuple[Path, Path]:
    template = build_dir / "template.yaml"
    layer = build_dir / LAYER
    if not template.exists() or not (layer / "python").is_dir():
        raise CheckFailed(f"no sam build output in {build_dir}: run sam build (scripts/arm64-check does)")
    return template, layer


def check(build_dir: Path, root: Path, *, keep: bool, timeout: float, cache: Path = CACHE_DIR, jobs: int = 1) -> None:
    template, layer = built(build_dir)
    emulator = Emulator(find_qemu(), root)
    make_root(emulator, timeout=timeout)
    sdk = runtime_sdk(emulator, cache)
    functions = function_definitions(template)
    table_names = local_table_names("arm64", template)
    with lambda_tree(keep=keep) as tree, local_dynamodb(template, table_names) as endpoint:
        size = lay_out(tree, layer, functions, sdk)
        log(f"layer {layer / 'python'}: {describe_size(size)}")
        spec_path = tree.base / "spec.json"
        environments = lambda_environments(template, table_names, endpoint)
        lazy = lazy_modules(tree.opt / "python", functions)
        spec_path.write_text(json.dumps(scenario_spec(tree, functions, environments, lazy), indent=2))
        names = [function.logical_id for function in functions]
        failures = import_each_handler(emulator, spec_path, tree, names, timeout=timeout, jobs=jobs)
        if failures:
            raise CheckFailed("\n".join(failures))
        run_scenario(emulator, spec_path, tree, timeout=timeout)


# --- measuring slim_layer.py's steps --------------------------------------------------------------

# Cumulative, in the order slim_layer.py runs them; the last is the layer sam build makes.
SLIM_VARIANTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("not slimmed (before)", ()),
    ("+ strip shared libraries", ("strip",)),
    ("+ drop type stubs, tests", ("strip", "dev-only")),
    ("+ drop cffi/pycparser build code", ("strip", "dev-only", "build-only")),
    ("+ drop unused Powertools utilities", ("strip", "dev-only", "build-only", "unused")),
)
NATIVE_ARCH = "x86_64"
# Native runs leave out site (-S): the .venv's site-packages would otherwise stand behind the
# layer and hide a module missing from it. Lambda's runtime has no such second copy.
NATIVE_FLAGS = ("-S",)


def build_layer(target: Path, *, arch: str, steps: Sequence[str]) -> Path:
    """The layer as layers/devicekeys/Makefile builds it for sam build, for ``arch``, with only ``steps`` slimming."""
    from .environments import python313

    python = python313()
    if python is None:
        raise CheckFailed("building the layer needs CPython 3.13 (pyenv's 3.13, or python3.13 on PATH)")
    make = shutil.which("make")
    if make is None:
        raise CheckFailed("building the layer needs make (sam build runs the layer's Makefile with it)")
    completed = subprocess.run(
        [
            make, "-s", "-f", str(LAYER_SOURCE / "Makefile"), "build-DeviceKeysLayer", f"ARTIFACTS_DIR={target}",
            f"PYTHON={python}", f"DEVICEKEYS_LAYER_ARCH={arch}", f"DEVICEKEYS_LAYER_SLIM={' '.join(steps) or 'none'}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        output = tail(completed.stdout + completed.stderr)
        raise CheckFailed(f"building the {arch} layer with steps {steps} failed:\n{output}")
    return target


def median_ms(values: Sequence[float]) -> float:
    return round(statistics.median(values), 1)


def measure(
    build_dir: Path,
    root: Path,
    *,
    native_samples: int,
    emulated_samples: int,
    handlers: Sequence[str],
    timeout: float,
    cache: Path = CACHE_DIR,
) -> dict[str, Any]:
    """Each slimming step's layer: its size, and each handler's import time natively and under emulation.

    Every import is a fresh interpreter (arm64_scenario.py SPEC import NAME). Rounds go over every
    handler and every step in turn, so a busy machine's drift spreads over all of them.
    """
    template, _layer = built(build_dir)
    emulator = Emulator(find_qemu(), root)
    make_root(emulator, timeout=timeout)
    sdk = runtime_sdk(emulator, cache)
    functions = function_definitions(template)
    names = list(handlers) or [function.logical_id for function in functions]
    # Imports only: nothing calls DynamoDB, so the endpoint need not answer.
    environments = lambda_environments(template, local_table_names("arm64", template), "http://127.0.0.1:9")
    interpreters: dict[str, tuple[Interpreter, str, int]] = {
        "native": (Native(flags=NATIVE_FLAGS), NATIVE_ARCH, native_samples),
        "emulated": (emulator, "aarch64", emulated_samples),
    }
    result: dict[str, Any] = {"variants": [], "native": {}, "emulated": {}}
    with tempfile.TemporaryDirectory(prefix="arm64-measure-") as tmp:
        specs: dict[tuple[int, str], Path] = {}
        for index, (label, steps) in enumerate(SLIM_VARIANTS):
            for arch in ("aarch64", NATIVE_ARCH):
                layer = build_layer(Path(tmp) / f"layer-{index}-{arch}", arch=arch, steps=steps)
                tree = LambdaTree(Path(tmp) / f"tree-{index}-{arch}")
                size = lay_out(tree, layer, functions, sdk)
                specs[index, arch] = tree.base / "spec.json"
                specs[index, arch].write_text(json.dumps(scenario_spec(tree, functions, environments)))
                if arch == "aarch64":
                    log(f"{label:<36} {describe_size(size)}")
                    result["variants"].append(
                        {"name": label, "steps": list(steps), "files": size.files,
                         "unzipped_bytes": size.unzipped_bytes, "zipped_bytes": size.zipped_bytes,
                         "unstripped": list(size.unstripped)}
                    )  # fmt: skip
        samples: dict[tuple[str, int, str], list[float]] = {}
        rounds = max(native_samples, emulated_samples)
        started = time.perf_counter()
        for round_number in range(rounds):
            for name in names:
                for index, (label, _steps) in enumerate(SLIM_VARIANTS):
                    for where, (interpreter, arch, count) in interpreters.items():
                        if round_number >= count:
                            continue
                        run = run_emulated(interpreter, specs[index, arch], ["import", name], timeout=timeout)
                        if run.failure:
                            raise CheckFailed(f"{where}: importing {name} from the layer {label} failed: {run.failure}")
                        samples.setdefault((where, index, name), []).append(run.lines[-1]["import_ms"])
            log(f"round {round_number + 1} of {rounds} done after {time.perf_counter() - started:.0f} s")
    for (where, index, name), values in samples.items():
        result[where].setdefault(name, [None] * len(SLIM_VARIANTS))[index] = median_ms(values)
    result["samples"] = {"native": native_samples, "emulated": emulated_samples}
    return result


def render_measurement(result: dict[str, Any]) -> list[str]:
    """The measurement as Markdown tables: sizes per step, then median import time per handler and step."""
    variants = result["variants"]
    lines = ["| layer | files | unzipped (MiB) | zipped (MiB) |", "|---|---:|---:|---:|"]
    lines += [
        f"| {v['name']} | {v['files']} | {v['unzipped_bytes'] / MIB:.2f} | {v['zipped_bytes'] / MIB:.2f} |"
        for v in variants
    ]
    for where in ("native", "emulated"):
        if not result[where]:
            continue
        count = result["samples"][where]
        lines += ["", f"{where} import time, median of {count} fresh interpreters (ms):", ""]
        lines += ["| handler | " + " | ".join(v["name"] for v in variants) + " |"]
        lines += ["|---|" + "---:|" * len(variants)]
        for name, values in result[where].items():
            cells = ["-" if value is None else f"{value:.0f}" for value in values]
            lines.append(f"| {name} | {' | '.join(cells)} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam" / "build", help="sam build's output")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="where the root and the runtime SDK are kept")
    parser.add_argument("--root", type=Path, default=None, help="the arm64 root (made when missing; CACHE/root)")
    parser.add_argument("--keep", action="store_true", help="keep the Lambda tree (its path is printed)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds for each emulated interpreter")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="emulated handler imports at a time (default: CPUs)"
    )
    parser.add_argument("--measure", action="store_true", help="measure slim_layer.py's steps instead of checking")
    parser.add_argument("--native-samples", type=int, default=5, help="--measure: imports per handler and step")
    parser.add_argument("--emulated-samples", type=int, default=1, help="--measure: the same, under emulation")
    parser.add_argument("--handler", action="append", default=[], help="--measure: only this function (repeatable)")
    args = parser.parse_args(argv)
    cache = args.cache.resolve()
    root = (args.root or cache / "root").resolve()
    start = time.perf_counter()
    try:
        if args.measure:
            result = measure(
                args.build_dir.resolve(), root, native_samples=args.native_samples,
                emulated_samples=args.emulated_samples, handlers=args.handler, timeout=args.timeout, cache=cache,
            )  # fmt: skip
            result["seconds"] = round(time.perf_counter() - start)
            RESULTS_DIR.mkdir(exist_ok=True)
            (RESULTS_DIR / "arm64-layer.json").write_text(json.dumps(result, indent=2) + "\n")
            log("\n" + "\n".join(render_measurement(result)))
            log(f"\nmeasured in {result['seconds']} s; benchmarks/results/arm64-layer.json")
            return 0
        check(args.build_dir.resolve(), root, keep=args.keep, timeout=args.timeout, cache=cache, jobs=args.jobs)
    except CheckFailed as exc:
        print(f"\narm64 check FAILED: {exc}", file=sys.stderr)
        return 1
    log(f"\narm64 check passed in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
