"""``serve`` options: state that survives a restart, another DynamoDB endpoint, and the sam local env file."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from devicekeys_client import DeviceKeyPair, DeviceKeysClient
from devicekeys_local.environment import declared_environment, local_table_names, sam_local_env_vars
from devicekeys_local.issuer import request_token
from devicekeys_local.template import ROOT, load_template, table_definitions

from .conftest import LocalApi, free_port, start_server, subprocess_env

pytestmark = pytest.mark.e2e


def test_state_dir_keeps_tables_and_issuer_key_across_restarts(tmp_path: Path, device: DeviceKeyPair) -> None:
    state_dir, port = tmp_path / "state", free_port()
    first = start_server(tmp_path, "--state-dir", str(state_dir), port=port)
    token = request_token(first.url, "alice")
    DeviceKeysClient(first.url, token).register("alice", device, display_name="kept")
    wait_until_published(first.url, "Device key registered")  # the stream's publisher writes its own record
    assert first.stop(signal.SIGINT) == 0  # Ctrl-C: stop the server, save, stop DynamoDB
    assert "Saved 3 items" in first.output()  # the key, the user's device counter, the published event's record
    for name in ("dynamodb.json", "issuer-key.json"):
        assert stat.S_IMODE((state_dir / name).stat().st_mode) == 0o600

    second = start_server(tmp_path, "--state-dir", str(state_dir), port=port)
    try:
        assert "3 items restored" in second.output()
        client = DeviceKeysClient(second.url, token)  # the old token: same issuer key, same issuer URL
        assert client.get("alice", device.key_id).display_name == "kept"
        assert client.verify("alice", device).known
    finally:
        assert second.stop(signal.SIGTERM) == 0


def wait_until_published(url: str, detail_type: str, timeout: float = 15.0) -> None:
    """Until the local event bus has an event of ``detail_type`` (the stream is read every moment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/_local/events", timeout=5) as response:  # noqa: S310 - the local API
            if any(event.get("detail-type") == detail_type for event in json.load(response)["events"]):
                return
        time.sleep(0.1)
    pytest.fail(f"no {detail_type!r} event within {timeout} s")


def test_another_dynamodb_endpoint_gets_only_its_missing_tables(
    local_api: LocalApi, tmp_path: Path, device: DeviceKeyPair
) -> None:
    """The session server's embedded moto stands in for DynamoDB Local here."""
    endpoint = local_api.server.health()["dynamodb_endpoint"]
    prefix = f"shared-{free_port()}"
    names = local_table_names(prefix)
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    existing = next(table for table in table_definitions() if table.logical_id == "DeviceKeysTable")
    dynamodb.create_table(TableName=names["DeviceKeysTable"], **existing.create_table)

    server = start_server(tmp_path, "--dynamodb-endpoint", endpoint, "--table-prefix", prefix)
    try:
        output = server.output()
        assert f"{names['ChallengesTable']} (created)" in output
        assert f"{names['DeviceKeysTable']} (created)" not in output
        ttl = dynamodb.describe_time_to_live(TableName=names["ChallengesTable"])["TimeToLiveDescription"]
        assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")

        DeviceKeysClient(server.url, request_token(server.url, "bob")).register("bob", device)

        stored = dynamodb.get_item(
            TableName=names["DeviceKeysTable"], Key={"user_id": {"S": "bob"}, "key_id": {"S": device.key_id}}
        )
        assert stored["Item"]["status"] == {"S": "active"}
    finally:
        assert server.stop() == 0


def test_bad_parameters_fail_at_startup_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        start_server(tmp_path, "--parameter-overrides", "ChallengeTtlSeconds=5")
    assert "ChallengeTtlSeconds must be between 10 and 3600, got 5" in str(failed.value)


def test_a_busy_port_says_what_to_do(local_api: LocalApi) -> None:
    port = str(local_api.server.port)  # taken by the session's server
    command = [sys.executable, "-m", "devicekeys_local", "serve", "--port", port]
    result = subprocess.run(command, capture_output=True, text=True, env=subprocess_env(), timeout=60, check=False)  # noqa: S603
    assert result.returncode == 1
    assert f"pass --port {int(port) + 1}" in result.stderr


def test_create_tables_against_nothing_is_one_clear_line_not_a_traceback() -> None:
    command = [sys.executable, "-m", "devicekeys_local", "create-tables", "--dynamodb-endpoint", "http://127.0.0.1:9"]
    result = subprocess.run(command, capture_output=True, text=True, env=subprocess_env(), timeout=60, check=False)  # noqa: S603
    assert result.returncode == 1
    assert "cannot create the tables at http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("lifetime", ["0", "-5", "604801", "soon"])
def test_a_token_lifetime_outside_its_range_is_refused(lifetime: str) -> None:
    command = [sys.executable, "-m", "devicekeys_local", "token", "--sub", "a", "--expires-in", lifetime]
    result = subprocess.run(command, capture_output=True, text=True, env=subprocess_env(), timeout=60, check=False)  # noqa: S603
    assert result.returncode == 2 and "--expires-in" in result.stderr


def test_the_help_lists_each_command_once() -> None:
    command = [sys.executable, "-m", "devicekeys_local", "--help"]
    result = subprocess.run(command, capture_output=True, text=True, env=subprocess_env(), timeout=60, check=False)  # noqa: S603
    for name in ("serve", "token", "env-json", "lint-asl", "create-tables"):
        assert result.stdout.count(f"    {name} ") == 1, result.stdout
    assert "``" not in result.stdout


def test_env_json_for_sam_local_is_generated_from_the_template() -> None:
    committed = json.loads((ROOT / "local" / "env.json").read_text())
    assert committed == sam_local_env_vars()
    functions = {name for name, r in load_template()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(committed) == functions
    for variables in committed.values():
        assert variables["DYNAMODB_ENDPOINT"] == "http://host.docker.internal:8000"
        assert variables["DEVICE_KEYS_TABLE"] == "devicekeys-local-device-keys"


def test_sam_local_can_apply_every_variable_of_env_json() -> None:
    # sam local overrides only the variables a function declares (its own or the Globals')
    for logical_id, variables in sam_local_env_vars().items():
        assert set(variables) <= set(declared_environment(logical_id))
