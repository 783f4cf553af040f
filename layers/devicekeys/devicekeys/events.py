"""Lifecycle events: what a record of the device-keys table's stream says happened to a device key.

A pure function of one stream record (no AWS calls), so the deployed publisher and the local API
turn the same record into the same event. Every write of the store says what it did and who did
it (``devicekeys.device_keys``), so the stream alone is enough:

- INSERT of a key, ``change`` registered: ``Device key registered``;
- INSERT of a key, ``change`` rotated: ``Device key rotated`` (``previous_key_id``: the old key);
- MODIFY of a key whose ``updated_at`` moved, by its new ``change``: ``Device key updated``,
  ``blocked`` or ``unblocked`` (``registered`` when an expired record is replaced);
- INSERT of a deletion record (``#deleted#...``): ``Device key deleted``;
- REMOVE of a key by DynamoDB's TTL: ``Device key expired``.

Everything else is no event: verifications (a MODIFY that leaves ``updated_at`` alone: far too
many to publish), the counter item, the removal that accompanies a deletion record or a rotation,
and TTL's removal of deletion records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .models import DELETION_PREFIX
from .records import iso
from .session_events import SessionEvent, session_event
from .session_models import SESSION_PREFIX

SOURCE = "devicekeys"
DETAIL_TYPES = {
    "registered": "Device key registered",
    "updated": "Device key updated",
    "blocked": "Device key blocked",
    "unblocked": "Device key unblocked",
    "deleted": "Device key deleted",
    "expired": "Device key expired",
    "rotated": "Device key rotated",
}
# The principal DynamoDB names in a stream record when its TTL removed the item.
TTL_PRINCIPAL = "dynamodb.amazonaws.com"
TTL_ACTOR: dict[str, str | None] = {"kind": "system", "subject": "ttl"}


@dataclass(frozen=True)
class LifecycleEvent:
    """One change to a device key, as published on the event bus."""

    type: str
    event_id: str  # the stream record's id: the same record always makes the same event
    user_id: str
    key_id: str
    actor: dict[str, str | None]
    time: str
    reason: str | None = None
    previous_key_id: str | None = None
    device_key: dict[str, Any] | None = None

    @property
    def detail_type(self) -> str:
        return DETAIL_TYPES[self.type]

    def detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "event_id": self.event_id,
            "type": self.type,
            "user_id": self.user_id,
            "key_id": self.key_id,
            "actor": self.actor,
            "reason": self.reason,
            "time": self.time,
        }
        if self.previous_key_id is not None:
            detail["previous_key_id"] = self.previous_key_id
        if self.device_key is not None:
            detail["device_key"] = self.device_key
        return detail


def lifecycle_event(
    *,
    event_name: str,
    event_id: str,
    new_image: Mapping[str, Any] | None,
    old_image: Mapping[str, Any] | None,
    removed_by_ttl: bool,
    recorded_at: datetime | None = None,
) -> LifecycleEvent | SessionEvent | None:
    """The event a stream record stands for, or None (see the module's table; bound sessions' items
    are ``devicekeys.session_events``').

    Args:
        event_name: INSERT, MODIFY or REMOVE.
        event_id: the record's ``eventID``.
        new_image, old_image: the item after and before, deserialized (numbers may be Decimal).
        removed_by_ttl: the record's ``userIdentity`` names DynamoDB's TTL.
        recorded_at: when DynamoDB recorded the change (the time of an expiry).
    """
    image = new_image if new_image is not None else old_image
    key_id = str((image or {}).get("key_id", ""))
    if key_id.startswith(DELETION_PREFIX):
        return _deletion_event(event_id, new_image) if event_name == "INSERT" else None
    if key_id.startswith(SESSION_PREFIX):
        return session_event(
            event_name=event_name,
            event_id=event_id,
            new_image=new_image,
            old_image=old_image,
            removed_by_ttl=removed_by_ttl,
            removal_time=_time(recorded_at),
            stored_time=_stored_time,
        )
    if image is None or key_id.startswith("#"):
        return None  # the counter item
    if event_name == "REMOVE":
        if removed_by_ttl and old_image is not None:
            return _key_event("expired", event_id, old_image, TTL_ACTOR, _time(recorded_at), "not verified in time")
        return None  # a deletion (its record says who) or a rotation (the new key's record says)
    return _change_event(event_name, event_id, new_image, old_image)


def _change_event(
    event_name: str, event_id: str, new_image: Mapping[str, Any] | None, old_image: Mapping[str, Any] | None
) -> LifecycleEvent | None:
    if new_image is None:
        return None
    if event_name == "MODIFY" and old_image is not None and old_image.get("updated_at") == new_image.get("updated_at"):
        return None  # a verification: recorded on the key, not published
    change = str(new_image.get("change") or "")
    if change not in DETAIL_TYPES:
        return None
    reason = new_image.get("blocked_reason") if change == "blocked" else None
    event = _key_event(change, event_id, new_image, _actor(new_image), _stored_time(new_image["updated_at"]), reason)
    if change == "rotated":
        return dataclasses.replace(event, previous_key_id=new_image.get("previous_key_id"))
    return event


def _deletion_event(event_id: str, record: Mapping[str, Any] | None) -> LifecycleEvent | None:
    if record is None:
        return None
    return LifecycleEvent(
        type="deleted",
        event_id=event_id,
        user_id=str(record["user_id"]),
        key_id=str(record["deleted_key_id"]),
        actor=_actor(record),
        time=_stored_time(record["deleted_at"]),
        reason=record.get("reason"),
    )


def _key_event(
    kind: str, event_id: str, image: Mapping[str, Any], actor: dict[str, str | None], time: str, reason: str | None
) -> LifecycleEvent:
    return LifecycleEvent(
        type=kind,
        event_id=event_id,
        user_id=str(image["user_id"]),
        key_id=str(image["key_id"]),
        actor=actor,
        time=time,
        reason=reason,
        device_key={
            "status": image.get("status"),
            "display_name": image.get("display_name"),
            "alg": image.get("alg"),
        },
    )


def _actor(image: Mapping[str, Any]) -> dict[str, str | None]:
    return {"kind": image.get("changed_by_kind") or "system", "subject": image.get("changed_by_subject")}


def _time(moment: datetime | None) -> str:
    return iso(moment or datetime.now(UTC)) or ""


def _stored_time(value: Any) -> str:
    """A time as the store writes it (PynamoDB: ``2026-11-23T12:00:00.000000+0000``) in the API's RFC 3339."""
    return _time(datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%f%z"))
