"""Bound sessions' DynamoDB items, as PynamoDB models built from settings (like ``devicekeys.models``).

- **sessions** live in the device-keys table, under their user: ``key_id = "#session#<nonce>"``.
  ``#`` sorts before every base64url character, so device-key queries never see them, and the
  table's stream (the lifecycle events' one source) carries their changes to the same publisher.
  A session item also holds its pending refresh challenge (its SHA-256 and expiry), so a refresh
  needs no other item: leg 1 stores the challenge, leg 2 consumes it, one UpdateItem each.
  ``expires_at`` (the table's TTL attribute) is pushed back by every refresh.
- **registrations** (the challenge and authorization an app's registration header carries) live
  in the challenges table, keyed by the challenge's SHA-256 like any challenge, with
  ``purpose = "session"`` and the SHA-256 of the authorization code: only the pair a user was
  given registers, and a device proof can never use one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.models import Model

from .models import _meta
from .settings import Settings
from .storage import share_connection

SESSION_PREFIX = "#session#"
REGISTRATION_PURPOSE = "session"


@dataclass(frozen=True)
class SessionModels:
    session: Any
    registration: Any
    connection: Connection


def build_session_models(settings: Settings) -> SessionModels:
    class BoundSessionModel(Model):
        Meta = _meta(settings.device_keys_table, settings)

        user_id = UnicodeAttribute(hash_key=True)
        key_id = UnicodeAttribute(range_key=True)  # #session#<nonce>
        session_id = UnicodeAttribute()
        status = UnicodeAttribute()  # active, terminated
        alg = UnicodeAttribute()
        public_key = JSONAttribute()
        key_thumbprint = UnicodeAttribute()  # the session key's RFC 7638 thumbprint
        user_agent = UnicodeAttribute(null=True)
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()
        last_refreshed_at = UTCDateTimeAttribute(null=True)
        refresh_count = NumberAttribute(default=0)
        challenge_hash = UnicodeAttribute(null=True)  # the pending refresh challenge's SHA-256
        challenge_expires_at = NumberAttribute(null=True)
        expires_at = NumberAttribute()  # TTL: idle expiry, pushed back by each refresh
        terminated_at = UTCDateTimeAttribute(null=True)
        terminated_reason = UnicodeAttribute(null=True)
        change = UnicodeAttribute(null=True)  # registered, terminated: what the last event-worthy write did
        changed_by_kind = UnicodeAttribute(null=True)
        changed_by_subject = UnicodeAttribute(null=True)

    class RegistrationModel(Model):
        Meta = _meta(settings.challenges_table, settings)

        challenge_hash = UnicodeAttribute(hash_key=True)
        user_id = UnicodeAttribute()
        purpose = UnicodeAttribute()  # always "session"
        authorization_hash = UnicodeAttribute()
        expires_at = NumberAttribute()

    classes = (BoundSessionModel, RegistrationModel)
    return SessionModels(*classes, connection=share_connection(classes))
