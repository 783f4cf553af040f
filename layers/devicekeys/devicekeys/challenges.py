"""One-time challenges: issued for a (user, purpose), consumed by the first proof that shows one.

Only the SHA-256 of a challenge is stored, so a read of the table cannot be replayed. A
challenge is consumed with a single conditional DeleteItem that returns the deleted item:
DynamoDB serialises writes to one item, so of two concurrent proofs with the same challenge
exactly one gets the item back. Expiry is checked here on every use; the table's TTL only
cleans up, eventually.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException

from .encoding import b64url_decode, b64url_encode
from .errors import ChallengeExpired, ChallengeNotFound, InvalidRequest
from .storage import condition_failed, storage_errors

PURPOSES = ("register", "verify", "rotate")
CHALLENGE_BYTES = 32


@dataclass(frozen=True, slots=True)
class IssuedChallenge:
    """A challenge as the device receives it (``to_dict``): its field types are its JSON's."""

    challenge: str
    purpose: str
    expires_at: datetime
    expires_in: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "challenge": self.challenge,
            "purpose": self.purpose,
            "expires_at": self.expires_at.isoformat().replace("+00:00", "Z"),
            "expires_in": self.expires_in,
        }


def challenge_hash(challenge: str) -> str | None:
    """The stored identity of a challenge, or None when it cannot be one we issued."""
    try:
        raw = b64url_decode(challenge)
    except ValueError:
        return None
    if len(raw) != CHALLENGE_BYTES:
        return None
    return b64url_encode(hashlib.sha256(raw).digest())


class ChallengeService:
    def __init__(
        self, model: Any, connection: Connection, *, ttl_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._model = model
        self._connection = connection
        self._ttl = ttl_seconds
        self._clock = clock

    def issue(self, user_id: str, *, purpose: str) -> IssuedChallenge:
        """Create a challenge for ``user_id`` and ``purpose``: one PutItem.

        Raises:
            InvalidRequest: an unknown purpose.
            ServiceUnavailable: the store throttled.
        """
        if purpose not in PURPOSES:
            raise InvalidRequest(f"purpose must be one of {', '.join(PURPOSES)}")
        challenge = b64url_encode(secrets.token_bytes(CHALLENGE_BYTES))
        expires_at = int(self._clock()) + self._ttl
        item = self._model(
            challenge_hash=challenge_hash(challenge), user_id=user_id, purpose=purpose, expires_at=expires_at
        )
        with storage_errors():
            item.save(condition=self._model.challenge_hash.does_not_exist())
        return IssuedChallenge(
            challenge=challenge,
            purpose=purpose,
            expires_at=datetime.fromtimestamp(expires_at, UTC),
            expires_in=self._ttl,
        )

    def consume(self, challenge: str, *, user_id: str, purpose: str) -> None:
        """Use up ``challenge``: one DeleteItem. It is gone afterwards whatever the outcome.

        Raises:
            ChallengeNotFound: never issued, already used, or issued for another user or purpose.
            ChallengeExpired: issued for this user and purpose, but past its lifetime.
        """
        key = challenge_hash(challenge)
        if key is None:
            raise ChallengeNotFound("the challenge is unknown or already used")
        try:
            with storage_errors():
                response = self._connection.delete_item(
                    self._model.Meta.table_name,
                    key,
                    condition=self._model.challenge_hash.exists(),
                    return_values="ALL_OLD",
                )
        except PynamoDBException as exc:
            if condition_failed(exc):
                raise ChallengeNotFound("the challenge is unknown or already used") from exc
            raise
        if not response or "Attributes" not in response:  # deleted by a concurrent consumer
            raise ChallengeNotFound("the challenge is unknown or already used")
        stored = self._model.from_raw_data(response["Attributes"])
        if stored.user_id != user_id or stored.purpose != purpose:
            raise ChallengeNotFound("the challenge was not issued for this user and purpose")
        if self._clock() >= stored.expires_at:
            raise ChallengeExpired("the challenge has expired")
