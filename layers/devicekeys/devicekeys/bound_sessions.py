"""Bound sessions: the store, and the two writes a refresh is made of.

A session is one item under its user (``devicekeys.session_models``). Its id names the user and
a random nonce (``<base64url(user_id)>.<nonce>``), so a refresh, which carries the id alone, finds
the item without an index or a read:

- leg 1 (the browser asks to refresh): one UpdateItem stores a fresh challenge's SHA-256 on the
  active session;
- leg 2 (the browser signed it): one UpdateItem, conditional on that challenge (and the session
  being active and unexpired), consumes it, counts the refresh, pushes the idle expiry back and
  returns the item with its public key. A challenge is good once: of two answers, one wins.

A refused leg 2 reads the item once more to say why: ended (the browser ends the session) or a
stale challenge (the browser gets a fresh one). Every write records what it did and who did it,
so the table's stream alone makes the session events (``devicekeys.session_events``).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from .access import Caller
from .challenges import CHALLENGE_BYTES, challenge_hash
from .dbsc_protocol import CHALLENGE_HEADER, challenge_header
from .encoding import b64url_decode, b64url_encode
from .errors import ChallengeRequired, InvalidRequest, SessionNotFound
from .inputs import check_user_id
from .records import iso
from .session_models import SESSION_PREFIX, SessionModels
from .storage import condition_failed, storage_errors

if TYPE_CHECKING:
    from .keys import DevicePublicKey  # joserfc: only the registration and refresh functions load it

ACTIVE, TERMINATED = "active", "terminated"
STATUSES = (ACTIVE, TERMINATED)
REGISTERED = "registered"
NONCE_BYTES = 16
_NONCE = re.compile(r"[A-Za-z0-9_-]{22}")
MAX_SESSION_ID = 1024
MAX_USER_AGENT = 256
DEFAULT_PAGE_SIZE = 100
NOT_FOUND = "no active bound session with this id (unknown, ended or expired)"


def session_id_for(user_id: str, nonce: str) -> str:
    return f"{b64url_encode(user_id.encode())}.{nonce}"


def parse_session_id(session_id: object) -> tuple[str, str]:
    """(user_id, nonce) of a session id this service issued.

    Raises:
        SessionNotFound: anything else: no session can have that id.
    """
    if not isinstance(session_id, str) or len(session_id) > MAX_SESSION_ID:
        raise SessionNotFound(NOT_FOUND)
    encoded, _, nonce = session_id.rpartition(".")
    try:
        user_id = b64url_decode(encoded).decode("utf-8")
        check_user_id(user_id)
    except (ValueError, InvalidRequest) as exc:
        raise SessionNotFound(NOT_FOUND) from exc
    if not _NONCE.fullmatch(nonce):
        raise SessionNotFound(NOT_FOUND)
    return user_id, nonce


@dataclass(frozen=True, slots=True)
class BoundSession:
    """A bound session as clients see it (the console lists these)."""

    session_id: str
    user_id: str
    status: str
    alg: str
    key_thumbprint: str
    user_agent: str | None
    created_at: datetime
    last_refreshed_at: datetime | None
    refresh_count: int
    expires_at: datetime
    terminated_at: datetime | None
    terminated_reason: str | None

    @classmethod
    def from_item(cls, item: Any) -> BoundSession:
        return cls(
            session_id=item.session_id,
            user_id=item.user_id,
            status=item.status,
            alg=item.alg,
            key_thumbprint=item.key_thumbprint,
            user_agent=item.user_agent,
            created_at=item.created_at,
            last_refreshed_at=item.last_refreshed_at,
            refresh_count=int(item.refresh_count or 0),
            expires_at=datetime.fromtimestamp(int(item.expires_at), UTC),
            terminated_at=item.terminated_at,
            terminated_reason=item.terminated_reason,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "user_id": self.user_id,
            "status": self.status,
            "alg": self.alg,
            "key_thumbprint": self.key_thumbprint,
            "user_agent": self.user_agent,
            "created_at": iso(self.created_at),
            "last_refreshed_at": iso(self.last_refreshed_at),
            "refresh_count": self.refresh_count,
            "expires_at": iso(self.expires_at),
            "terminated_at": iso(self.terminated_at),
            "terminated_reason": self.terminated_reason,
        }


@dataclass(frozen=True, slots=True)
class SessionKey:
    """What a refresh needs of its session once leg 2 consumed the challenge: the key, and whose."""

    session: BoundSession
    public_key: DevicePublicKey


@dataclass(frozen=True, slots=True)
class BoundSessionPage:
    sessions: list[BoundSession]
    next_token: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sessions": [session.to_dict() for session in self.sessions],
            "next_token": self.next_token,
            "count": len(self.sessions),
        }


class BoundSessionStore:
    """Every user's bound sessions, in the device-keys table."""

    def __init__(
        self,
        models: SessionModels,
        *,
        challenge_ttl_seconds: int,
        idle_days: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._model = models.session
        self._challenge_ttl = challenge_ttl_seconds
        self._idle_seconds = idle_days * 86400
        self._clock = clock

    def create(self, user_id: str, key: DevicePublicKey, *, user_agent: str | None) -> BoundSession:
        """A new active session for ``user_id`` bound to ``key``: one PutItem.

        Raises:
            ServiceUnavailable: the store throttled.
        """
        nonce = b64url_encode(secrets.token_bytes(NONCE_BYTES))
        now = self._now()
        item = self._model(
            user_id,
            SESSION_PREFIX + nonce,
            session_id=session_id_for(user_id, nonce),
            status=ACTIVE,
            alg=key.alg,
            public_key=key.jwk,
            key_thumbprint=key.key_id,
            user_agent=_printable(user_agent),
            created_at=now,
            updated_at=now,
            refresh_count=0,
            expires_at=int(now.timestamp()) + self._idle_seconds,
            change=REGISTERED,
            changed_by_kind="user",
            changed_by_subject=user_id,
        )
        with storage_errors():
            item.save(condition=self._model.key_id.does_not_exist())
        return BoundSession.from_item(item)

    def issue_challenge(self, session_id: str) -> str:
        """Refresh leg 1: store a fresh challenge on the active session (one UpdateItem); return it.

        Raises:
            SessionNotFound: no such session, ended, or expired.
            ServiceUnavailable: the store throttled.
        """
        user_id, nonce = parse_session_id(session_id)
        challenge = b64url_encode(secrets.token_bytes(CHALLENGE_BYTES))
        now = int(self._clock())
        model = self._model
        item = model(user_id, SESSION_PREFIX + nonce)
        try:
            with storage_errors():
                item.update(
                    actions=[
                        model.challenge_hash.set(challenge_hash(challenge)),
                        model.challenge_expires_at.set(now + self._challenge_ttl),
                    ],
                    condition=self._is_live(now),
                )
        except PynamoDBException as exc:
            if condition_failed(exc):
                raise SessionNotFound(NOT_FOUND) from exc
            raise
        return challenge

    def consume_challenge(self, session_id: str, challenge: str) -> SessionKey:
        """Refresh leg 2: consume the pending challenge and count the refresh (one UpdateItem).

        Returns:
            The session after the refresh, and its key to check the browser's signature with.

        Raises:
            SessionNotFound: no such session, ended, or expired.
            ChallengeRequired: not the pending challenge (used, expired, or replaced by a later
                one): the error carries a fresh challenge for the browser to sign.
            ServiceUnavailable: the store throttled.
        """
        user_id, nonce = parse_session_id(session_id)
        presented = challenge_hash(challenge)
        now = int(self._clock())
        model = self._model
        item = model(user_id, SESSION_PREFIX + nonce)
        condition = (
            self._is_live(now) & (model.challenge_hash == (presented or "-")) & (model.challenge_expires_at > now)
        )
        try:
            with storage_errors():
                item.update(
                    actions=[
                        model.challenge_hash.remove(),
                        model.challenge_expires_at.remove(),
                        model.last_refreshed_at.set(datetime.fromtimestamp(now, UTC)),
                        model.refresh_count.add(1),
                        model.expires_at.set(now + self._idle_seconds),
                    ],
                    condition=condition,
                )
        except PynamoDBException as exc:
            if not condition_failed(exc):
                raise
            raise self._why_refused(session_id) from exc
        from .keys import DevicePublicKey  # noqa: PLC0415 - see the import at the top

        return SessionKey(
            session=BoundSession.from_item(item),
            public_key=DevicePublicKey(jwk=dict(item.public_key), alg=item.alg, key_id=item.key_thumbprint),
        )

    def is_active(self, user_id: str, session_id: str) -> bool:
        """Whether the session is active and unexpired: one eventually consistent GetItem of two attributes.

        Raises:
            ServiceUnavailable: the store throttled.
        """
        try:
            owner, nonce = parse_session_id(session_id)
        except SessionNotFound:
            return False
        if owner != user_id:
            return False
        try:
            with storage_errors():
                item = self._model.get(user_id, SESSION_PREFIX + nonce, attributes_to_get=["status", "expires_at"])
        except DoesNotExist:
            return False
        return bool(item.status == ACTIVE and self._clock() < item.expires_at)

    def get(self, user_id: str, session_id: str) -> BoundSession:
        """One session of the user (strongly consistent).

        Raises:
            SessionNotFound: no such session of this user.
        """
        owner, nonce = parse_session_id(session_id)
        if owner != user_id:
            raise SessionNotFound(NOT_FOUND)
        try:
            with storage_errors():
                item = self._model.get(user_id, SESSION_PREFIX + nonce, consistent_read=True)
        except DoesNotExist as exc:
            raise SessionNotFound(NOT_FOUND) from exc
        return BoundSession.from_item(item)

    def list_sessions(
        self, user_id: str, *, limit: int | None = None, next_token: str | None = None
    ) -> BoundSessionPage:
        """One page of the user's sessions (active and ended, until they expire), oldest nonce first: one Query.

        Raises:
            InvalidRequest: a ``next_token`` this service did not issue.
        """
        start = None
        if next_token:
            start = {"user_id": {"S": user_id}, "key_id": {"S": SESSION_PREFIX + self._nonce_of_token(next_token)}}
        with storage_errors():
            results = self._model.query(
                user_id,
                range_key_condition=self._model.key_id.startswith(SESSION_PREFIX),
                consistent_read=True,
                last_evaluated_key=start,
                page_size=limit or DEFAULT_PAGE_SIZE,
            )
            page = next(results.page_iter)
        sessions = [BoundSession.from_item(self._model.from_raw_data(raw)) for raw in page.get("Items", [])]
        last = results.page_iter.last_evaluated_key
        token = None
        if last:
            token = b64url_encode(json.dumps({"s": last["key_id"]["S"].removeprefix(SESSION_PREFIX)}).encode())
        return BoundSessionPage(sessions=sessions, next_token=token)

    def terminate(self, user_id: str, session_id: str, *, actor: Caller, reason: str | None = None) -> BoundSession:
        """End a session: its pending challenge goes, its credential stops working at the authorizer, and
        its next refresh fails. Terminating again keeps the first time and reason. One UpdateItem.

        Raises:
            SessionNotFound: no such session of this user.
        """
        owner, nonce = parse_session_id(session_id)
        if owner != user_id:
            raise SessionNotFound(NOT_FOUND)
        model = self._model
        now = self._now()
        actions = [
            model.status.set(TERMINATED),
            model.terminated_at.set(model.terminated_at | now),
            model.challenge_hash.remove(),
            model.challenge_expires_at.remove(),
            model.updated_at.set(now),
            model.change.set(TERMINATED),
            model.changed_by_kind.set(actor.kind),
            model.changed_by_subject.set(actor.subject) if actor.subject else model.changed_by_subject.remove(),
        ]
        if reason is not None:
            actions.append(model.terminated_reason.set(model.terminated_reason | reason))
        item = model(user_id, SESSION_PREFIX + nonce)
        try:
            with storage_errors():
                item.update(actions=actions, condition=model.key_id.exists())
        except PynamoDBException as exc:
            if condition_failed(exc):
                raise SessionNotFound(NOT_FOUND) from exc
            raise
        return BoundSession.from_item(item)

    # --- helpers ------------------------------------------------------------------------

    def _is_live(self, now: int) -> Any:
        model = self._model
        return model.key_id.exists() & (model.status == ACTIVE) & (model.expires_at > now)

    def _why_refused(self, session_id: str) -> SessionNotFound | ChallengeRequired:
        """After leg 2's condition failed: an ended session, or a stale challenge (then a fresh one)."""
        try:
            challenge = self.issue_challenge(session_id)
        except SessionNotFound as exc:
            return exc
        return ChallengeRequired(
            "sign this fresh challenge: the one answered is used, expired or was replaced",
            headers={CHALLENGE_HEADER: challenge_header(challenge=challenge, session_id=session_id)},
        )

    @staticmethod
    def _nonce_of_token(token: str) -> str:
        try:
            nonce = json.loads(b64url_decode(token))["s"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidRequest("next_token is not a token this service issued") from exc
        if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
            raise InvalidRequest("next_token is not a token this service issued")
        return nonce

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)


def _printable(value: str | None) -> str | None:
    """A browser's User-Agent as the console shows it: printable ASCII, bounded."""
    if not value:
        return None
    kept = "".join(character for character in value if " " <= character <= "~")[:MAX_USER_AGENT]
    return kept or None
