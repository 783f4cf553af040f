"""Every device-management use case (docs/journeys.md lists them), over HTTP with the SDK.

Each test is one journey of the guide, played by a device (a real key pair) and its app (a
user's token) against the local API; admins hold a token with the admin scope.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from devicekeys_client import (
    ChallengeExpired,
    ChallengeNotFound,
    DeviceBlocked,
    DeviceKeyExists,
    DeviceKeyPair,
    DeviceKeysError,
    DeviceLimitReached,
    DeviceNotFound,
    Forbidden,
)

from .conftest import CHALLENGE_TTL, MAX_DEVICES, LocalApi, http

pytestmark = pytest.mark.e2e


def test_register_a_new_device_after_login(local_api: LocalApi, user_id: str, device: DeviceKeyPair) -> None:
    app = local_api.client(user_id)

    record = app.register(user_id, device, display_name="Alice's phone", custom_data={"platform": "android"})

    assert record.key_id == device.key_id  # the client can compute key_id locally
    assert (record.user_id, record.status, record.alg) == (user_id, "active", "ES256")
    assert record.display_name == "Alice's phone"
    assert record.custom_data == {"platform": "android"}
    assert record.public_key == device.public_jwk
    assert "d" not in record.public_key
    assert record.created_at is not None
    assert record.last_verified_at is None


def test_registering_the_same_key_twice_is_a_clear_conflict(
    local_api: LocalApi, user_id: str, device: DeviceKeyPair
) -> None:
    app = local_api.client(user_id)
    app.register(user_id, device)

    with pytest.raises(DeviceKeyExists) as refused:
        app.register(user_id, device)

    assert refused.value.status == 409
    assert app.count(user_id) == 1


def test_identify_returning_device_login_from_registered_devices_only(
    local_api: LocalApi, user_id: str, device: DeviceKeyPair
) -> None:
    local_api.client(user_id).register(user_id, device)
    login = local_api.client()  # no token yet: the proof is the credential

    result = login.verify(user_id, device)

    assert result.known is True
    assert result.key_id == device.key_id
    assert result.status == "active"
    assert result.device_key.last_verified_at is not None
    assert login.is_known_device(user_id, DeviceKeyPair.generate()) is False
    with pytest.raises(DeviceNotFound):  # an unknown device is rejected
        login.verify(user_id, DeviceKeyPair.generate())
    with pytest.raises(DeviceNotFound):  # and so is an unknown user, in the same words
        login.verify(f"nobody-{uuid.uuid4().hex[:6]}", device)


def test_enrich_device_info_rename_and_custom_data(local_api: LocalApi, user_id: str, device: DeviceKeyPair) -> None:
    app = local_api.client(user_id)
    app.register(user_id, device)
    key_id = app.verify(user_id, device).key_id  # 1. Is known device returns key_id

    renamed = app.rename(user_id, key_id, "My work cellphone")  # 3. Update device key with clientData
    enriched = app.update("me", key_id, custom_data={"risk": "low", "seen": [1, 2]})

    assert renamed.display_name == "My work cellphone"
    assert enriched.display_name == "My work cellphone"
    assert enriched.custom_data == {"risk": "low", "seen": [1, 2]}
    cleared = app.update(user_id, key_id, display_name=None, custom_data=None)
    assert (cleared.display_name, cleared.custom_data) == (None, None)


def test_read_device_data_and_branch_on_its_name(local_api: LocalApi, user_id: str, device: DeviceKeyPair) -> None:
    app = local_api.client(user_id)
    app.register(user_id, device, display_name="My work cellphone")
    key_id = app.verify(user_id, device).key_id

    result = app.get(user_id, key_id)  # Get device key API

    message = "It's a work phone" if result.display_name == "My work cellphone" else "A personal device"
    assert message == "It's a work phone"
    assert result.to_dict()["display_name"] == "My work cellphone"


def test_count_user_devices(local_api: LocalApi, user_id: str) -> None:
    app = local_api.client(user_id)
    assert app.count(user_id) == 0
    devices = [DeviceKeyPair.generate() for _ in range(MAX_DEVICES)]
    for number, device in enumerate(devices):
        app.register(user_id, device, display_name=f"device {number}")

    first_page = app.list(user_id, limit=2)
    everything = list(app.iter_device_keys(user_id, page_size=2))  # the pagination helper follows next_token

    assert len(first_page.device_keys) == 2
    assert first_page.next_token is not None
    assert sorted(key.key_id for key in everything) == sorted(device.key_id for device in devices)
    assert app.count(user_id) == MAX_DEVICES
    assert len(app.list("me").device_keys) == MAX_DEVICES  # `me` is the token's sub


def test_device_limit_holds_even_under_concurrent_registrations(local_api: LocalApi, user_id: str) -> None:
    app = local_api.client(user_id)
    devices = [DeviceKeyPair.generate() for _ in range(MAX_DEVICES + 3)]

    def register(device: DeviceKeyPair) -> str:
        try:
            app.register(user_id, device)
        except DeviceKeysError as refused:
            return refused.code
        return "registered"

    with ThreadPoolExecutor(max_workers=len(devices)) as pool:
        outcomes = list(pool.map(register, devices))

    assert outcomes.count("registered") == MAX_DEVICES
    assert set(outcomes) - {"registered"} <= {"device_limit_reached", "service_unavailable"}
    assert app.count(user_id) == MAX_DEVICES
    with pytest.raises(DeviceLimitReached):
        app.register(user_id, DeviceKeyPair.generate())


def test_forget_device_it_appears_as_new_next_time(local_api: LocalApi, user_id: str, device: DeviceKeyPair) -> None:
    app = local_api.client(user_id)
    app.register(user_id, device)

    app.delete(user_id, device.key_id)

    with pytest.raises(DeviceNotFound):
        app.get(user_id, device.key_id)
    assert app.is_known_device(user_id, device) is False
    assert app.count(user_id) == 0
    again = app.register(user_id, device)  # new again: it can be registered afresh
    assert again.key_id == device.key_id
    with pytest.raises(DeviceNotFound):
        app.delete(user_id, DeviceKeyPair.generate().key_id)


def test_single_device_policy(local_api: LocalApi, user_id: str) -> None:
    app = local_api.client(user_id)
    old_devices = [DeviceKeyPair.generate(), DeviceKeyPair.generate("Ed25519")]
    for old in old_devices:
        app.register(user_id, old)
    current = DeviceKeyPair.generate()

    if not app.is_known_device(user_id, current):  # 1. a new device: 2. list the others
        others = [key.key_id for key in app.iter_device_keys(user_id)]
        if len(others) > 0:  # 3. the user has other devices: 4. remove them
            for key_id in others:
                app.delete(user_id, key_id)
        app.register(user_id, current)  # 6. register the current device

    remaining = list(app.iter_device_keys(user_id))
    assert [key.key_id for key in remaining] == [current.key_id]
    assert app.is_known_device(user_id, current)
    assert not any(app.is_known_device(user_id, old) for old in old_devices)


def test_block_and_unblock_a_device(local_api: LocalApi, user_id: str, device: DeviceKeyPair) -> None:
    app = local_api.client(user_id)
    admin = local_api.client("security-team", admin=True)
    app.register(user_id, device, display_name="Work laptop")

    blocked = admin.block(user_id, device.key_id, reason="reported stolen")

    assert (blocked.status, blocked.blocked_reason) == ("blocked", "reported stolen")
    assert blocked.blocked_at is not None
    listed = app.list(user_id)  # a blocked device stays visible
    assert [(key.key_id, key.status) for key in listed.device_keys] == [(device.key_id, "blocked")]
    assert [key.key_id for key in app.iter_device_keys(user_id, status="blocked")] == [device.key_id]
    assert list(app.iter_device_keys(user_id, status="active")) == []
    with pytest.raises(DeviceBlocked) as refused:  # and fails "is known device"
        local_api.client().verify(user_id, device)
    assert refused.value.status == 403

    unblocked = admin.unblock(user_id, device.key_id)

    assert (unblocked.status, unblocked.blocked_at, unblocked.blocked_reason) == ("active", None, None)
    assert local_api.client().verify(user_id, device).known


def test_only_admins_block_and_unblock(local_api: LocalApi, user_id: str, device: DeviceKeyPair) -> None:
    app = local_api.client(user_id)
    app.register(user_id, device)

    with pytest.raises(Forbidden):
        app.block(user_id, device.key_id)
    with pytest.raises(Forbidden):
        app.unblock(user_id, device.key_id)
    assert app.get(user_id, device.key_id).status == "active"


def test_a_blocked_status_is_revealed_only_to_the_keys_own_signature(
    local_api: LocalApi, user_id: str, device: DeviceKeyPair
) -> None:
    local_api.client(user_id).register(user_id, device)
    local_api.client("security-team", admin=True).block(user_id, device.key_id)
    login = local_api.client()
    impostor = DeviceKeyPair.generate()
    challenge = login.issue_challenge(user_id, "verify").challenge
    forged = impostor.proof(challenge=challenge, user_id=user_id, purpose="verify", header={"kid": device.key_id})

    with pytest.raises(DeviceNotFound):  # not DeviceBlocked: the impostor learns nothing, not even that it exists
        login.verify_proof(user_id, forged)


def test_a_used_proof_cannot_be_replayed(local_api: LocalApi, user_id: str, device: DeviceKeyPair) -> None:
    local_api.client(user_id).register(user_id, device)
    login = local_api.client()
    challenge = login.issue_challenge(user_id, "verify").challenge
    proof = device.proof(challenge=challenge, user_id=user_id, purpose="verify")
    assert login.verify_proof(user_id, proof).known

    with pytest.raises(ChallengeNotFound) as replayed:
        login.verify_proof(user_id, proof)

    assert replayed.value.status == 401


def test_a_proof_for_one_user_does_not_work_for_another(
    local_api: LocalApi, new_user: Callable[[], str], device: DeviceKeyPair
) -> None:
    alice, bob = new_user(), new_user()
    local_api.client(alice).register(alice, device)
    login = local_api.client()

    with pytest.raises(DeviceNotFound):  # alice's device is not bob's
        login.verify(bob, device)
    local_api.client(bob).register(bob, device)  # the same key, registered for both
    challenge = login.issue_challenge(alice, "verify").challenge
    with pytest.raises(ChallengeNotFound):  # a challenge is bound to its user
        login.verify_proof(bob, device.proof(challenge=challenge, user_id=bob, purpose="verify"))


def test_a_user_cannot_touch_another_users_devices(
    local_api: LocalApi, new_user: Callable[[], str], device: DeviceKeyPair
) -> None:
    alice, mallory = new_user(), new_user()
    local_api.client(alice).register(alice, device)
    as_mallory = local_api.client(mallory)

    for attempt in (
        lambda: as_mallory.get(alice, device.key_id),
        lambda: as_mallory.list(alice),
        lambda: as_mallory.rename(alice, device.key_id, "mine now"),
        lambda: as_mallory.delete(alice, device.key_id),
        lambda: as_mallory.register(alice, DeviceKeyPair.generate()),
    ):
        with pytest.raises(Forbidden):
            attempt()
    assert local_api.client("support", admin=True).get(alice, device.key_id).display_name is None


def test_an_expired_challenge_is_refused(local_api: LocalApi, device: DeviceKeyPair) -> None:
    """Issued when the session started; the server runs with ChallengeTtlSeconds=10."""
    stale = local_api.stale_challenge
    local_api.client(stale.user_id).register(stale.user_id, device)
    time.sleep(max(0.0, stale.issued_at + CHALLENGE_TTL + 1.1 - time.monotonic()))
    proof = device.proof(challenge=stale.challenge, user_id=stale.user_id, purpose="verify")

    with pytest.raises(ChallengeExpired) as expired:
        local_api.client().verify_proof(stale.user_id, proof)

    assert expired.value.status == 401
    with pytest.raises(ChallengeNotFound):  # and it was used up all the same
        local_api.client().verify_proof(stale.user_id, proof)


def test_journeys_run_through_the_local_api(local_api: LocalApi, user_id: str, device: DeviceKeyPair) -> None:
    """The template's state machines, started over HTTP as on AWS (POST /v1/journeys/...)."""
    token = local_api.token(user_id)
    local_api.client(user_id).register(user_id, device)

    status, _, counted = http(local_api, "POST", "/v1/journeys/count-devices", {}, token=token)
    assert (status, counted["count"]) == (200, 1)

    challenge = local_api.client().issue_challenge(user_id, "verify").challenge
    proof = device.proof(challenge=challenge, user_id=user_id, purpose="verify")
    login = {"user_id": user_id, "proof": proof}
    status, _, outcome = http(local_api, "POST", "/v1/journeys/login-registered-device", login)  # open route
    assert (status, outcome["outcome"], outcome["key_id"]) == (200, "allowed", device.key_id)


def test_a_device_rotates_its_key_and_keeps_its_record(local_api: LocalApi, user_id: str) -> None:
    app = local_api.client(user_id)
    old, new = DeviceKeyPair.generate("ES256"), DeviceKeyPair.generate("Ed25519")
    before = app.register(user_id, old, display_name="Work laptop", custom_data={"os": "linux"})

    after = app.rotate(user_id, old, new)

    assert (after.key_id, after.alg, after.display_name, after.custom_data) == (
        new.key_id,
        "Ed25519",
        "Work laptop",
        {"os": "linux"},
    )
    assert after.created_at == before.created_at
    assert not local_api.client().is_known_device(user_id, old)
    assert local_api.client().is_known_device(user_id, new)


def test_sign_out_my_other_devices(local_api: LocalApi, user_id: str) -> None:
    app = local_api.client(user_id)
    this, phone, tablet = DeviceKeyPair.generate(), DeviceKeyPair.generate(), DeviceKeyPair.generate()
    for device in (this, phone, tablet):
        app.register(user_id, device)
    local_api.client("ops", admin=True).block(user_id, tablet.key_id, reason="lost")

    outcome = app.sign_out_other_devices(user_id, this)

    assert (outcome["outcome"], outcome["removed"]) == ("signed_out", 1)
    assert sorted((key.key_id, key.status) for key in app.iter_device_keys(user_id)) == sorted(
        [(this.key_id, "active"), (tablet.key_id, "blocked")]
    )
