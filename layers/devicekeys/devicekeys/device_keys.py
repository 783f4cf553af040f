"""Device keys: the stored records and their lifecycle (get, list, update, block, unblock, delete).

No cryptography here: proofs are checked by ``devicekeys.binding`` before a key is added or a
verification recorded, so the functions that only manage keys never import a JOSE library.

Two rules of the product live here, so that every entry point (HTTP, direct invocation,
journeys) obeys them:

- **a block is an administrator's decision.** A blocked key stays listed and counts toward
  the user's limit; only an administrator may unblock it or delete it. Registering a key that
  is blocked for the user is refused, and replacing a user's keys never touches blocked ones;
- **the device limit holds under any concurrency**: a per-user counter item is changed in the
  same transaction as the keys, with a condition.

DynamoDB requests per operation: add 1 (one transaction: put key + count it), replace_active
2 (a query, then one transaction; more for users with over 98 active keys),
record_verification 1, get 1, list 1 per page, update 1, block 1, unblock 1, delete 1 (one
transaction: delete key + uncount it). A refused conditional write costs one more read to say
why (blocked or gone).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from .access import Caller
from .encoding import b64url_decode, b64url_encode
from .errors import (
    DeviceBlocked,
    DeviceKeyExists,
    DeviceLimitReached,
    DeviceNotFound,
    InvalidRequest,
    ServiceUnavailable,
)
from .models import DEVICE_COUNTER_KEY, Models
from .storage import (
    CONDITION_FAILED,
    MAX_TRANSACTION_ITEMS,
    TRANSACTION_CONFLICT,
    cancellation_codes,
    cancelled_item,
    condition_failed,
    storage_errors,
)

ACTIVE, BLOCKED = "active", "blocked"
STATUSES = (ACTIVE, BLOCKED)
# An RFC 7638 SHA-256 thumbprint: 32 bytes as unpadded base64url.
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
DEFAULT_PAGE_SIZE = 100
_ATTEMPTS = 3  # a write that lost a race with a concurrent one is tried this many times in all
BLOCKED_MESSAGE = "the device key is blocked; only an administrator can unblock or remove it"


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
        self._connection = models.connection
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
            DeviceBlocked: the key is registered for the user and blocked.
            DeviceKeyExists: the key is registered for the user.
            DeviceLimitReached: the user has ``max_devices_per_user`` keys (blocked ones count).
            ServiceUnavailable: the store throttled or kept conflicting.
        """
        item = self._new_item(user_id, key_id, public_key, alg, display_name, custom_data)
        self.replace_active(item, replacing=False)
        return DeviceKey.from_item(item)

    def add_replacing_active(
        self,
        user_id: str,
        *,
        key_id: str,
        public_key: dict[str, str],
        alg: str,
        display_name: str | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> tuple[DeviceKey, int]:
        """Store a new, already proven key and remove the user's other **active** keys.

        The single device policy's write: blocked keys are an administrator's decision, so they
        stay. Every removal is conditional on the key still being active, so a key blocked
        meanwhile is kept (the attempt is repeated with fresh state).

        Returns:
            The new key and how many keys were removed.

        Raises:
            DeviceBlocked, DeviceKeyExists, DeviceLimitReached, ServiceUnavailable: as ``add``.
        """
        item = self._new_item(user_id, key_id, public_key, alg, display_name, custom_data)
        removed = self.replace_active(item, replacing=True)
        return DeviceKey.from_item(item), removed

    def record_verification(self, user_id: str, key_id: str) -> DeviceKey:
        """Stamp ``last_verified_at`` on a key that is still there and still active: one UpdateItem.

        Raises:
            DeviceBlocked: blocked since it was read (the caller proved it holds the key).
            DeviceNotFound: deleted since it was read.
        """
        item = self._keys(user_id, self._checked_key_id(key_id))
        try:
            with storage_errors():
                item.update(
                    actions=[self._keys.last_verified_at.set(self._now())],
                    condition=self._keys.key_id.exists() & (self._keys.status == ACTIVE),
                )
        except PynamoDBException as exc:
            if condition_failed(exc):
                raise self._why_refused(user_id, key_id) from exc
            raise
        return DeviceKey.from_item(item)

    def replace_active(self, item: Any, *, replacing: bool) -> int:
        """Put ``item`` and count it; with ``replacing``, remove the user's other active keys too.

        Returns how many keys were removed. A transaction holds at most 100 items, so a user
        with more than 98 active keys to remove gets several: the early ones only remove keys
        (and lower the count), the last one also puts the new key.
        """
        for attempt in range(_ATTEMPTS):
            others: list[str] = []
            if replacing:
                stored = {key.key_id: key for key in self._every_key(item.user_id)}
                existing = stored.get(item.key_id)
                if existing is not None:
                    raise (DeviceBlocked(BLOCKED_MESSAGE) if existing.status == BLOCKED else self._exists())
                others = [key.key_id for key in stored.values() if key.status == ACTIVE]
            try:
                self._put_removing(item, others)
                return len(others)
            except TransactWriteError as exc:
                codes = cancellation_codes(exc)
                put = len(codes) - 2  # order: deletes, the put, the counter update
                if codes[put] == CONDITION_FAILED:
                    existing_raw = cancelled_item(exc, put)
                    blocked = existing_raw is not None and existing_raw.get("status", {}).get("S") == BLOCKED
                    raise (DeviceBlocked(BLOCKED_MESSAGE) if blocked else self._exists()) from exc
                if codes[put + 1] == CONDITION_FAILED:
                    raise DeviceLimitReached(
                        f"a user may register at most {self._max_devices} device keys (blocked ones count)"
                    ) from exc
                # a key to remove changed meanwhile, or a concurrent transaction on the same items
                retry = CONDITION_FAILED in codes[:put] or TRANSACTION_CONFLICT in codes
                if not retry or attempt == _ATTEMPTS - 1:
                    raise ServiceUnavailable("the device key store is busy; retry shortly") from exc
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311 - jitter, not a secret
        raise AssertionError("unreachable")  # pragma: no cover

    def _put_removing(self, item: Any, others: list[str]) -> None:
        """One transaction per chunk of removals; the last also puts ``item`` under the limit."""
        last_size = MAX_TRANSACTION_ITEMS - 2
        early, last = others[: max(0, len(others) - last_size)], others[max(0, len(others) - last_size) :]
        for start in range(0, len(early), MAX_TRANSACTION_ITEMS - 1):
            chunk = early[start : start + MAX_TRANSACTION_ITEMS - 1]
            with self._transaction() as tx:
                self._remove_active(tx, item.user_id, chunk)
                tx.update(self._counter_of(item.user_id), actions=[self._counter.device_count.add(-len(chunk))])
        counter = self._counter
        with self._transaction() as tx:
            self._remove_active(tx, item.user_id, last)
            tx.save(item, condition=self._keys.key_id.does_not_exist(), return_values="ALL_OLD")
            tx.update(
                self._counter_of(item.user_id),
                actions=[counter.device_count.add(1 - len(last))],
                condition=counter.device_count.does_not_exist()
                | (counter.device_count < self._max_devices + len(last)),
            )

    def _remove_active(self, tx: TransactWrite, user_id: str, key_ids: list[str]) -> None:
        for key_id in key_ids:
            tx.delete(self._keys(user_id, key_id), condition=self._keys.key_id.exists() & (self._keys.status == ACTIVE))

    def _exists(self) -> DeviceKeyExists:
        return DeviceKeyExists("this device key is already registered for the user")

    # --- lifecycle ----------------------------------------------------------------------

    def get(self, user_id: str, key_id: str) -> DeviceKey:
        """One key of the user (strongly consistent).

        Raises:
            DeviceNotFound: no such key for the user.
        """
        return DeviceKey.from_item(self._find(user_id, key_id))

    def find(self, user_id: str, key_id: str) -> DeviceKey | None:
        """One key of the user, or None (strongly consistent)."""
        try:
            return self.get(user_id, key_id)
        except DeviceNotFound:
            return None

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

    def delete(self, user_id: str, key_id: str, *, actor: Caller) -> None:
        """Forget a device: the key and its place in the user's count go in one transaction.

        Raises:
            DeviceBlocked: the key is blocked and ``actor`` is not an administrator: removing
                it would let the device register again, undoing the block.
            DeviceNotFound: no such key for the user.
        """
        item = self._keys(user_id, self._checked_key_id(key_id))
        condition = self._keys.key_id.exists()
        if not actor.is_admin:
            condition &= self._keys.status == ACTIVE
        try:
            with self._transaction() as tx:
                tx.delete(item, condition=condition)
                tx.update(self._counter_of(user_id), actions=[self._counter.device_count.add(-1)])
        except TransactWriteError as exc:
            if cancellation_codes(exc)[:1] == [CONDITION_FAILED]:
                raise self._why_refused(user_id, key_id) from exc
            raise ServiceUnavailable("the device key store is busy; retry shortly") from exc

    # --- helpers ------------------------------------------------------------------------

    def _new_item(
        self,
        user_id: str,
        key_id: str,
        public_key: dict[str, str],
        alg: str,
        display_name: str | None,
        custom_data: dict[str, Any] | None,
    ) -> Any:
        now = self._now()
        return self._keys(
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

    def _every_key(self, user_id: str) -> Iterator[DeviceKey]:
        token: str | None = None
        while True:
            page = self.list_keys(user_id, next_token=token)
            yield from page.device_keys
            if page.next_token is None:
                return
            token = page.next_token

    @contextmanager
    def _transaction(self) -> Iterator[TransactWrite]:
        """A TransactWrite on the shared connection; throttling at commit reads as ServiceUnavailable."""
        with storage_errors(), TransactWrite(connection=self._connection) as transaction:
            yield transaction

    def _counter_of(self, user_id: str) -> Any:
        return self._counter(user_id, DEVICE_COUNTER_KEY)

    def _why_refused(self, user_id: str, key_id: str) -> DeviceBlocked | DeviceNotFound:
        """After a conditional write on an existing-and-active key failed: blocked, or gone?"""
        try:
            with storage_errors():
                found = self._keys.get(user_id, key_id, consistent_read=True, attributes_to_get=["status"])
        except DoesNotExist:
            return DeviceNotFound("no such device key for this user")
        return (
            DeviceBlocked(BLOCKED_MESSAGE)
            if found.status == BLOCKED
            else DeviceNotFound("the device key changed meanwhile; read it again")
        )

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
            if condition_failed(exc):
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
