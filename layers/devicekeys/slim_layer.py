"""Slim the layer's site-packages the way the official Powertools layer is built (run by the Makefile).

  python slim_layer.py SITE [--arch aarch64] [--steps "strip dev-only build-only unused"] [--strip TOOL]

Runs after ``pip install`` and before ``compileall``, so no bytecode is left behind for what it
drops and every module it keeps is still compiled. Its steps, each optional (the benchmark
measures them one by one):

- ``strip``: ``strip --strip-unneeded`` every shared library (the symbol tables a debugger
  reads; the dynamic symbols the loader needs stay). With the triplet's binutils strip
  (Debian: binutils-aarch64-linux-gnu) or llvm-strip; when neither is installed the build
  still succeeds, says it skipped stripping, and ships the libraries as the wheels have them.
  A library is replaced only once its stripped copy is written, so a failing strip leaves it
  as it was;
- ``dev-only``: what only type checkers and test runners read: type stubs, ``py.typed``
  markers, packages' ``tests`` directories;
- ``build-only``: what only builds C extensions: cffi's compiler front end and pycparser
  (cryptography's extension is built; at run time it loads ``_cffi_backend``, which stays);
- ``unused``: Powertools utilities that no function imports.

Then it refuses the layer (exit 1) when a module it kept imports one it dropped, including
imports inside functions (lazy imports); imports under ``if TYPE_CHECKING:`` are never run.
tests/test_arm64_tooling.py holds the functions' code to the same rule, and the arm64 check
imports every handler from the slimmed layer.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

STEPS = ("strip", "dev-only", "build-only", "unused")


@dataclass(frozen=True)
class Drop:
    step: str
    pattern: str  # a glob under site-packages (pathlib's: ** is any depth)
    why: str


POWERTOOLS_UTILITIES = "aws_lambda_powertools/utilities"
DROPS = (
    Drop("dev-only", "**/*.pyi", "type stubs: read by type checkers, never imported"),
    Drop("dev-only", "**/py.typed", "PEP 561 markers: for type checkers"),
    Drop("dev-only", "**/tests", "a package's own tests (none in today's wheels; the Powertools layer drops them too)"),
    Drop("build-only", "cffi", "cffi's front end: compiles C declarations; built extensions need only _cffi_backend"),
    Drop("build-only", "pycparser", "the C parser cffi's front end uses"),
    Drop("build-only", "pycparser-*.dist-info", "pycparser's metadata, with pycparser gone"),
    Drop("unused", f"{POWERTOOLS_UTILITIES}/parser", "needs pydantic, which the layer does not have"),
    Drop("unused", f"{POWERTOOLS_UTILITIES}/kafka", "needs pydantic, avro or protobuf, which the layer does not have"),
    Drop("unused", f"{POWERTOOLS_UTILITIES}/data_masking", "needs aws-encryption-sdk, which the layer does not have"),
    Drop("unused", f"{POWERTOOLS_UTILITIES}/auth_alpha", "no function imports it"),
    Drop("unused", f"{POWERTOOLS_UTILITIES}/parameters", "no function imports it"),
    Drop("unused", f"{POWERTOOLS_UTILITIES}/feature_flags", "no function imports it"),
    Drop("unused", f"{POWERTOOLS_UTILITIES}/circuit_breaker", "no function imports it"),
    Drop("unused", f"{POWERTOOLS_UTILITIES}/streaming", "no function imports it"),
)
# Imports of a dropped module that never run in this layer, by (file under site-packages, dropped
# module): each says why. Any other import of a dropped module fails the build.
DEAD_IMPORTS = {
    ("aws_lambda_powertools/utilities/batch/types.py", "aws_lambda_powertools.utilities.parser"): (
        "under `if has_pydantic:`, true only once pydantic is imported; neither the layer nor the runtime has it"
    ),
}
SHARED_LIBRARY_PATTERNS = ("*.so", "*.so.*")
ELF_MAGIC = b"\x7fELF"


def say(message: str) -> None:
    print(f"slim_layer: {message}", flush=True)  # stdout: sam build shows a Makefile's stdout only


# --- strip -----------------------------------------------------------------------------------------


def strip_candidates(arch: str) -> list[str]:
    """Tools that can strip ``arch`` ELF files, best first: the triplet's binutils, llvm-strip, the host's own."""
    candidates = [f"{arch}-linux-gnu-strip", "llvm-strip"]
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if directory and Path(directory).is_dir():
            candidates += sorted(path.name for path in Path(directory).glob("llvm-strip-[0-9]*"))
    if sys.platform == "linux" and platform.machine() == arch:
        candidates.append("strip")  # GNU strip for the build machine's own architecture
    return candidates


def find_strip(arch: str, requested: str | None = None) -> str | None:
    """The strip tool to use: ``requested`` (a name or path) if given, else the first candidate installed."""
    for candidate in [requested] if requested else strip_candidates(arch):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def shared_libraries(site: Path) -> list[Path]:
    found = {path for pattern in SHARED_LIBRARY_PATTERNS for path in site.rglob(pattern)}
    return sorted(path for path in found if path.is_file() and not path.is_symlink() and is_elf(path))


def is_elf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == ELF_MAGIC


def strip_libraries(site: Path, tool: str | None, *, arch: str) -> tuple[int, int]:
    """Strip every shared library under ``site`` with ``tool``; the bytes before and after.

    Without a tool nothing changes and the build goes on. A library ``tool`` cannot strip keeps
    its original bytes.
    """
    libraries = shared_libraries(site)
    before = sum(path.stat().st_size for path in libraries)
    if tool is None:
        say(
            f"SKIPPED stripping {len(libraries)} shared libraries: no strip for {arch} found "
            f"(install binutils-{arch}-linux-gnu or llvm, or set DEVICEKEYS_LAYER_STRIP); the layer is larger"
        )
        return before, before
    for library in libraries:
        with tempfile.TemporaryDirectory(prefix="slim-layer-") as tmp:
            stripped = Path(tmp) / library.name
            completed = subprocess.run(  # noqa: S603 - a strip tool found on PATH, on the build's own files
                [tool, "--strip-unneeded", "-o", str(stripped), str(library)],
                capture_output=True,
                text=True,
                check=False,
            )
            if completed.returncode != 0 or not stripped.is_file() or not is_elf(stripped):
                reason = completed.stderr.strip() or f"exit status {completed.returncode}"
                say(f"SKIPPED stripping {library.relative_to(site)}: {Path(tool).name} failed: {reason}")
                continue
            mode = library.stat().st_mode
            shutil.copyfile(stripped, library)
            library.chmod(mode)
    after = sum(path.stat().st_size for path in libraries)
    say(f"stripped {len(libraries)} shared libraries with {Path(tool).name}: {before:,} -> {after:,} bytes")
    return before, after


# --- drop ------------------------------------------------------------------------------------------


def module_name(site: Path, path: Path) -> str | None:
    """The module ``path`` (a .py file or a package directory) is imported as, or None if it is not one."""
    relative = path.relative_to(site)
    if path.is_dir():
        parts = relative.parts
    elif path.suffix == ".py":
        parts = relative.with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
    else:
        return None
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)


def matches(site: Path, drops: Iterable[Drop]) -> Iterator[tuple[Drop, Path]]:
    for drop in drops:
        for path in sorted(site.glob(drop.pattern)):
            yield drop, path


def tree_size(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(item.lstat().st_size for item in path.rglob("*") if item.is_file() or item.is_symlink())


def dropped_packages(steps: Iterable[str] = STEPS) -> set[str]:
    """The modules that ``steps`` drop by name (not by a wildcard): what no code may import."""
    return {
        drop.pattern.replace("/", ".")
        for drop in DROPS
        if drop.step in steps and all(part.isidentifier() for part in drop.pattern.split("/"))
    }


def drop_paths(site: Path, drops: Sequence[Drop]) -> set[str]:
    """Delete what ``drops`` match under ``site``; the names of the modules and packages deleted."""
    dropped: set[str] = set()
    for drop in drops:
        removed = 0
        for _drop, path in matches(site, [drop]):
            if not path.exists() and not path.is_symlink():
                continue  # inside a directory an earlier pattern removed
            name = module_name(site, path)
            if name:
                dropped.add(name)
            removed += tree_size(path)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        if removed:
            say(f"dropped {drop.pattern} ({removed:,} bytes): {drop.why}")
    return dropped


# --- what imports what --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSite:
    path: Path
    line: int
    module: str  # the module imported, absolute


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


def catches_import_errors(node: ast.Try) -> bool:
    """Whether a ``try`` has an ``except ImportError`` (or ModuleNotFoundError): its body's imports are optional."""
    for handler in node.handlers:
        caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(name, ast.Name) and name.id in IMPORT_ERRORS for name in caught):
            return True
    return False


def runtime_nodes(tree: ast.AST, *, optional: bool = True) -> Iterator[ast.AST]:
    """Every node the interpreter may run: all but the bodies of ``if TYPE_CHECKING:``.

    ``optional=False`` also leaves out the bodies of ``try: ... except ImportError:``, whose code
    expects its imports may be missing.
    """
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ast.If) and is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        if not optional and isinstance(node, ast.Try) and catches_import_errors(node):
            pending.extend([*node.handlers, *node.orelse, *node.finalbody])
            continue
        pending.extend(ast.iter_child_nodes(node))


def imported_modules(source: str, package: str, *, optional: bool = True) -> Iterator[tuple[int, str]]:
    """(line, absolute module) for each import a module whose package is ``package`` may run.

    ``from a import b`` yields ``a`` and ``a.b`` (b may be a submodule); calls to
    ``importlib.import_module``/``__import__`` with a literal name count too. ``optional=False``
    leaves out imports under ``try: ... except ImportError:``.
    """
    for node in runtime_nodes(ast.parse(source), optional=optional):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)] if package else []
                base = ".".join([*parent, base] if base else parent)
            yield node.lineno, base
            for alias in node.names:
                if alias.name != "*":
                    yield node.lineno, f"{base}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in {"import_module", "__import__"} and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value


def package_of(site: Path, path: Path) -> str:
    """The package a .py file under ``site`` belongs to (its own name for an __init__.py)."""
    parts = path.relative_to(site).with_suffix("").parts
    return ".".join(parts if parts[-1] == "__init__" else parts[:-1])


def is_within(module: str, names: Iterable[str]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in names)


def imports_of(files: Iterable[tuple[Path, str]], dropped: set[str]) -> list[ImportSite]:
    """Where ``files`` ((path, package) pairs) may import a module under one of ``dropped``."""
    found = []
    for path, package in files:
        for line, module in imported_modules(path.read_text(encoding="utf-8"), package):
            if is_within(module, dropped):
                found.append(ImportSite(path, line, module))
    return found


def kept_sources(site: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(site.rglob("*.py")):
        if module_name(site, path) is not None:
            yield path, package_of(site, path)


def broken_imports(site: Path, dropped: set[str]) -> list[ImportSite]:
    """Where a module kept under ``site`` may import one under ``dropped``, but for DEAD_IMPORTS."""

    def dead(found: ImportSite) -> bool:
        relative = found.path.relative_to(site).as_posix()
        return any((relative, name) in DEAD_IMPORTS for name in dropped if is_within(found.module, [name]))

    return [found for found in imports_of(kept_sources(site), dropped) if not dead(found)]


# --- the command ---------------------------------------------------------------------------------


def slim(site: Path, *, arch: str, steps: Sequence[str], strip: str | None = None) -> set[str]:
    """Apply ``steps`` to ``site``; the modules dropped. Raises SystemExit when a kept module imports one."""
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        raise SystemExit(f"slim_layer: unknown steps {', '.join(unknown)}; the steps are {', '.join(STEPS)}")
    if "strip" in steps:
        strip_libraries(site, find_strip(arch, strip), arch=arch)
    dropped = drop_paths(site, [drop for drop in DROPS if drop.step in steps])
    if dropped:
        broken = broken_imports(site, dropped)
        if broken:
            shown = "\n".join(f"  {s.path.relative_to(site)}:{s.line} imports {s.module}" for s in broken[:20])
            raise SystemExit(f"slim_layer: kept modules import dropped ones; keep them (DROPS in {__file__}):\n{shown}")
    return dropped


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("site", type=Path, help="the layer's python/ directory")
    parser.add_argument("--arch", default="aarch64", help="the CPU of the layer's libraries (aarch64, x86_64)")
    parser.add_argument("--steps", default=" ".join(STEPS), help=f"which of {', '.join(STEPS)} (none: nothing)")
    parser.add_argument("--strip", default=None, help="the strip tool (default: the first found for --arch)")
    args = parser.parse_args(argv)
    steps = [step for step in args.steps.replace(",", " ").split() if step != "none"]
    slim(args.site.resolve(), arch=args.arch, steps=steps, strip=args.strip or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
