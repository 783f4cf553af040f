"""Registrations: the one-time challenge and authorization code a signed-in user's browser registers with.

The app asks for one for the user it signed in (an authenticated call) and hands its header to
the browser. The browser's registration JWT carries both values back; the user is whoever the
stored pair was issued to, never something the request says. So nobody can register a session
for someone else: a valid challenge with an authorization code of another registration (or a
made-up one) is refused, and leaves the real registration usable.

Only SHA-256s are stored. A registration is used up by one conditional DeleteItem whose
condition is the authorization code: of two concurrent registrations, exactly one gets it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PynamoDBException

from .challenges import CHALLENGE_BYTES, challenge_hash
from .dbsc_protocol import REGISTRATION_HEADER, registration_header
from .encoding import b64url_encode
from .errors import ChallengeExpired, ChallengeNotFound
from .records import iso
from .session_models import REGISTRATION_PURPOSE
from .storage import condition_failed, storage_errors


@dataclass(frozen=True, slots=True)
class SessionRegistration:
    """What an app adds to its response for a signed-in user (``header_name: header_value``)."""

    header_name: str
    header_value: str
    challenge: str
    expires_at: datetime
    expires_in: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "header_name": self.header_name,
            "header_value": self.header_value,
            "challenge": self.challenge,
            "expires_at": iso(self.expires_at),
            "expires_in": self.expires_in,
        }


class SessionRegistrations:
    """Registration challenges in the challenges table."""

    def __init__(
        self, model: Any, connection: Any, *, ttl_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._model = model
        self._connection = connection
        self._ttl = ttl_seconds
        self._clock = clock

    def issue(self, user_id: str) -> SessionRegistration:
        """A registration for ``user_id``: one PutItem.

        Raises:
            ServiceUnavailable: the store throttled.
        """
        challenge = b64url_encode(secrets.token_bytes(CHALLENGE_BYTES))
        authorization = b64url_encode(secrets.token_bytes(CHALLENGE_BYTES))
        expires_at = int(self._clock()) + self._ttl
        item = self._model(
            challenge_hash=challenge_hash(challenge),
            user_id=user_id,
            purpose=REGISTRATION_PURPOSE,
            authorization_hash=challenge_hash(authorization),
            expires_at=expires_at,
        )
        with storage_errors():
            item.save(condition=self._model.challenge_hash.does_not_exist())
        return SessionRegistration(
            header_name=REGISTRATION_HEADER,
            header_value=registration_header(challenge=challenge, authorization=authorization),
            challenge=challenge,
            expires_at=datetime.fromtimestamp(expires_at, UTC),
            expires_in=self._ttl,
        )

    def consume(self, challenge: str, authorization: str | None) -> str:
        """Use up the registration that issued this pair: one conditional DeleteItem.

        Returns:
            The user it was issued to.

        Raises:
            ChallengeNotFound: no such registration, used already, or the authorization code is
                not the one issued with the challenge (then nothing is used up).
            ChallengeExpired: the pair is right, but past its lifetime (it is gone now).
        """
        key = challenge_hash(challenge)
        expected = challenge_hash(authorization) if authorization else None
        if key is None or expected is None:
            raise ChallengeNotFound("the registration is unknown, used, or not this authorization's")
        model = self._model
        condition = (model.purpose == REGISTRATION_PURPOSE) & (model.authorization_hash == expected)
        try:
            with storage_errors():
                response = self._connection.delete_item(
                    model.Meta.table_name, key, condition=condition, return_values="ALL_OLD"
                )
        except PynamoDBException as exc:
            if condition_failed(exc):
                raise ChallengeNotFound("the registration is unknown, used, or not this authorization's") from exc
            raise
        if not response or "Attributes" not in response:
            raise ChallengeNotFound("the registration is unknown, used, or not this authorization's")
        stored = model.from_raw_data(response["Attributes"])
        if self._clock() >= stored.expires_at:
            raise ChallengeExpired("the registration has expired: sign in again")
        return str(stored.user_id)


__all__ = ["CHALLENGE_BYTES", "SessionRegistration", "SessionRegistrations"]
