"""Inactivity expiry (InactiveKeyDays): a key not verified for that many days is no longer a known device.

Domain services with a controlled clock, against the moto tables built from the template.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api, device_for
from devicekeys.access import ADMIN, USER, Caller
from devicekeys.binding import DeviceBinding
from devicekeys.challenges import ChallengeService
from devicekeys.device_keys import DeviceKeyService
from devicekeys.errors import DeviceBlocked, DeviceExpired
from devicekeys.models import build_models
from devicekeys.settings import Settings
from devicekeys_client import DeviceKeyPair

DAY = 86400
START = 1_800_000_000.0
ALICE = Caller(USER, "alice")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class Deployment:
    """One user's side of a deployment with InactiveKeyDays=30, its clock in the test's hands."""

    def __init__(self) -> None:
        self.clock = Clock()
        settings = Settings.from_env()
        models = build_models(settings)
        self.keys = DeviceKeyService(models, max_devices_per_user=3, inactive_key_days=30, clock=self.clock)
        self.challenges = ChallengeService(models.challenge, models.connection, ttl_seconds=120, clock=self.clock)
        self.binding = DeviceBinding(self.keys, self.challenges, settings, clock=self.clock)

    def proof(self, device: DeviceKeyPair, purpose: str) -> str:
        challenge = self.challenges.issue("alice", purpose=purpose).challenge
        return device.proof(challenge=challenge, user_id="alice", purpose=purpose, issued_at=int(self.clock.now))

    def register(self, device: DeviceKeyPair) -> Any:
        return self.binding.register("alice", self.proof(device, "register"), actor=ALICE)

    def verify(self, device: DeviceKeyPair) -> Any:
        return self.binding.verify("alice", self.proof(device, "verify"))

    def count(self, dynamodb: Any) -> int:
        key = {"user_id": {"S": "alice"}, "key_id": {"S": "#devices"}}
        return int(dynamodb.get_item(TableName="test-device-keys", Key=key)["Item"]["device_count"]["N"])


@pytest.fixture
def deployment(dynamodb: Any) -> Deployment:
    return Deployment()


def test_a_key_expires_at_its_boundary_and_each_verification_pushes_it_back(deployment: Deployment) -> None:
    device = device_for("ES256")
    record = deployment.register(device)
    assert record.expires_at.timestamp() == START + 30 * DAY

    deployment.clock.now = START + 30 * DAY - 1  # the last second it is still known
    verified = deployment.verify(device)
    assert verified.expires_at.timestamp() == START + 60 * DAY - 1  # the same write that recorded the verification

    deployment.clock.now = START + 60 * DAY - 1
    with pytest.raises(DeviceExpired):
        deployment.verify(device)


def test_the_expiry_is_the_tables_ttl_attribute(deployment: Deployment, dynamodb: Any) -> None:
    deployment.register(device_for("ES256"))
    ttl = dynamodb.describe_time_to_live(TableName="test-device-keys")["TimeToLiveDescription"]
    item = dynamodb.get_item(
        TableName="test-device-keys", Key={"user_id": {"S": "alice"}, "key_id": {"S": device_for("ES256").key_id}}
    )["Item"]
    assert ttl["AttributeName"] == "expires_at" and item["expires_at"] == {"N": str(int(START + 30 * DAY))}


def test_a_blocked_key_never_expires_so_a_block_cannot_lapse(deployment: Deployment, dynamodb: Any) -> None:
    device = device_for("ES256")
    deployment.register(device)
    blocked = deployment.keys.block("alice", device.key_id, reason="stolen", actor=Caller(ADMIN, "ops"))
    assert blocked.expires_at is None
    deployment.clock.now = START + 10_000 * DAY
    with pytest.raises(DeviceBlocked):
        deployment.verify(device)
    with pytest.raises(DeviceBlocked):  # nor can it come back by registering again
        deployment.register(device)
    unblocked = deployment.keys.unblock("alice", device.key_id, actor=Caller(ADMIN, "ops"))
    assert unblocked.expires_at.timestamp() == deployment.clock.now + 30 * DAY  # an unblock starts it afresh


def test_an_expired_key_registered_again_takes_its_own_place_in_the_count(
    deployment: Deployment, dynamodb: Any
) -> None:
    device = device_for("ES256")
    deployment.register(device)
    deployment.register(device_for("ES256", 1))
    deployment.clock.now = START + 31 * DAY  # expired; DynamoDB's TTL has not removed it yet

    again = deployment.register(device)

    assert again.created_at.timestamp() == pytest.approx(deployment.clock.now)
    assert deployment.count(dynamodb) == 2
    assert deployment.verify(device).key_id == device.key_id


def test_an_expired_key_that_is_blocked_meanwhile_is_not_revived(deployment: Deployment, dynamodb: Any) -> None:
    # GIVEN an expired key that an administrator blocks just before it would be replaced
    device = device_for("ES256")
    deployment.register(device)
    deployment.clock.now = START + 31 * DAY
    original = deployment.keys._replace_expired

    def blocked_first(item: Any) -> None:
        deployment.keys.block("alice", device.key_id, actor=Caller(ADMIN, "ops"))
        original(item)

    deployment.keys._replace_expired = blocked_first  # type: ignore[method-assign]
    # THEN the registration is refused and the block stands
    with pytest.raises(DeviceBlocked):
        deployment.register(device)
    assert deployment.keys.get("alice", device.key_id).status == "blocked"


def test_without_inactive_key_days_keys_never_expire(api: Api) -> None:
    device = device_for("ES256")
    record = api.register("alice", device).body
    assert record["expires_at"] is None


def test_verify_answers_device_expired_over_http(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    device = device_for("ES256")
    verify = api.functions.module("VerifyDeviceKeyFunction").runtime.device_keys
    register = api.functions.module("RegisterDeviceKeyFunction").runtime.device_keys
    monkeypatch.setattr(register, "_inactive_seconds", 30 * DAY)
    monkeypatch.setattr(verify, "_inactive_seconds", 30 * DAY)
    assert api.register("alice", device).status == 201
    monkeypatch.setattr(verify, "_clock", lambda: START * 2)  # long after

    result = api.verify("alice", device)

    assert (result.status, result.error_code) == (403, "device_expired")
