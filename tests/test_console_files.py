"""The console's files as served: its JavaScript type-checks, and its vendored oauth4webapi is the pinned package.

Both need Node and clients/web/node_modules (scripts/setup check installs them); without them
these tests are skipped. Serving the console needs neither.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from devicekeys_local.template import ROOT

WEB = ROOT / "clients" / "web"


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None or not (WEB / "node_modules" / "typescript").is_dir():
        pytest.skip("no Node.js or no clients/web/node_modules (scripts/setup check installs them)")
    return found


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=WEB, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def test_the_vendored_oauth4webapi_is_the_pinned_package_byte_for_byte(node: str) -> None:
    result = run(node, "scripts/check-vendor.mjs")
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_the_console_type_checks_against_the_sdk_and_oauth4webapi(node: str) -> None:
    result = run(node, "node_modules/typescript/bin/tsc", "-p", "console")
    assert result.returncode == 0, result.stdout + result.stderr
