"""The README's session, run word for word against a fresh local API: the first thing a new user tries."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT, start_server, subprocess_env

pytestmark = pytest.mark.e2e
README = (ROOT / "README.md").read_text()


def bash_blocks(after_heading: str) -> list[str]:
    """The ```bash blocks of the README section under ``after_heading``."""
    section = README.split(f"\n## {after_heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_session_works_as_written(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        session, journeys, curl = bash_blocks("A session with the local API")[:3]
        script = "\n".join((session, journeys, curl)).replace("http://127.0.0.1:3000", server.url)
        result = subprocess.run(  # noqa: S603
            ["bash", "-c", script],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=subprocess_env(),
            timeout=120,
            check=False,
        )
    finally:
        server.stop()
    out = result.stdout + result.stderr
    assert "registered" in out and "for alice as 'Work laptop'" in out, out
    assert "known device of alice" in out
    assert re.search(r"rotated \S+ to \S+ \(ES256\) for alice", out), out
    assert "blocked" in out and "device_blocked" in out
    assert out.count("exit status: 1") == 2, out  # the blocked device's verify, and the owner's delete
    assert "only an administrator" in out
    assert "known-device-step-up: outcome: rejected" in out and "reason: device_blocked" in out
    assert "count-devices: outcome: one_device" in out
    assert '"outcome":"one_device"' in out.replace(" ", "")  # curl to the journey route
    assert '"known":false' not in out and "Traceback" not in out
    for change in ("Device key registered", "Device key rotated", "Device key blocked"):
        assert change in out, change  # the events endpoint, polled from the stream by then
