"""Device keys: the stored records and their lifecycle.

No cryptography here: proofs are checked by ``devicekeys.binding`` before a key is added,
rotated or a verification recorded, so the functions that only manage keys never import a JOSE
library.

The product's rules live here, so that every entry point (HTTP, direct invocation, journeys)
obeys them:

- **a block is an administrator's decision.** A blocked key stays listed, counts toward the
  user's limit and never expires; only an administrator may unblock it or delete it.
  Registering or rotating to a key that is blocked for the user is refused, and replacing or
  signing out a user's keys never touches blocked ones;
- **the device limit holds under any concurrency**: a per-user counter item is changed in the
  same transaction as the keys, with a condition;
- **every change says what it was and who made it** (``change``, ``changed_by_*`` on the key;
  a deletion record beside a deleted key), in the same write, so the table's stream is the one
  source of lifecycle events: no dual writes;
- **inactivity expiry**: with ``inactive_key_days``, a key's ``expires_at`` (the table's TTL
  attribute) is pushed back by the very write that records a verification; an expired key is
  refused in code at once (TTL deletes eventually).

DynamoDB requests per operation: add 1 (one transaction: put key + count it), add replacing
others 2 (a query, then one transaction), record_verification 1, rotate 1, get 1, list 1 per
page, update 1, block 1, unblock 1, delete 1 (one transaction: the key, its count and its
deletion record), remove others 2. A refused conditional write costs one more read to say why
(blocked, or gone).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError, UpdateError
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
from .models import DELETION_PREFIX, DEVICE_COUNTER_KEY, FIRST_KEY_ID, Models
from .records import DeviceKey, DeviceKeyPage
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
REGISTERED, UPDATED, BLOCKED_CHANGE, UNBLOCKED, ROTATED = "registered", "updated", "blocked", "unblocked", "rotated"
# An RFC 7638 SHA-256 thumbprint: 32 bytes as unpadded base64url.
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
DEFAULT_PAGE_SIZE = 100
DELETION_RECORD_SECONDS = 24 * 3600  # how long a deletion record stays for the stream to carry it
_ATTEMPTS = 3  # a write that lost a race with a concurrent one is tried this many times in all
BLOCKED_MESSAGE = "the device key is blocked; only an administrator can unblock or remove it"
# A removal is two items of a transaction (the key and its deletion record); the last
# transaction of a replacement also puts the new key and changes the count.
_REMOVALS_PER_TRANSACTION = (MAX_TRANSACTION_ITEMS - 1) // 2
_REMOVALS_WITH_THE_PUT = (MAX_TRANSACTION_ITEMS - 2) // 2

__all__ = ["ACTIVE", "BLOCKED", "KEY_ID_PATTERN", "DeviceKey", "DeviceKeyPage", "DeviceKeyService"]


class DeviceKeyService:
    """The device keys of every user, in one DynamoDB table."""

    def __init__(
        self,
        models: Models,
        *,
        max_devices_per_user: int,
        inactive_key_days: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = models.device_key
        self._counter = models.device_counter
        self._deletion = models.deletion
        self._connection = models.connection
        self._max_devices = max_devices_per_user
        self._inactive_seconds = inactive_key_days * 86400
        self._clock = clock

    # --- writes driven by proofs (devicekeys.binding checked them) ------------------------

    def add(
        self,
        user_id: str,
        *,
        key_id: str,
        public_key: dict[str, str],
        alg: str,
        display_name: str | None = None,
        custom_data: dict[str, Any] | None = None,
        actor: Caller,
    ) -> DeviceKey:
        """Store a new, already proven, active key for ``user_id``: one transaction.

        A key whose record is still there but expired (TTL has not removed it yet) is replaced,
        keeping its place in the count.

        Raises:
            DeviceBlocked: the key is registered for the user and blocked.
            DeviceKeyExists: the key is registered for the user.
            DeviceLimitReached: the user has ``max_devices_per_user`` keys (blocked ones count).
            ServiceUnavailable: the store throttled or kept conflicting.
        """
        item = self._new_item(user_id, key_id, public_key, alg, display_name, custom_data, actor)
        self._put_removing(item, others=(), actor=actor)
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
        actor: Caller,
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
        item = self._new_item(user_id, key_id, public_key, alg, display_name, custom_data, actor)
        for attempt in range(_ATTEMPTS):
            stored = {key.key_id: key for key in self._every_key(user_id)}
            existing = stored.get(key_id)
            if existing is not None and not self.is_expired(existing):
                raise DeviceBlocked(BLOCKED_MESSAGE) if existing.status == BLOCKED else _exists()
            others = [key.key_id for key in stored.values() if key.status == ACTIVE and key.key_id != key_id]
            if self._put_removing(item, others, actor=actor, retry=attempt < _ATTEMPTS - 1):
                return DeviceKey.from_item(item), len(others)
        raise ServiceUnavailable("the device key store is busy; retry shortly")  # pragma: no cover

    def record_verification(self, user_id: str, key_id: str) -> DeviceKey:
        """Stamp ``last_verified_at`` (and push back the expiry) on a key still there and active: one UpdateItem.

        Raises:
            DeviceBlocked: blocked since it was read (the caller proved it holds the key).
            DeviceNotFound: deleted since it was read.
        """
        item = self._keys(user_id, self._checked_key_id(key_id))
        now = self._now()
        actions = [self._keys.last_verified_at.set(now), *self._expiry_actions(now)]
        try:
            with storage_errors():
                item.update(actions=actions, condition=self._keys.key_id.exists() & (self._keys.status == ACTIVE))
        except PynamoDBException as exc:
            if condition_failed(exc):
                raise self._why_refused(user_id, key_id) from exc
            raise
        return DeviceKey.from_item(item)

    def rotate(
        self, current: DeviceKey, *, key_id: str, public_key: dict[str, str], alg: str, actor: Caller
    ) -> DeviceKey:
        """Give ``current``'s record a new, already proven key, in one transaction.

        The record keeps its display name, custom data and creation time; the old key stops
        working at the same instant the new one starts (no moment with both or neither).

        Raises:
            DeviceBlocked: the current key was blocked meanwhile, or the new key is blocked for the user.
            DeviceNotFound: the current key was deleted meanwhile.
            DeviceKeyExists: the new key is registered for the user already.
            ServiceUnavailable.
        """
        now = self._now()
        item = self._keys(
            current.user_id,
            key_id,
            status=ACTIVE,
            alg=alg,
            public_key=public_key,
            display_name=current.display_name,
            custom_data=current.custom_data,
            created_at=current.created_at,
            updated_at=now,
            last_verified_at=now,  # the rotation proves possession of the new key
            expires_at=self._expires_at(now),
            previous_key_id=current.key_id,
            **_stamp(ROTATED, actor),
        )
        old = self._keys(current.user_id, current.key_id)
        still_active = self._keys.key_id.exists() & (self._keys.status == ACTIVE)
        try:
            with self._transaction() as tx:
                tx.delete(old, condition=still_active)
                tx.save(item, condition=self._keys.key_id.does_not_exist(), return_values="ALL_OLD")
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            if codes[:1] == [CONDITION_FAILED]:
                raise self._why_refused(current.user_id, current.key_id) from exc
            if codes[1:2] == [CONDITION_FAILED]:
                raise _refusal_for(cancelled_item(exc, 1)) from exc
            raise ServiceUnavailable("the device key store is busy; retry shortly") from exc
        return DeviceKey.from_item(item)

    def remove_other_active(self, user_id: str, *, keep_key_id: str, actor: Caller) -> int:
        """Sign out the user's other devices: remove every active key but ``keep_key_id``.

        Blocked keys stay, as an administrator decided. Returns how many keys were removed.

        Raises:
            ServiceUnavailable: the store throttled or kept conflicting.
        """
        for attempt in range(_ATTEMPTS):
            others = [
                key.key_id for key in self._every_key(user_id) if key.status == ACTIVE and key.key_id != keep_key_id
            ]
            try:
                for start in range(0, len(others), _REMOVALS_PER_TRANSACTION):
                    chunk = others[start : start + _REMOVALS_PER_TRANSACTION]
                    with self._transaction() as tx:
                        self._remove_active(tx, user_id, chunk, actor, reason=f"signed out by {keep_key_id}")
                        tx.update(self._counter_of(user_id), actions=[self._counter.device_count.add(-len(chunk))])
                return len(others)
            except TransactWriteError as exc:
                if attempt == _ATTEMPTS - 1 or not _raced(cancellation_codes(exc)):
                    raise ServiceUnavailable("the device key store is busy; retry shortly") from exc
                _pause(attempt)
        raise ServiceUnavailable("the device key store is busy; retry shortly")  # pragma: no cover

    # --- the lifecycle ------------------------------------------------------------------

    def get(self, user_id: str, key_id: str) -> DeviceKey:
        """One key of the user (strongly consistent).

        Raises:
            DeviceNotFound: no such key for the user.
        """
        try:
            with storage_errors():
                item = self._keys.get(user_id, self._checked_key_id(key_id), consistent_read=True)
        except DoesNotExist as exc:
            raise DeviceNotFound("no such device key for this user") from exc
        return DeviceKey.from_item(item)

    def find(self, user_id: str, key_id: str) -> DeviceKey | None:
        """One key of the user, or None (strongly consistent).

        Raises:
            ServiceUnavailable: DynamoDB throttled or could not be reached.
        """
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

        Raises:
            InvalidRequest: a ``next_token`` this service did not issue.
        """
        start = self._decode_token(user_id, next_token) if next_token else None
        filter_condition = (self._keys.status == status) if status else None
        with storage_errors():
            results = self._keys.query(
                user_id,
                range_key_condition=self._keys.key_id >= FIRST_KEY_ID,
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

    def update(self, user_id: str, key_id: str, *, changes: Mapping[str, Any], actor: Caller) -> DeviceKey:
        """Rename or enrich a key. A field set to None is cleared; ``custom_data`` is replaced whole.

        Raises:
            DeviceNotFound: no such key for the user.
        """
        actions = self._stamp_actions(UPDATED, actor)
        for name in ("display_name", "custom_data"):
            if name in changes:
                attribute = getattr(self._keys, name)
                value = changes[name]
                actions.append(attribute.remove() if value is None else attribute.set(value))
        return self._update(user_id, key_id, actions)

    def block(self, user_id: str, key_id: str, *, reason: str | None = None, actor: Caller) -> DeviceKey:
        """Block a key: it stays listed, fails verification and never expires.

        Re-blocking keeps the first ``blocked_at`` and replaces the reason.

        Raises:
            DeviceNotFound: no such key for the user.
        """
        keys = self._keys
        actions = [
            *self._stamp_actions(BLOCKED_CHANGE, actor),
            keys.status.set(BLOCKED),
            keys.blocked_at.set(keys.blocked_at | self._now()),
            keys.blocked_reason.set(reason) if reason is not None else keys.blocked_reason.remove(),
            keys.expires_at.remove(),  # an administrator's block does not lapse
        ]
        return self._update(user_id, key_id, actions)

    def unblock(self, user_id: str, key_id: str, *, actor: Caller) -> DeviceKey:
        """Make a blocked key usable again (the caller is an administrator); its expiry starts afresh.

        Raises:
            DeviceNotFound: no such key for the user.
        """
        keys = self._keys
        actions = [
            *self._stamp_actions(UNBLOCKED, actor),
            keys.status.set(ACTIVE),
            keys.blocked_at.remove(),
            keys.blocked_reason.remove(),
            *self._expiry_actions(self._now()),
        ]
        return self._update(user_id, key_id, actions)

    def delete(self, user_id: str, key_id: str, *, actor: Caller, reason: str | None = None) -> None:
        """Forget a device: the key, its place in the user's count and its deletion record, in one transaction.

        Raises:
            DeviceBlocked: the key is blocked and ``actor`` is not an administrator: removing
                it would let the device register again, undoing the block.
            DeviceNotFound: no such key for the user.
        """
        key_id = self._checked_key_id(key_id)
        condition = self._keys.key_id.exists()
        if not actor.is_admin:
            condition &= self._keys.status == ACTIVE
        try:
            with self._transaction() as tx:
                tx.delete(self._keys(user_id, key_id), condition=condition)
                tx.save(self._deletion_record(user_id, key_id, actor, reason))
                tx.update(self._counter_of(user_id), actions=[self._counter.device_count.add(-1)])
        except TransactWriteError as exc:
            if cancellation_codes(exc)[:1] == [CONDITION_FAILED]:
                raise self._why_refused(user_id, key_id) from exc
            raise ServiceUnavailable("the device key store is busy; retry shortly") from exc

    def count_expired(self, user_id: str) -> None:
        """DynamoDB's TTL removed one of the user's keys: lower the user's count (one UpdateItem).

        The count never goes below zero: with nothing to lower (a count already at zero, no
        counter item) there is nothing to do, and the removal is still an event.

        Raises:
            ServiceUnavailable: DynamoDB throttled or could not be reached (the record is retried).
        """
        try:
            with storage_errors():
                self._counter_of(user_id).update(
                    actions=[self._counter.device_count.add(-1)],
                    condition=self._counter.device_count > 0,
                )
        except UpdateError as exc:
            if not condition_failed(exc):
                raise

    def is_expired(self, key: DeviceKey) -> bool:
        """True once a key's inactivity expiry has passed (TTL removes it eventually).

        Raises:
            Nothing: a check of the record against this service's clock, no request.
        """
        return key.expires_at is not None and self._clock() >= key.expires_at.timestamp()

    # --- helpers ------------------------------------------------------------------------

    def _new_item(
        self,
        user_id: str,
        key_id: str,
        public_key: dict[str, str],
        alg: str,
        display_name: str | None,
        custom_data: dict[str, Any] | None,
        actor: Caller,
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
            expires_at=self._expires_at(now),
            **_stamp(REGISTERED, actor),
        )

    def _put_removing(self, item: Any, others: list[str] | tuple[()], *, actor: Caller, retry: bool = False) -> bool:
        """Put ``item`` and count it, removing ``others`` (active keys) in the same writes.

        A transaction holds at most 100 items: with many keys to remove, the early transactions
        only remove (and lower the count), the last one also puts the new key under the limit.

        Returns:
            True when done; False when a key to remove changed meanwhile and ``retry`` allows
            the caller to read again and retry.
        """
        user_id = item.user_id
        cut = max(0, len(others) - _REMOVALS_WITH_THE_PUT)
        early, last = list(others[:cut]), list(others[cut:])
        counter = self._counter
        reason = f"replaced by {item.key_id}"
        for attempt in range(_ATTEMPTS):
            try:
                for start in range(0, len(early), _REMOVALS_PER_TRANSACTION):
                    chunk = early[start : start + _REMOVALS_PER_TRANSACTION]
                    with self._transaction() as tx:
                        self._remove_active(tx, user_id, chunk, actor, reason)
                        tx.update(self._counter_of(user_id), actions=[counter.device_count.add(-len(chunk))])
                early = []
                with self._transaction() as tx:
                    self._remove_active(tx, user_id, last, actor, reason)
                    tx.save(item, condition=self._keys.key_id.does_not_exist(), return_values="ALL_OLD")
                    tx.update(
                        self._counter_of(user_id),
                        actions=[counter.device_count.add(1 - len(last))],
                        condition=counter.device_count.does_not_exist()
                        | (counter.device_count < self._max_devices + len(last)),
                    )
                return True
            except TransactWriteError as exc:
                codes = cancellation_codes(exc)
                # PynamoDB sends deletes, then puts (the deletion records, then the key), then the count
                removals, put_index = len(last), 2 * len(last)
                if len(codes) > put_index and codes[put_index] == CONDITION_FAILED:
                    existing = cancelled_item(exc, put_index)
                    if existing is not None and self._expired_item(existing):
                        self._replace_expired(item)
                        return True
                    raise _refusal_for(existing) from exc
                if codes[-1:] == [CONDITION_FAILED]:
                    raise DeviceLimitReached(
                        f"a user may register at most {self._max_devices} device keys (blocked ones count)"
                    ) from exc
                if CONDITION_FAILED in codes[:removals] and retry:
                    return False  # a key to remove was blocked or removed meanwhile: read again
                if not _raced(codes) or attempt == _ATTEMPTS - 1:
                    raise ServiceUnavailable("the device key store is busy; retry shortly") from exc
                _pause(attempt)
        raise ServiceUnavailable("the device key store is busy; retry shortly")  # pragma: no cover

    def _replace_expired(self, item: Any) -> None:
        """Re-registering a key whose record expired (TTL has not removed it): take its place in the count."""
        now = int(self._clock())
        condition = self._keys.expires_at.exists() & (self._keys.expires_at <= now) & (self._keys.status == ACTIVE)
        try:
            with self._transaction() as tx:  # one item, but a transaction returns what refused it
                tx.save(item, condition=condition, return_values="ALL_OLD")
        except TransactWriteError as exc:
            if cancellation_codes(exc) == [CONDITION_FAILED]:
                raise _refusal_for(cancelled_item(exc, 0)) from exc
            raise ServiceUnavailable("the device key store is busy; retry shortly") from exc

    def _remove_active(self, tx: TransactWrite, user_id: str, key_ids: list[str], actor: Caller, reason: str) -> None:
        for key_id in key_ids:
            tx.delete(self._keys(user_id, key_id), condition=self._keys.key_id.exists() & (self._keys.status == ACTIVE))
            tx.save(self._deletion_record(user_id, key_id, actor, reason))

    def _deletion_record(self, user_id: str, key_id: str, actor: Caller, reason: str | None) -> Any:
        now = self._now()
        return self._deletion(
            user_id,
            f"{DELETION_PREFIX}{key_id}#{int(now.timestamp() * 1000)}",
            deleted_key_id=key_id,
            reason=reason,
            changed_by_kind=actor.kind,
            changed_by_subject=actor.subject,
            deleted_at=now,
            expires_at=int(now.timestamp()) + DELETION_RECORD_SECONDS,
        )

    def _expires_at(self, now: datetime) -> int | None:
        return int(now.timestamp()) + self._inactive_seconds if self._inactive_seconds else None

    def _expiry_actions(self, now: datetime) -> list[Any]:
        expires = self._expires_at(now)
        return [self._keys.expires_at.set(expires)] if expires is not None else []

    def _expired_item(self, raw: dict[str, Any]) -> bool:
        expires = raw.get("expires_at", {}).get("N")
        return raw.get("status", {}).get("S") == ACTIVE and expires is not None and self._clock() >= float(expires)

    def _stamp_actions(self, change: str, actor: Caller) -> list[Any]:
        keys = self._keys
        return [
            keys.updated_at.set(self._now()),
            keys.change.set(change),
            keys.changed_by_kind.set(actor.kind),
            keys.changed_by_subject.set(actor.subject) if actor.subject else keys.changed_by_subject.remove(),
        ]

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
        if found.status == BLOCKED:
            return DeviceBlocked(BLOCKED_MESSAGE)
        return DeviceNotFound("the device key changed meanwhile; read it again")

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


def _stamp(change: str, actor: Caller) -> dict[str, Any]:
    return {"change": change, "changed_by_kind": actor.kind, "changed_by_subject": actor.subject}


def _exists() -> DeviceKeyExists:
    return DeviceKeyExists("this device key is already registered for the user")


def _refusal_for(existing: dict[str, Any] | None) -> DeviceBlocked | DeviceKeyExists:
    """Why a put of a key that exists was refused: the stored item says blocked, or just there."""
    blocked = existing is not None and existing.get("status", {}).get("S") == BLOCKED
    return DeviceBlocked(BLOCKED_MESSAGE) if blocked else _exists()


def _raced(codes: list[str | None]) -> bool:
    """A concurrent transaction on the same items: worth another try."""
    return TRANSACTION_CONFLICT in codes


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311 - jitter, not a secret
