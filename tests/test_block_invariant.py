"""A block is an administrator's decision: once an administrator blocks a public key for a user,
only an administrator can make that public key usable for that user again.

Checked on every path a user (or a thief holding the user's phone and session) can take: HTTP
with the owner's token, direct invocations as journeys make them, any sequence of those, and
races with the administrator's own block.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import Api, device_for
from devicekeys import errors
from devicekeys_client import DeviceKeyPair
from devicekeys_local.functions import LocalFunctions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = "/v1/users/alice/device-keys"


def blocked_key(api: Api, device: DeviceKeyPair) -> str:
    assert api.register("alice", device).status == 201
    result = api.call("POST", f"{KEYS}/{device.key_id}/block", {"reason": "stolen"}, as_user="ops", admin=True)
    assert result.status == 200
    return device.key_id


def status_of(api: Api, key_id: str) -> str | None:
    result = api.call("GET", f"{KEYS}/{key_id}", as_user="ops", admin=True)
    return str(result.body["status"]) if result.status == 200 else None


def test_the_owner_cannot_delete_a_blocked_key_and_is_told_who_can(api: Api) -> None:
    key_id = blocked_key(api, device_for("ES256"))

    result = api.call("DELETE", f"{KEYS}/{key_id}", as_user="alice")

    assert (result.status, result.error_code) == (403, "device_blocked")
    assert "administrator" in result.body["error"]["message"]
    assert status_of(api, key_id) == "blocked"
    listed = api.call("GET", KEYS, as_user="alice").body["device_keys"]
    assert [(key["key_id"], key["status"]) for key in listed] == [(key_id, "blocked")]


def test_the_owner_cannot_register_a_blocked_key_again(api: Api) -> None:
    device = device_for("ES256")
    blocked_key(api, device)

    result = api.register("alice", device)

    assert (result.status, result.error_code) == (403, "device_blocked")
    assert api.verify("alice", device).error_code == "device_blocked"


def test_an_administrator_may_remove_a_blocked_key_and_then_the_device_is_new(api: Api) -> None:
    device = device_for("ES256")
    key_id = blocked_key(api, device)

    assert api.call("DELETE", f"{KEYS}/{key_id}", as_user="ops", admin=True).status == 204

    assert api.register("alice", device).status == 201  # the administrator's decision
    assert api.verify("alice", device).status == 200


def test_blocked_keys_count_toward_the_device_limit(api: Api) -> None:
    for slot in range(10):
        device = device_for("ES256", 200 + slot)
        if slot < 3:
            blocked_key(api, device)
        else:
            assert api.register("alice", device).status == 201

    result = api.register("alice", device_for("ES256", 0))

    assert (result.status, result.error_code) == (409, "device_limit_reached")
    assert "blocked ones count" in result.body["error"]["message"]


def test_a_blocked_key_of_another_user_does_not_stop_this_user(api: Api) -> None:
    device = device_for("ES256")
    blocked_key(api, device)
    challenge = api.challenge("bob", "register")
    proof = device.proof(challenge=challenge, user_id="bob", purpose="register")
    assert api.call("POST", "/v1/users/bob/device-keys", {"proof": proof}, as_user="bob").status == 201


# --- any sequence of what the owner (or a thief with the owner's session) can do -------------------


class Owner:
    """Everything alice's token and her journeys can do, as steps a sequence draws from."""

    def __init__(self, api: Api, functions: LocalFunctions) -> None:
        self.api = api
        self.functions = functions

    def delete(self, device: DeviceKeyPair) -> Any:
        return self.api.call("DELETE", f"{KEYS}/{device.key_id}", as_user="alice").status

    def register(self, device: DeviceKeyPair) -> Any:
        return self.api.register("alice", device).status

    def register_replacing(self, device: DeviceKeyPair) -> Any:
        """The single device policy's write, by direct invocation as its journey makes it."""
        challenge = self.api.challenge("alice", "register")
        proof = device.proof(challenge=challenge, user_id="alice", purpose="register")
        try:
            return self.functions.invoke_direct(
                "RegisterDeviceKeyFunction", {"user_id": "alice", "proof": proof, "replace_active": True}
            )["removed"]
        except errors.DeviceKeysError as exc:
            return exc.code

    def direct_delete(self, device: DeviceKeyPair) -> Any:
        try:
            return self.functions.invoke_direct(
                "DeleteDeviceKeyFunction", {"user_id": "alice", "key_id": device.key_id}
            )
        except errors.DeviceKeysError as exc:
            return exc.code

    def rename(self, device: DeviceKeyPair) -> Any:
        return self.api.call("PATCH", f"{KEYS}/{device.key_id}", {"display_name": "mine"}, as_user="alice").status

    def unblock(self, device: DeviceKeyPair) -> Any:
        return self.api.call("POST", f"{KEYS}/{device.key_id}/unblock", as_user="alice").status

    def verify(self, device: DeviceKeyPair) -> Any:
        return self.api.verify("alice", device).status


STEPS = ["delete", "register", "register_replacing", "direct_delete", "rename", "unblock", "verify"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(STEPS), st.sampled_from(["blocked", "other"])), max_size=6))
def test_no_sequence_of_the_owners_steps_makes_a_blocked_key_usable(
    api: Api, functions: LocalFunctions, dynamodb: Any, steps: list[tuple[str, str]]
) -> None:
    """Property: after an administrator's block, whatever the owner does, the key stays blocked and refused."""
    stolen, other = device_for("ES256", 40), device_for("ES256", 41)
    key_id = stolen.key_id
    if status_of(api, key_id) is None:
        blocked_key(api, stolen)
    owner = Owner(api, functions)
    for step, target in steps:
        getattr(owner, step)(stolen if target == "blocked" else other)
        assert status_of(api, key_id) == "blocked", (step, target)
    assert api.verify("alice", stolen).error_code == "device_blocked"


# --- races with the administrator --------------------------------------------------------------


def test_a_block_racing_the_owners_delete_never_both_succeed(api: Api) -> None:
    for round_ in range(12):
        device = device_for("ES256", 60 + round_)
        assert api.register("alice", device).status == 201
        path = f"{KEYS}/{device.key_id}"
        with ThreadPoolExecutor(2) as pool:
            blocked = pool.submit(api.call, "POST", f"{path}/block", as_user="ops", admin=True)
            deleted = pool.submit(api.call, "DELETE", path, as_user="alice")
            outcome = (blocked.result().status, deleted.result().status)
        # either the delete came first (the block finds nothing) or the block did (the delete is refused)
        assert outcome in {(404, 204), (200, 403)}, outcome
        assert status_of(api, device.key_id) == ("blocked" if outcome == (200, 403) else None)
        api.call("DELETE", path, as_user="ops", admin=True)  # blocked keys count toward the limit


def test_a_replacement_racing_a_block_never_removes_the_blocked_key(
    api: Api, functions: LocalFunctions, dynamodb: Any
) -> None:
    owner = Owner(api, functions)
    outcomes: Counter[str] = Counter()
    for round_ in range(8):
        victims = [device_for("ES256", 80 + 3 * round_ + slot) for slot in range(3)]
        for victim in victims:
            assert api.register("alice", victim).status == 201
        newcomer = device_for("ES384", round_)
        with ThreadPoolExecutor(2) as pool:
            blocked = pool.submit(api.call, "POST", f"{KEYS}/{victims[0].key_id}/block", as_user="ops", admin=True)
            replaced = pool.submit(owner.register_replacing, newcomer)
            block_status, removed = blocked.result().status, replaced.result()
        outcomes[f"{block_status}/{removed}"] += 1
        if block_status == 200:  # the block landed: the key is there, blocked, whatever the replacement did
            assert status_of(api, victims[0].key_id) == "blocked"
        listed = api.call("GET", KEYS, as_user="ops", admin=True).body["device_keys"]
        statuses = {key["key_id"]: key["status"] for key in listed}
        if isinstance(removed, int):  # the replacement landed: no other key is still active
            assert [key_id for key_id, status in statuses.items() if status == "active"] == [newcomer.key_id]
        for key_id in statuses:  # clean up for the next round
            api.call("DELETE", f"{KEYS}/{key_id}", as_user="ops", admin=True)
    assert sum(outcomes.values()) == 8


@pytest.mark.parametrize("actor", [None, {"kind": "user", "subject": "alice"}])
def test_a_direct_invocation_without_an_admin_cannot_remove_a_blocked_key(
    api: Api, functions: LocalFunctions, actor: Any
) -> None:
    key_id = blocked_key(api, device_for("ES256"))
    document: dict[str, Any] = {"user_id": "alice", "key_id": key_id, **({"actor": actor} if actor else {})}
    with pytest.raises(errors.DeviceBlocked):
        functions.invoke_direct("DeleteDeviceKeyFunction", document)
    with pytest.raises(errors.Forbidden):
        functions.invoke_direct("UnblockDeviceKeyFunction", document)
    assert status_of(api, key_id) == "blocked"
