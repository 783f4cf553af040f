"""Key rotation and "sign out my other devices" from the browser SDK, in Chromium.

Rotation must never leave a device locked out: the new key is kept aside until the API has
taken it, so an answer lost on the way (the rotation happened, the browser never heard) is
recovered on the next call, and a refusal leaves the device exactly as it was.
"""

from __future__ import annotations

from typing import Any

import pytest
from devicekeys_client import DeviceKeyPair

from ..conftest import LocalApi
from .test_sdk import ALGORITHMS, SdkError, call_sdk, register

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ROTATE = "return await device().rotate(args.user, { token: args.token });"
KEY_ID = "return await device().keyId();"
VERIFY = "return await device().verify(args.user);"
PENDING_KEYS = """
  const database = await new Promise((resolve, reject) => {
    const opening = indexedDB.open("devicekeys");
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
  const count = await new Promise((resolve) => {
    const counting = database.transaction("pending-keys").objectStore("pending-keys").count();
    counting.onsuccess = () => resolve(counting.result);
  });
  database.close();
  return count;
"""


def rotate(sdk: Any, local_api: LocalApi, user: str) -> dict[str, Any]:
    return call_sdk(sdk, ROTATE, user=user, token=local_api.token(user))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_rotation_gives_the_device_a_new_key_and_keeps_its_record(
    local_api: LocalApi, sdk: Any, user_id: str, algorithm: str
) -> None:
    old = call_sdk(
        sdk,
        """return await device({ algorithm: args.algorithm }).register(args.user,
             { token: args.token, displayName: "laptop", customData: { os: "linux" } });""",
        user=user_id,
        token=local_api.token(user_id),
        algorithm=algorithm,
    )

    rotated = rotate(sdk, local_api, user_id)

    assert rotated["key_id"] != old["key_id"] and call_sdk(sdk, KEY_ID) == rotated["key_id"]
    assert (rotated["display_name"], rotated["custom_data"], rotated["created_at"]) == (
        "laptop",
        {"os": "linux"},
        old["created_at"],
    )
    assert rotated["alg"] == algorithm  # a key keeps its algorithm across rotations
    assert call_sdk(sdk, VERIFY, user=user_id)["key_id"] == rotated["key_id"]
    listed = [key.key_id for key in local_api.client(user_id).iter_device_keys(user_id)]
    assert listed == [rotated["key_id"]]  # the old key is gone: a copy of it proves nothing now
    assert call_sdk(sdk, PENDING_KEYS) == 0


def lose_the_answer(sdk: Any) -> None:
    """The rotation reaches the API and happens there; its answer never reaches the page."""

    def deliver_then_drop(route: Any) -> None:
        route.fetch()
        route.abort("connectionreset")

    sdk.route("**/device-keys/rotate", deliver_then_drop, times=1)


def test_a_rotation_whose_answer_was_lost_is_recovered_by_the_next_verify(
    local_api: LocalApi, sdk: Any, user_id: str
) -> None:
    old = register(sdk, local_api, user_id)
    lose_the_answer(sdk)

    with pytest.raises(SdkError) as lost:
        rotate(sdk, local_api, user_id)
    assert lost.value.code == "network_error" and lost.value.retryable
    assert call_sdk(sdk, KEY_ID) == old["key_id"]  # the browser cannot know yet which key is current

    verification = call_sdk(sdk, VERIFY, user=user_id)

    (registered,) = [key.key_id for key in local_api.client(user_id).iter_device_keys(user_id)]
    assert verification["key_id"] == registered != old["key_id"]
    assert call_sdk(sdk, KEY_ID) == registered
    assert call_sdk(sdk, PENDING_KEYS) == 0


def test_rotating_again_after_a_lost_answer_finishes_the_first_rotation(
    local_api: LocalApi, sdk: Any, user_id: str
) -> None:
    old = register(sdk, local_api, user_id)
    lose_the_answer(sdk)
    with pytest.raises(SdkError):
        rotate(sdk, local_api, user_id)

    record = rotate(sdk, local_api, user_id)

    listed = [key.key_id for key in local_api.client(user_id).iter_device_keys(user_id)]
    assert listed == [record["key_id"]] == [call_sdk(sdk, KEY_ID)]
    assert record["key_id"] != old["key_id"]


def test_a_refused_rotation_leaves_the_device_as_it_was(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    old = register(sdk, local_api, user_id)
    local_api.client("security-team", admin=True).block(user_id, old["key_id"], reason="investigating")

    with pytest.raises(SdkError) as refused:
        rotate(sdk, local_api, user_id)

    assert (refused.value.code, refused.value.status) == ("device_blocked", 403)
    assert call_sdk(sdk, KEY_ID) == old["key_id"]
    assert call_sdk(sdk, PENDING_KEYS) == 0  # the new key the service refused is forgotten
    local_api.client("security-team", admin=True).unblock(user_id, old["key_id"])
    assert call_sdk(sdk, VERIFY, user=user_id)["key_id"] == old["key_id"]


def test_a_browser_with_the_first_versions_database_upgrades_and_rotates(
    local_api: LocalApi, sdk: Any, user_id: str
) -> None:
    call_sdk(
        sdk,
        """await new Promise((resolve, reject) => {
             const opening = indexedDB.open("devicekeys", 1);
             opening.onupgradeneeded = () => {
               opening.result.createObjectStore("device-keys");
               opening.result.createObjectStore("saved-data");
             };
             opening.onsuccess = () => { opening.result.close(); resolve(); };
             opening.onerror = () => reject(opening.error);
           });""",
    )
    register(sdk, local_api, user_id)

    assert rotate(sdk, local_api, user_id)["key_id"] == call_sdk(sdk, KEY_ID)


def test_sign_out_other_devices_keeps_this_one_and_blocked_ones(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    this = register(sdk, local_api, user_id)
    app, admin = local_api.client(user_id), local_api.client("security-team", admin=True)
    other, stolen = DeviceKeyPair.generate("ES256"), DeviceKeyPair.generate("ES256")
    app.register(user_id, other)
    app.register(user_id, stolen)
    admin.block(user_id, stolen.key_id, reason="reported stolen")

    outcome = call_sdk(
        sdk,
        "return await device().signOutOtherDevices(args.user, { token: args.token });",
        user=user_id,
        token=local_api.token(user_id),
    )

    assert (outcome["outcome"], outcome["removed"], outcome["key_id"]) == ("signed_out", 1, this["key_id"])
    remaining = {key.key_id: key.status for key in app.iter_device_keys(user_id)}
    assert remaining == {this["key_id"]: "active", stolen.key_id: "blocked"}


def test_an_unknown_device_signs_no_one_out(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    register(sdk, local_api, f"{user_id}-elsewhere")  # this browser's key belongs to another user
    app = local_api.client(user_id)
    app.register(user_id, DeviceKeyPair.generate("ES256"))

    outcome = call_sdk(
        sdk,
        "return await device().signOutOtherDevices(args.user, { token: args.token });",
        user=user_id,
        token=local_api.token(user_id),
    )

    assert (outcome["outcome"], outcome["reason"], outcome["removed"]) == ("rejected", "device_not_found", 0)
    assert app.count(user_id) == 1
