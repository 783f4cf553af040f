"""Device keys: the stored records and their lifecycle (get, list, update, block, unblock, delete).

No cryptography here: proofs are checked by ``devicekeys.binding`` before a key is added or a
verification recorded, so the functions that only manage keys never import a JOSE library.

DynamoDB requests per operation (DESIGN.md section 6): add 1 (one transaction: put key +
count it), record_verification 1, get 1, list 1 per page, update 1, block 1, unblock 1,
delete 1 (one transaction: delete key + uncount it).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from .encoding import b64url_decode, b64url_encode
from .errors import (
    DeviceKeyExists,
    DeviceLimitReached,
    DeviceNotFound,
    InvalidRequest,
    ServiceUnavailable,
)
from .models import DEVICE_COUNTER_KEY, Models
from .storage import storage_errors

ACTIVE, BLOCKED = "active", "blocked"
STATUSES = (ACTIVE, BLOCKED)
# An RFC 7638 SHA-256 thumbprint: 32 bytes as unpadded base64url.
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
DEFAULT_PAGE_SIZE = 100
_REGISTER_ATTEMPTS = 3


def _iso(value: datetime | None) -> str | None:
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

    @classmethod
    def from_item(cls, item: Any) -> DeviceKey:
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
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "last_verified_at": _iso(self.last_verified_at),
            "blocked_at": _iso(self.blocked_at),
            "blocked_reason": self.blocked_reason,
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


_UNSET: Any = object()


class DeviceKeyService:
    def __init__(
        self,
        models: Models,
        *,
        max_devices_per_user: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = models.device_key
        self._counter = models.device_counter
        self._max_devices = max_devices_per_user
        self._clock = clock

    # --- registration and recognition (driven by devicekeys.binding) ---------------------

    def add(
        self,
        user_id: str,
        *,
        key_id: str,
        public_key: dict[str, str],
        alg: str,
        display_name: str | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> DeviceKey:
        """Store a new, already proven, active key for ``user_id``: one transaction.

        Raises:
            DeviceKeyExists, DeviceLimitReached, ServiceUnavailable.
        """
        now = self._now()
        item = self._keys(
            user_id,
            key_id,
            status=ACTIVE,
            alg=alg,
            public_key=public_key,
            display_name=display_name,
            custom_data=custom_data,
            created_at=now,
            updated_at=now,
        )
        self._insert_counted(item)
        return DeviceKey.from_item(item)

    def record_verification(self, user_id: str, key_id: str) -> DeviceKey:
        """Stamp ``last_verified_at`` on a key that is still there and still active: one UpdateItem."""
        item = self._keys(user_id, self._checked_key_id(key_id))
        try:
            with storage_errors():
                item.update(
                    actions=[self._keys.last_verified_at.set(self._now())],
                    condition=self._keys.key_id.exists() & (self._keys.status == ACTIVE),
                )
        except PynamoDBException as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise DeviceNotFound("the device key was removed or blocked meanwhile") from exc
            raise
        return DeviceKey.from_item(item)

    def _insert_counted(self, item: Any) -> None:
        """Put the key and raise the user's device count in one transaction.

        The count's condition enforces ``max_devices_per_user`` atomically; a transaction
        conflict (another registration for the same user at the same moment) is retried.
        """
        counter = self._counter(item.user_id, DEVICE_COUNTER_KEY)
        limit = self._max_devices
        for attempt in range(_REGISTER_ATTEMPTS):
            try:
                with storage_errors(), TransactWrite(connection=self._keys._get_connection().connection) as tx:
                    tx.save(item, condition=self._keys.key_id.does_not_exist())
                    tx.update(
                        counter,
                        actions=[self._counter.device_count.add(1)],
                        condition=self._counter.device_count.does_not_exist() | (self._counter.device_count < limit),
                    )
                return
            except TransactWriteError as exc:
                codes = [reason.code if reason else None for reason in exc.cancellation_reasons]
                if codes[:1] == ["ConditionalCheckFailed"]:
                    raise DeviceKeyExists("this device key is already registered for the user") from exc
                if codes[1:2] == ["ConditionalCheckFailed"]:
                    raise DeviceLimitReached(f"a user may register at most {limit} device keys") from exc
                if "TransactionConflict" not in codes or attempt == _REGISTER_ATTEMPTS - 1:
                    raise ServiceUnavailable("the device key store is busy; retry shortly") from exc
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311 - jitter, not a secret

    # --- lifecycle ----------------------------------------------------------------------

    def get(self, user_id: str, key_id: str) -> DeviceKey:
        return DeviceKey.from_item(self._find(user_id, key_id))

    def list_keys(
        self,
        user_id: str,
        *,
        status: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> DeviceKeyPage:
        """One page of a user's device keys, oldest thumbprint first: one Query.

        With a ``status`` filter a page may hold fewer than ``limit`` keys (DynamoDB filters
        after reading); follow ``next_token`` until it is null.
        """
        start = self._decode_token(user_id, next_token) if next_token else None
        filter_condition = (self._keys.status == status) if status else None
        with storage_errors():
            results = self._keys.query(
                user_id,
                range_key_condition=self._keys.key_id > DEVICE_COUNTER_KEY,
                filter_condition=filter_condition,
                consistent_read=True,
                last_evaluated_key=start,
                page_size=limit or DEFAULT_PAGE_SIZE,
            )
            page = next(results.page_iter)
        keys = [DeviceKey.from_item(self._keys.from_raw_data(raw)) for raw in page.get("Items", [])]
        last = results.page_iter.last_evaluated_key
        token = b64url_encode(json.dumps({"k": last["key_id"]["S"]}).encode()) if last else None
        return DeviceKeyPage(device_keys=keys, next_token=token)

    def update(self, user_id: str, key_id: str, changes: Mapping[str, Any]) -> DeviceKey:
        """Rename or enrich a key. A field set to None is cleared; ``custom_data`` is replaced whole."""
        actions = [self._keys.updated_at.set(self._now())]
        for name in ("display_name", "custom_data"):
            if name in changes:
                attribute = getattr(self._keys, name)
                value = changes[name]
                actions.append(attribute.remove() if value is None else attribute.set(value))
        return self._update(user_id, key_id, actions)

    def block(self, user_id: str, key_id: str, reason: str | None = None) -> DeviceKey:
        """Block a key: it stays listed and fails verification. Re-blocking keeps the first ``blocked_at``."""
        now = self._now()
        keys = self._keys
        actions = [
            keys.status.set(BLOCKED),
            keys.blocked_at.set(keys.blocked_at | now),
            keys.updated_at.set(now),
            keys.blocked_reason.set(reason) if reason is not None else keys.blocked_reason.remove(),
        ]
        return self._update(user_id, key_id, actions)

    def unblock(self, user_id: str, key_id: str) -> DeviceKey:
        keys = self._keys
        actions = [
            keys.status.set(ACTIVE),
            keys.blocked_at.remove(),
            keys.blocked_reason.remove(),
            keys.updated_at.set(self._now()),
        ]
        return self._update(user_id, key_id, actions)

    def delete(self, user_id: str, key_id: str) -> None:
        """Forget a device: the key and its place in the user's count go in one transaction."""
        item = self._keys(user_id, self._checked_key_id(key_id))
        counter = self._counter(user_id, DEVICE_COUNTER_KEY)
        try:
            with storage_errors(), TransactWrite(connection=self._keys._get_connection().connection) as tx:
                tx.delete(item, condition=self._keys.key_id.exists())
                tx.update(counter, actions=[self._counter.device_count.add(-1)])
        except TransactWriteError as exc:
            codes = [reason.code if reason else None for reason in exc.cancellation_reasons]
            if codes[:1] == ["ConditionalCheckFailed"]:
                raise DeviceNotFound("no such device key for this user") from exc
            raise ServiceUnavailable("the device key store is busy; retry shortly") from exc

    # --- helpers ------------------------------------------------------------------------

    def _find(self, user_id: str, key_id: str) -> Any:
        try:
            with storage_errors():
                return self._keys.get(user_id, self._checked_key_id(key_id), consistent_read=True)
        except DoesNotExist as exc:
            raise DeviceNotFound("no such device key for this user") from exc

    def _update(self, user_id: str, key_id: str, actions: list[Any]) -> DeviceKey:
        item = self._keys(user_id, self._checked_key_id(key_id))
        try:
            with storage_errors():
                item.update(actions=actions, condition=self._keys.key_id.exists())
        except PynamoDBException as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise DeviceNotFound("no such device key for this user") from exc
            raise
        return DeviceKey.from_item(item)

    @staticmethod
    def _checked_key_id(key_id: str) -> str:
        if not isinstance(key_id, str) or not KEY_ID_PATTERN.fullmatch(key_id):
            raise DeviceNotFound("no such device key for this user")
        return key_id

    def _decode_token(self, user_id: str, token: str) -> dict[str, Any]:
        try:
            key_id = json.loads(b64url_decode(token))["k"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidRequest("next_token is not a token this service issued") from exc
        if not isinstance(key_id, str) or not KEY_ID_PATTERN.fullmatch(key_id):
            raise InvalidRequest("next_token is not a token this service issued")
        return {"user_id": {"S": user_id}, "key_id": {"S": key_id}}

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)
