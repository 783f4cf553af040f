"""The interpreters the benchmarks run in, made on demand (git-ignored, never the project's .venv).

- ``project``: the project's .venv, which runs tests and the local API (named for its version,
  e.g. ``py313``; the benchmark leaves it out when it is the same Python as ``py313``).
- ``py313``: Lambda's target runtime, Python 3.13, with exactly the layer's requirements plus
  boto3 (which Lambda provides): what a deployed function imports.
- ``peer``: Python 3.13 with the layer's requirements plus py_webauthn, kept apart so the peer
  library can never change what the cold-start figures import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .common import LAYER_DIR, ROOT

BENCH_DIR = ROOT / "benchmarks"
REQUIREMENTS = LAYER_DIR / "requirements.txt"


@dataclass(frozen=True)
class Interpreter:
    name: str
    python: Path

    @property
    def version(self) -> str:
        out = subprocess.run(
            [str(self.python), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()


def project() -> Interpreter:
    return Interpreter(f"py{sys.version_info.major}{sys.version_info.minor}", Path(sys.executable))


def python313() -> Path | None:
    """A CPython 3.13 to build venvs from: $BENCH_PYTHON313, pyenv's 3.13.x, or python3.13 on PATH."""
    candidates: list[Path] = []
    if os.environ.get("BENCH_PYTHON313"):
        candidates.append(Path(os.environ["BENCH_PYTHON313"]))
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted((pyenv_root / "versions").glob("3.13.*/bin/python3.13"), reverse=True)
    on_path = shutil.which("python3.13")
    if on_path:
        candidates.append(Path(on_path))
    return next((path for path in candidates if path.exists()), None)


def _venv(name: str, extra: list[str], *, create: bool) -> Interpreter | None:
    venv = BENCH_DIR / f".venv-{name}"
    python = venv / "bin" / "python"
    if python.exists():
        return Interpreter(name, python)
    base = python313()
    if not create or base is None:
        return None
    print(f"[setup] creating {venv.relative_to(ROOT)} from {base}", file=sys.stderr)
    subprocess.run([str(base), "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(REQUIREMENTS), *extra],
        check=True,
    )
    return Interpreter(name, python)


def lambda313(*, create: bool = True) -> Interpreter | None:
    """Python 3.13 with the layer's requirements and boto3: the deployed function's imports."""
    return _venv("py313", ["boto3"], create=create)


def peer(*, create: bool = True) -> Interpreter | None:
    """Python 3.13 (or, failing that, nothing) with the layer's requirements and py_webauthn."""
    return _venv("peer", ["webauthn"], create=create)
