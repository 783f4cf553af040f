"""The Python SDK on its own: key files and what a developer writes in the README."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from devicekeys_client import DeviceKeyPair


def test_a_key_file_under_the_home_directory_goes_there_not_into_a_folder_named_tilde(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    device = DeviceKeyPair.generate("ES256")

    device.save("~/.devicekeys/alice.json")

    saved = home / ".devicekeys" / "alice.json"
    assert saved.is_file() and stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert not (work / "~").exists()
    assert DeviceKeyPair.load("~/.devicekeys/alice.json").key_id == device.key_id
