"""What clients see of a device key: the record and a page of records.

The fields' Python types are their JSON types (datetimes become RFC 3339 strings), so the API's
documentation derives the record's schema from this dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def iso(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with milliseconds and a ``Z``, as every timestamp of the API is written."""
    return None if value is None else value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class DeviceKey:
    """A device key record as clients see it."""

    key_id: str
    user_id: str
    status: str
    display_name: str | None
    custom_data: dict[str, Any] | None
    public_key: dict[str, str]
    alg: str
    created_at: datetime
    updated_at: datetime
    last_verified_at: datetime | None
    blocked_at: datetime | None
    blocked_reason: str | None
    # When the key stops being a known device unless it verifies again (InactiveKeyDays); null
    # when keys do not expire, and while the key is blocked (a block never lapses).
    expires_at: datetime | None

    @classmethod
    def from_item(cls, item: Any) -> DeviceKey:
        expires = item.expires_at
        return cls(
            key_id=item.key_id,
            user_id=item.user_id,
            status=item.status,
            display_name=item.display_name,
            custom_data=item.custom_data,
            public_key=item.public_key,
            alg=item.alg,
            created_at=item.created_at,
            updated_at=item.updated_at,
            last_verified_at=item.last_verified_at,
            blocked_at=item.blocked_at,
            blocked_reason=item.blocked_reason,
            expires_at=datetime.fromtimestamp(expires, UTC) if expires is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "user_id": self.user_id,
            "status": self.status,
            "display_name": self.display_name,
            "custom_data": self.custom_data,
            "public_key": self.public_key,
            "alg": self.alg,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "last_verified_at": iso(self.last_verified_at),
            "blocked_at": iso(self.blocked_at),
            "blocked_reason": self.blocked_reason,
            "expires_at": iso(self.expires_at),
        }


@dataclass(frozen=True, slots=True)
class DeviceKeyPage:
    device_keys: list[DeviceKey]
    next_token: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "device_keys": [key.to_dict() for key in self.device_keys],
            "next_token": self.next_token,
            "count": len(self.device_keys),
        }
