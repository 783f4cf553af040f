"""Bound-session events: registered, refreshed (sampled), terminated, expired, on the device-key events' bus.

The real path, as tests/test_event_publisher.py runs it: the functions write, moto's stream records
the writes, the publisher function publishes, a rule forwards everything to a queue the test reads.
"""

from __future__ import annotations

from typing import Any

import pytest
from bound_session_helpers import Dbsc, SessionBrowser, signing_key
from devicekeys.session_events import REFRESH_EVENT_EVERY
from test_event_publisher import Bus, bus  # noqa: F401 - the publisher test's bus fixture

SESSION_FIELDS = {"event_id", "type", "user_id", "session_id", "actor", "reason", "time", "session"}


@pytest.fixture
def dbsc(bus: Bus, functions: Any) -> Dbsc:  # noqa: F811 - the imported fixture
    return Dbsc(bus.api, signing_key(functions))


def sessions_table_item(events: Bus, session_id: str) -> dict[str, Any]:
    (item,) = [
        item
        for item in events.dynamodb.scan(TableName="test-device-keys")["Items"]
        if item.get("session_id", {}).get("S") == session_id
    ]
    return dict(item)


def test_a_sessions_life_is_three_events_and_refreshes_between_samples_are_none(bus: Bus, dbsc: Dbsc) -> None:  # noqa: F811
    browser = SessionBrowser.generate()
    session_id, _ = dbsc.session(browser)
    (registered,) = bus.flush()

    dbsc.challenge(session_id)
    assert bus.flush() == []  # leg 1 stores a challenge: no event, and nothing remembered
    assert bus.dynamodb.scan(TableName="test-published-events")["Count"] == 1
    assert dbsc.refresh(browser, session_id).status == 200
    (refreshed,) = bus.flush()
    assert dbsc.refresh(browser, session_id).status == 200
    assert bus.flush() == []  # the second refresh is not sampled
    path = f"/v1/users/alice/bound-sessions/{session_id}/terminate"
    dbsc.api.call("POST", path, {"reason": "lost phone"}, as_user="ops", admin=True)
    dbsc.api.call("POST", path, {"reason": "again"}, as_user="ops", admin=True)
    (terminated,) = bus.flush()

    for event, kind in ((registered, "registered"), (refreshed, "refreshed"), (terminated, "terminated")):
        assert (event["source"], event["detail-type"]) == ("devicekeys", f"Device session {kind}")
        assert set(event["detail"]) == SESSION_FIELDS
        assert event["detail"]["type"] == f"session_{kind}" and event["detail"]["session_id"] == session_id
        assert event["detail"]["time"].endswith("Z") and event["detail"]["user_id"] == "alice"
    assert registered["detail"]["actor"] == {"kind": "user", "subject": "alice"}
    assert registered["detail"]["session"]["alg"] == "ES256"
    assert refreshed["detail"]["session"]["refresh_count"] == 1
    assert terminated["detail"]["actor"] == {"kind": "admin", "subject": "ops"}
    assert terminated["detail"]["reason"] == "lost phone"


def test_every_hundredth_refresh_is_counted_on_the_bus(bus: Bus, dbsc: Dbsc) -> None:  # noqa: F811
    browser = SessionBrowser.generate()
    session_id, _ = dbsc.session(browser)
    item = sessions_table_item(bus, session_id)
    key = {"user_id": item["user_id"], "key_id": item["key_id"]}
    bus.dynamodb.update_item(
        TableName="test-device-keys",
        Key=key,
        UpdateExpression="SET refresh_count = :n",
        ExpressionAttributeValues={":n": {"N": str(REFRESH_EVENT_EVERY - 1)}},
    )
    bus.flush()

    assert dbsc.refresh(browser, session_id).status == 200
    (sampled,) = bus.flush()

    assert sampled["detail"]["session"]["refresh_count"] == REFRESH_EVENT_EVERY


def test_an_idle_session_removed_by_ttl_is_an_expired_event(bus: Bus, dbsc: Dbsc) -> None:  # noqa: F811
    session_id, _ = dbsc.session(SessionBrowser.generate())
    ended_id, _ = dbsc.session(SessionBrowser.generate())
    dbsc.api.call("POST", f"/v1/users/alice/bound-sessions/{ended_id}/terminate", {}, as_user="alice")
    bus.flush()
    for removed in (session_id, ended_id):
        item = sessions_table_item(bus, removed)
        bus.dynamodb.delete_item(
            TableName="test-device-keys", Key={"user_id": item["user_id"], "key_id": item["key_id"]}
        )
    records = [record for record in bus.records() if record["eventName"] == "REMOVE"]
    for record in records:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

    assert bus.publish(records) == {"batchItemFailures": []}
    (expired,) = bus.received(bus.everything)  # a terminated session's removal is no event

    assert expired["detail-type"] == "Device session expired"
    assert (expired["detail"]["session_id"], expired["detail"]["actor"]) == (
        session_id,
        {"kind": "system", "subject": "ttl"},
    )
    counter = {"user_id": {"S": "alice"}, "key_id": {"S": "#devices"}}
    assert "Item" not in bus.dynamodb.get_item(TableName="test-device-keys", Key=counter)  # no device count touched
