"""Size of the built layer: what Lambda unzips into /opt, without and with the AWS SDK.

Builds the layer with ``sam build`` (layers/devicekeys/Makefile) twice in temporary build
directories: as deployed, and with ``DEVICEKEYS_LAYER_WITH_SDK=1`` (boto3 and its dependencies
inside, as the python3.13 build method shipped botocore). Sizes are apparent bytes in MiB, the
way Lambda counts its 250 MB unzipped limit. The build strips the layer's shared libraries when
a strip for aarch64 is installed (layers/devicekeys/slim_layer.py; scripts/arm64-check proves
they still load); when one is installed here and the built layer's cryptography extension was
left unstripped, it also reports what stripping it would save.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from .common import ROOT
from .environments import python313

BUDGET_MIB = 15
MIB = 1024 * 1024
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")


def find_sam() -> str | None:
    # $SAM_CLI, then where this project's machines keep it, then PATH.
    shared_venv = "/tmp/venv/bin/sam"  # noqa: S108 - a fixed tool location, not a temporary file
    candidates = [os.environ.get("SAM_CLI", ""), str(ROOT / ".venv-sam" / "bin" / "sam"), shared_venv]
    found = next((c for c in candidates if c and Path(c).exists()), None)
    return found or shutil.which("sam")


def build(sam: str, build_dir: Path, *, with_sdk: bool) -> Path:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    python = python313()
    if python is not None:
        env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    if with_sdk:
        env["DEVICEKEYS_LAYER_WITH_SDK"] = "1"
    completed = subprocess.run(
        [sam, "build", "--build-dir", str(build_dir), "DeviceKeysLayer"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"sam build failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return build_dir / "DeviceKeysLayer"


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _zipped(layer: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "layer.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(layer.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(layer))
        return archive.stat().st_size


def describe(layer: Path) -> dict[str, Any]:
    site = layer / "python"
    files = [p for p in layer.rglob("*") if p.is_file()]
    entries = sorted(((_size(p), p.name) for p in site.iterdir()), reverse=True)
    extensions = [p for p in files if p.suffix == ".so"]
    return {
        "unzipped_mib": round(_size(layer) / MIB, 2),
        "zipped_mib": round(_zipped(layer) / MIB, 2),
        "files": len(files),
        "bytecode_mib": round(sum(p.stat().st_size for p in files if p.suffix == ".pyc") / MIB, 2),
        "extensions_mib": round(sum(p.stat().st_size for p in extensions) / MIB, 2),
        "runtime_provided_present": [name for name in RUNTIME_PROVIDED if (site / name).exists()],
        "largest": [{"name": name, "mib": round(size / MIB, 2)} for size, name in entries[:8]],
    }


def strip_estimate(layer: Path) -> dict[str, Any] | None:
    """What ``strip --strip-unneeded`` would take off the cryptography extension; None when the build stripped it."""
    strip = shutil.which("aarch64-linux-gnu-strip")
    extension = next((layer / "python" / "cryptography" / "hazmat" / "bindings").glob("_rust*.so"), None)
    if strip is None or extension is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / extension.name
        shutil.copy2(extension, copy)
        subprocess.run([strip, "--strip-unneeded", str(copy)], check=True)
        if copy.stat().st_size >= extension.stat().st_size:
            return None  # already stripped at build time: nothing left to estimate
        return {
            "extension": str(extension.relative_to(layer)),
            "before_mib": round(extension.stat().st_size / MIB, 2),
            "after_mib": round(copy.stat().st_size / MIB, 2),
            "applied": False,
        }


def measure() -> dict[str, Any]:
    sam = find_sam()
    if sam is None:
        return {"skipped": "SAM CLI not found (set SAM_CLI)"}
    with tempfile.TemporaryDirectory(prefix="bench-layer-") as tmp:
        deployed = build(sam, Path(tmp) / "deployed", with_sdk=False)
        with_sdk = build(sam, Path(tmp) / "with-sdk", with_sdk=True)
        result: dict[str, Any] = {
            "budget_mib": BUDGET_MIB,
            "deployed": describe(deployed),
            "with_sdk": describe(with_sdk),
            "strip": strip_estimate(deployed),
        }
    deployed_size = result["deployed"]["unzipped_mib"]
    result["within_budget"] = deployed_size < BUDGET_MIB and not result["deployed"]["runtime_provided_present"]
    return result
