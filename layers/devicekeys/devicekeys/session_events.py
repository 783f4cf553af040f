"""Bound-session events: what a stream record of a session item says happened (``devicekeys.events`` hands
them here), published by the same publisher on the same bus as the device-key events.

- INSERT, ``change`` registered: ``Device session registered``;
- MODIFY whose status went from active to terminated: ``Device session terminated`` (who, why);
- MODIFY whose ``refresh_count`` reached 1 or a multiple of ``REFRESH_EVENT_EVERY``: ``Device
  session refreshed``, with the running count. Refreshes are the hot path (one every few minutes
  per open browser): the first proves the binding works, then one event per hundred;
- REMOVE by DynamoDB's TTL of a session still active: ``Device session expired`` (idle too long).

Everything else is no event: refresh leg 1 (a challenge stored), the refreshes between samples,
terminating again, and TTL's removal of an already terminated session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

REFRESH_EVENT_EVERY = 100
DETAIL_TYPES = {
    "session_registered": "Device session registered",
    "session_refreshed": "Device session refreshed",
    "session_terminated": "Device session terminated",
    "session_expired": "Device session expired",
}
SYSTEM_TTL: dict[str, str | None] = {"kind": "system", "subject": "ttl"}


@dataclass(frozen=True)
class SessionEvent:
    """One change to a bound session, as published on the event bus."""

    type: str
    event_id: str
    user_id: str
    session_id: str
    actor: dict[str, str | None]
    time: str
    reason: str | None
    session: dict[str, Any]

    @property
    def detail_type(self) -> str:
        return DETAIL_TYPES[self.type]

    def detail(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "user_id": self.user_id,
            "session_id": self.session_id,
            "actor": self.actor,
            "reason": self.reason,
            "time": self.time,
            "session": self.session,
        }


def session_event(
    *,
    event_name: str,
    event_id: str,
    new_image: Mapping[str, Any] | None,
    old_image: Mapping[str, Any] | None,
    removed_by_ttl: bool,
    removal_time: str,
    stored_time: Callable[[Any], str],
) -> SessionEvent | None:
    """The event a session item's stream record stands for, or None (the module's table).

    ``removal_time`` is when DynamoDB recorded a removal; ``stored_time`` turns a stored timestamp
    into the API's RFC 3339 (both ``devicekeys.events``').
    """
    if event_name == "INSERT" and new_image is not None and new_image.get("change") == "registered":
        return _event(
            "session_registered", event_id, new_image, _actor(new_image), stored_time(new_image["created_at"])
        )
    if event_name == "MODIFY" and new_image is not None and old_image is not None:
        if old_image.get("status") == "active" and new_image.get("status") == "terminated":
            reason = new_image.get("terminated_reason")
            return _event(
                "session_terminated",
                event_id,
                new_image,
                _actor(new_image),
                stored_time(new_image["updated_at"]),
                reason,
            )
        before, after = int(old_image.get("refresh_count") or 0), int(new_image.get("refresh_count") or 0)
        if after > before and (after == 1 or after % REFRESH_EVENT_EVERY == 0):
            user: dict[str, str | None] = {"kind": "user", "subject": str(new_image["user_id"])}
            return _event("session_refreshed", event_id, new_image, user, stored_time(new_image["last_refreshed_at"]))
        return None
    if event_name == "REMOVE" and removed_by_ttl and old_image is not None and old_image.get("status") == "active":
        return _event("session_expired", event_id, old_image, SYSTEM_TTL, removal_time, "not refreshed in time")
    return None


def _event(
    kind: str,
    event_id: str,
    image: Mapping[str, Any],
    actor: dict[str, str | None],
    time: str,
    reason: str | None = None,
) -> SessionEvent:
    return SessionEvent(
        type=kind,
        event_id=event_id,
        user_id=str(image["user_id"]),
        session_id=str(image["session_id"]),
        actor=actor,
        time=time,
        reason=reason,
        session={
            "status": image.get("status"),
            "alg": image.get("alg"),
            "refresh_count": int(image.get("refresh_count") or 0),
            "user_agent": image.get("user_agent"),
        },
    )


def _actor(image: Mapping[str, Any]) -> dict[str, str | None]:
    return {"kind": image.get("changed_by_kind") or "system", "subject": image.get("changed_by_subject")}
