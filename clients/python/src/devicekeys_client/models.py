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
