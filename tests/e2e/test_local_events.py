"""Lifecycle events on one machine: the local API publishes what the deployed stack publishes.

The session's server runs the template's stream subscription (the publisher function, in
process), its TTL (swept every second here) and an event bus at ``GET /_local/events``.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from devicekeys_client import DeviceKeyExists, DeviceKeyPair, DeviceNotFound

from .conftest import LocalApi, http

pytestmark = pytest.mark.e2e


def events_of(local_api: LocalApi, user_id: str, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    """The user's events on the local bus, once ``count`` have arrived (the stream is polled)."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = http(local_api, "GET", "/_local/events")
        assert status == 200
        mine = [event for event in body["events"] if event["detail"].get("user_id") == user_id]
        if len(mine) >= count or time.monotonic() > deadline:
            return mine
        time.sleep(0.2)


def test_every_change_to_a_device_key_is_one_event_with_who_made_it(
    local_api: LocalApi, user_id: str, device: DeviceKeyPair
) -> None:
    app, admin = local_api.client(user_id), local_api.client("helpdesk", admin=True)

    app.register(user_id, device, display_name="phone")
    with pytest.raises(DeviceKeyExists):  # a refused change is no event, and the stream goes on
        app.register(user_id, device)
    app.verify(user_id, device)  # a verification is not a lifecycle change: no event
    app.rename(user_id, device.key_id, "old phone")
    admin.block(user_id, device.key_id, reason="reported stolen")
    admin.unblock(user_id, device.key_id)
    app.delete(user_id, device.key_id)

    events = events_of(local_api, user_id, 5)
    assert [event["detail-type"] for event in events] == [
        "Device key registered",
        "Device key updated",
        "Device key blocked",
        "Device key unblocked",
        "Device key deleted",
    ]
    assert {event["source"] for event in events} == {"devicekeys"}
    assert {event["detail"]["key_id"] for event in events} == {device.key_id}
    actors = [(event["detail"]["actor"]["kind"], event["detail"]["actor"]["subject"]) for event in events]
    assert actors == [
        ("user", user_id),
        ("user", user_id),
        ("admin", "helpdesk"),
        ("admin", "helpdesk"),
        ("user", user_id),
    ]
    assert events[2]["detail"]["reason"] == "reported stolen"
    time.sleep(1)
    assert len(events_of(local_api, user_id, 6, timeout=0)) == 5  # published once each


def test_a_key_past_its_expiry_is_removed_by_ttl_as_an_expired_event(
    local_api: LocalApi, user_id: str, device: DeviceKeyPair
) -> None:
    app = local_api.client(user_id)
    app.register(user_id, device)
    events_of(local_api, user_id, 1)
    # GIVEN the key's TTL attribute in the past (as InactiveKeyDays sets it after a quiet spell)
    _, _, health = http(local_api, "GET", "/_local/health")
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=health["dynamodb_endpoint"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    dynamodb.update_item(
        TableName=health["tables"]["DeviceKeysTable"],
        Key={"user_id": {"S": user_id}, "key_id": {"S": device.key_id}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 60)}},
    )

    # THEN the TTL stand-in removes it, the stream says TTL did, and the publisher says so
    events = events_of(local_api, user_id, 2)
    assert [event["detail-type"] for event in events] == ["Device key registered", "Device key expired"]
    assert events[1]["detail"]["actor"] == {"kind": "system", "subject": "ttl"}
    with pytest.raises(DeviceNotFound):
        app.get(user_id, device.key_id)
    assert app.count(user_id) == 0


def test_only_this_machine_may_put_events_on_the_local_bus(local_api: LocalApi) -> None:
    status, _, body = http(local_api, "POST", "/_local/eventbridge", {"Entries": []})

    assert status == 400  # not a PutEvents request (no X-Amz-Target): refused, nothing kept
    assert "PutEvents" in body["message"]
