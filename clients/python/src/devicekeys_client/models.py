"""What the API returns, as typed records. Each keeps the exact JSON it was read from (``to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class DeviceKey:
    """A device key record (docs/protocol.md, section 6)."""

    key_id: str
    user_id: str
    status: str
    display_name: str | None
    custom_data: dict[str, Any] | None
    public_key: dict[str, Any]
    alg: str
    created_at: datetime | None
    updated_at: datetime | None
    last_verified_at: datetime | None
    blocked_at: datetime | None
    blocked_reason: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceKey:
        return cls(
            key_id=data["key_id"],
            user_id=data["user_id"],
            status=data["status"],
            display_name=data.get("display_name"),
            custom_data=data.get("custom_data"),
            public_key=data.get("public_key") or {},
            alg=data.get("alg", ""),
            created_at=_timestamp(data.get("created_at")),
            updated_at=_timestamp(data.get("updated_at")),
            last_verified_at=_timestamp(data.get("last_verified_at")),
            blocked_at=_timestamp(data.get("blocked_at")),
            blocked_reason=data.get("blocked_reason"),
            raw=dict(data),
        )

    @property
    def is_blocked(self) -> bool:
        return self.status == "blocked"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)


@dataclass(frozen=True)
class DeviceKeyPage:
    """One page of a user's device keys; ``next_token`` is None on the last page."""

    device_keys: list[DeviceKey]
    next_token: str | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceKeyPage:
        return cls([DeviceKey.from_dict(item) for item in data["device_keys"]], data.get("next_token"))

    def to_dict(self) -> dict[str, Any]:
        keys = [key.to_dict() for key in self.device_keys]
        return {"device_keys": keys, "next_token": self.next_token, "count": len(keys)}


@dataclass(frozen=True)
class Challenge:
    """A one-time challenge for a device to sign before ``expires_at``."""

    challenge: str
    purpose: str
    expires_at: datetime | None
    expires_in: int

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Challenge:
        return cls(data["challenge"], data["purpose"], _timestamp(data.get("expires_at")), int(data["expires_in"]))


@dataclass(frozen=True)
class Verification:
    """A successful "is known device" answer: the device proved it holds an active key of the user."""

    known: bool
    key_id: str
    status: str
    device_key: DeviceKey

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verification:
        return cls(bool(data["known"]), data["key_id"], data["status"], DeviceKey.from_dict(data["device_key"]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "known": self.known,
            "key_id": self.key_id,
            "status": self.status,
            "device_key": self.device_key.to_dict(),
        }


@dataclass(frozen=True)
class SessionRegistration:
    """What an app adds to its sign-in response for a user: ``header_name: header_value`` (docs/dbsc.md)."""

    header_name: str
    header_value: str
    challenge: str
    expires_at: datetime | None
    expires_in: int

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionRegistration:
        return cls(
            data["header_name"],
            data["header_value"],
            data["challenge"],
            _timestamp(data.get("expires_at")),
            int(data["expires_in"]),
        )

    @property
    def header(self) -> tuple[str, str]:
        """``(name, value)``: add it to the response that signs the user in."""
        return self.header_name, self.header_value


@dataclass(frozen=True)
class BoundSession:
    """A device-bound session (DBSC): a browser's session key, and how the session has gone."""

    session_id: str
    user_id: str
    status: str
    alg: str
    user_agent: str | None
    created_at: datetime | None
    last_refreshed_at: datetime | None
    refresh_count: int
    expires_at: datetime | None
    terminated_at: datetime | None
    terminated_reason: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BoundSession:
        return cls(
            session_id=data["session_id"],
            user_id=data["user_id"],
            status=data["status"],
            alg=data.get("alg", ""),
            user_agent=data.get("user_agent"),
            created_at=_timestamp(data.get("created_at")),
            last_refreshed_at=_timestamp(data.get("last_refreshed_at")),
            refresh_count=int(data.get("refresh_count") or 0),
            expires_at=_timestamp(data.get("expires_at")),
            terminated_at=_timestamp(data.get("terminated_at")),
            terminated_reason=data.get("terminated_reason"),
            raw=dict(data),
        )

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)


@dataclass(frozen=True)
class BoundSessionPage:
    """One page of a user's bound sessions; ``next_token`` is None on the last page."""

    sessions: list[BoundSession]
    next_token: str | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BoundSessionPage:
        return cls([BoundSession.from_dict(item) for item in data["sessions"]], data.get("next_token"))
