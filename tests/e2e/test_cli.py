"""The ``devicekeys`` CLI against the local API: a register/verify/list flow as real processes, the rest in-process."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from devicekeys_client.cli import main

from .conftest import LocalApi, http, subprocess_env
from .test_gateway import issuer_token

pytestmark = pytest.mark.e2e


def devicekeys(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would (``python -m devicekeys_client`` is the console script's module)."""
    command = [sys.executable, "-m", "devicekeys_client", *args]
    return subprocess.run(command, capture_output=True, text=True, env=subprocess_env(**env), timeout=60, check=False)  # noqa: S603


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "laptop.json"


def test_register_verify_list_flow_as_processes(local_api: LocalApi, user_id: str, key_file: Path) -> None:
    env = {
        "DEVICEKEYS_URL": local_api.url,
        "DEVICEKEYS_TOKEN": local_api.token(user_id),
        "DEVICEKEYS_KEY_FILE": str(key_file),
    }

    keygen = devicekeys("keygen", "--json", env=env)
    assert keygen.returncode == 0, keygen.stderr
    created = json.loads(keygen.stdout)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    private_d = json.loads(key_file.read_text())["jwk"]["d"]
    assert "d" not in created["public_key"]

    register = devicekeys("register", "--name", "Work laptop", "--data", '{"os": "linux"}', env=env)
    assert register.returncode == 0, register.stderr
    assert f"registered {created['key_id']} for {user_id} as 'Work laptop'" in register.stdout

    verify = devicekeys("verify", env={**env, "DEVICEKEYS_TOKEN": ""})  # no token needed, --user names the user
    assert verify.returncode == 2  # but without a token, which user?
    assert "which user?" in verify.stderr
    verify = devicekeys("verify", "--user", user_id, env={**env, "DEVICEKEYS_TOKEN": ""})
    assert verify.returncode == 0, verify.stderr
    assert f"known device of {user_id}: {created['key_id']} (Work laptop), active" in verify.stdout

    listing = devicekeys("list", env=env)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[0].split() == [
        "KEY",
        "ID",
        "NAME",
        "STATUS",
        "ALG",
        "CREATED",
        "LAST",
        "VERIFIED",
    ]
    assert f"{created['key_id']} *" in listing.stdout
    assert "Work laptop" in listing.stdout
    assert f"1 device key of {user_id} (* this device)" in listing.stdout

    as_json = devicekeys("list", "--json", env=env)
    assert json.loads(as_json.stdout)["count"] == 1
    assert json.loads(as_json.stdout)["device_keys"][0]["custom_data"] == {"os": "linux"}

    for result in (keygen, register, verify, listing, as_json):  # the private key never shows
        assert private_d not in result.stdout + result.stderr


def test_lifecycle_commands(
    local_api: LocalApi,
    user_id: str,
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEVICEKEYS_URL", local_api.url)
    monkeypatch.setenv("DEVICEKEYS_TOKEN", local_api.token(user_id))
    monkeypatch.setenv("DEVICEKEYS_KEY_FILE", str(key_file))
    admin = ["--token", local_api.token("ops", admin=True), "--user", user_id]
    assert main(["keygen"]) == 0
    assert main(["register"]) == 0
    capsys.readouterr()

    assert main(["rename", "--name", "My work cellphone"]) == 0
    assert "renamed" in capsys.readouterr().out
    assert main(["update", "--data", '{"risk": "low"}']) == 0
    capsys.readouterr()
    assert main(["get", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert (record["display_name"], record["custom_data"]) == ("My work cellphone", {"risk": "low"})

    assert main(["block", *admin, "--reason", "lost"]) == 0
    assert main(["verify"]) == 1
    assert "device_blocked" in capsys.readouterr().err
    assert main(["list", "--status", "blocked"]) == 0
    assert "1 blocked" in capsys.readouterr().out
    assert main(["unblock", *admin]) == 0
    assert main(["verify"]) == 0
    assert main(["delete"]) == 0
    assert main(["verify"]) == 1
    assert "device_not_found" in capsys.readouterr().err


def test_errors_are_clear_with_a_nonzero_exit(
    local_api: LocalApi,
    user_id: str,
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEVICEKEYS_URL", local_api.url)
    monkeypatch.setenv("DEVICEKEYS_KEY_FILE", str(key_file))
    monkeypatch.delenv("DEVICEKEYS_TOKEN", raising=False)

    assert main(["verify", "--user", user_id]) == 2  # no key yet
    assert "devicekeys keygen" in capsys.readouterr().err
    assert main(["keygen"]) == 0
    assert main(["keygen"]) == 2  # never overwrite a key silently
    assert "--force" in capsys.readouterr().err

    assert main(["list", "--user", user_id]) == 1  # no token
    err = capsys.readouterr().err
    assert "unauthorized" in err
    assert "DEVICEKEYS_TOKEN" in err

    assert main(["list", "--user", user_id, "--json"]) == 1
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "unauthorized"

    assert main(["list", "--user", user_id, "--url", "http://127.0.0.1:9"]) == 1
    assert "connection_failed" in capsys.readouterr().err

    os.chmod(key_file, 0o644)
    assert main(["verify", "--user", user_id]) == 2
    assert "chmod 600" in capsys.readouterr().err


def test_options_work_before_or_after_the_command(
    local_api: LocalApi, user_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    token = local_api.token(user_id)
    assert main(["--url", local_api.url, "--token", token, "--json", "list"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 0
    assert main(["list", "--url", local_api.url, "--token", token, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 0


def test_the_local_token_command(local_api: LocalApi, user_id: str) -> None:
    command = [sys.executable, "-m", "devicekeys_local", "token", "--sub", user_id, "--admin", "--url", local_api.url]
    result = subprocess.run(command, capture_output=True, text=True, env=subprocess_env(), timeout=60, check=False)  # noqa: S603
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert main(["list", "--url", local_api.url, "--token", token, "--json", "--user", "anyone-else"]) == 0


def test_journeys_count_and_proofs_from_the_shell(
    local_api: LocalApi,
    user_id: str,
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEVICEKEYS_URL", local_api.url)
    monkeypatch.setenv("DEVICEKEYS_TOKEN", local_api.token(user_id))
    monkeypatch.setenv("DEVICEKEYS_KEY_FILE", str(key_file))
    assert main(["keygen"]) == 0
    capsys.readouterr()

    def journey(*args: str) -> dict[str, object]:
        assert main(["journey", *args, "--json"]) == 0, capsys.readouterr().err
        return dict(json.loads(capsys.readouterr().out))

    assert journey("known-device-step-up")["outcome"] == "step_up_required"
    registered = journey("register-device", "--name", "Shell laptop", "--data", '{"os": "linux"}')
    assert registered["outcome"] == "registered"
    assert registered["device_key"]["display_name"] == "Shell laptop"  # type: ignore[index]
    assert journey("known-device-step-up")["outcome"] == "complete"
    assert journey("login-registered-device")["outcome"] == "allowed"
    assert journey("rename-device", "--name", "My work cellphone")["outcome"] == "renamed"
    assert journey("read-device-name")["outcome"] == "work_phone"
    assert journey("count-devices")["count"] == 1
    assert journey("single-device-policy")["outcome"] == "complete"
    assert journey("known-device-step-up", "--no-device")["reason"] == "no_device_proof"

    assert main(["count", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"user_id": user_id, "count": 1}

    # a proof for curl: the API takes it as it is
    assert main(["proof", "--purpose", "verify"]) == 0
    proof = capsys.readouterr().out.strip()
    status, _, body = http(local_api, "POST", f"/v1/users/{user_id}/device-keys/verify", {"proof": proof})
    assert (status, body["known"]) == (200, True)


def test_a_refused_token_is_reported_with_the_servers_reason(
    local_api: LocalApi, user_id: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVICEKEYS_URL", local_api.url)
    expired = issuer_token(local_api, sub=user_id, exp=int(time.time()) - 10)
    assert main(["list", "--token", expired]) == 1
    assert "the token has expired" in capsys.readouterr().err
    assert main(["list", "--token", "not-a-jwt"]) == 2  # no user to name: said plainly
    assert "not a JWT with a sub" in capsys.readouterr().err
    assert main(["list", "--token", "not-a-jwt", "--user", user_id, "--json"]) == 1
    refused = json.loads(capsys.readouterr().err)
    assert refused["error"]["code"] == "unauthorized" and "signature or format" in refused["error"]["message"]


def test_every_error_is_json_on_stderr_with_json(
    local_api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVICEKEYS_URL", local_api.url)
    monkeypatch.setenv("DEVICEKEYS_KEY_FILE", str(tmp_path / "missing.json"))
    assert main(["verify", "--user", "alice", "--json"]) == 2  # a local problem: no key file
    error = json.loads(capsys.readouterr().err)
    assert error["error"]["code"] == "usage" and "devicekeys keygen" in error["error"]["message"]
    assert main(["update", "--user", "alice", "--json", "A" * 43]) == 2
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "usage"


def test_version_and_help_for_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("devicekeys ")
    for command in ("keygen", "register", "list", "count", "update", "block", "proof", "journey"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "``" not in text
        options = [line.split()[0] for line in text.splitlines() if line.strip().startswith("--")]
        undocumented = [line for line in text.splitlines() if line.strip().startswith("--") and len(line.split()) < 2]
        assert options and not undocumented, (command, undocumented)


def test_rotate_replaces_the_key_file_only_once_the_api_agreed(
    local_api: LocalApi,
    user_id: str,
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEVICEKEYS_URL", local_api.url)
    monkeypatch.setenv("DEVICEKEYS_TOKEN", local_api.token(user_id))
    monkeypatch.setenv("DEVICEKEYS_KEY_FILE", str(key_file))
    assert main(["keygen"]) == 0
    assert main(["register", "--name", "Laptop"]) == 0
    old = json.loads(key_file.read_text())
    capsys.readouterr()

    assert main(["rotate", "--json"]) == 0
    rotated = json.loads(capsys.readouterr().out)

    assert json.loads(key_file.read_text()) != old and rotated["display_name"] == "Laptop"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert main(["verify"]) == 0
    # a refused rotation (the key is blocked) leaves the key file as it was
    assert main(["block", "--token", local_api.token("ops", admin=True), "--user", user_id]) == 0
    before = key_file.read_text()
    assert main(["rotate"]) == 1
    assert key_file.read_text() == before
