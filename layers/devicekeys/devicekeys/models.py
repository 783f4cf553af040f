"""DynamoDB items as PynamoDB models, built from settings.

PynamoDB reads ``Meta`` when a class is created, so the classes are made by ``build_models``
once the settings are known (at cold start, or per test), not at import time.

Device keys table (partition ``user_id``, sort ``key_id``) holds three item types:
- one item per device key, ``key_id`` = the key's RFC 7638 thumbprint. Each write that changes
  a key records what it did (``change``) and who did it (``changed_by_*``), so the table's
  stream alone says what happened (``devicekeys.events``); ``expires_at`` is the table's TTL
  attribute when keys expire after inactivity;
- one counter item per user, ``key_id`` = ``#devices``;
- one deletion record per deleted key, ``key_id`` = ``#deleted#<key_id>#<ms>``, written in the
  delete's own transaction: it carries who deleted the key and why, for the stream, and
  expires after a day (TTL).
'#' sorts before every base64url character, so key queries (``key_id >= "-"``, the smallest
base64url character) never see the counter or the deletion records.

Challenges table (partition ``challenge_hash``) holds one item per outstanding challenge,
keyed by the SHA-256 of the challenge, with ``expires_at`` as the table's TTL attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.models import Model

from .settings import Settings
from .storage import share_connection

DEVICE_COUNTER_KEY = "#devices"
DELETION_PREFIX = "#deleted#"
FIRST_KEY_ID = "-"  # the smallest base64url character: every key_id sorts at or after it


@dataclass(frozen=True)
class Models:
    """The model classes of one deployment, and the one connection they share."""

    device_key: Any
    device_counter: Any
    deletion: Any
    challenge: Any
    connection: Connection


def _meta(table_name: str, settings: Settings) -> Any:
    class Meta:
        pass

    Meta.table_name = table_name  # type: ignore[attr-defined]
    Meta.region = settings.region  # type: ignore[attr-defined]
    Meta.host = settings.dynamodb_endpoint  # type: ignore[attr-defined]
    # Fail fast inside a login journey; the caller can retry a 503.
    Meta.connect_timeout_seconds = 2  # type: ignore[attr-defined]
    Meta.read_timeout_seconds = 3  # type: ignore[attr-defined]
    Meta.max_retry_attempts = 2  # type: ignore[attr-defined]
    return Meta


def build_models(settings: Settings) -> Models:
    class DeviceKeyModel(Model):
        Meta = _meta(settings.device_keys_table, settings)

        user_id = UnicodeAttribute(hash_key=True)
        key_id = UnicodeAttribute(range_key=True)
        status = UnicodeAttribute()
        alg = UnicodeAttribute()
        public_key = JSONAttribute()
        display_name = UnicodeAttribute(null=True)
        custom_data = JSONAttribute(null=True)
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()
        last_verified_at = UTCDateTimeAttribute(null=True)
        blocked_at = UTCDateTimeAttribute(null=True)
        blocked_reason = UnicodeAttribute(null=True)
        expires_at = NumberAttribute(null=True)  # TTL: set while the key may expire after inactivity
        change = UnicodeAttribute(null=True)  # registered, updated, blocked, unblocked, rotated
        changed_by_kind = UnicodeAttribute(null=True)
        changed_by_subject = UnicodeAttribute(null=True)
        previous_key_id = UnicodeAttribute(null=True)  # a rotated key's predecessor

    class DeletionModel(Model):
        Meta = _meta(settings.device_keys_table, settings)

        user_id = UnicodeAttribute(hash_key=True)
        key_id = UnicodeAttribute(range_key=True)  # #deleted#<key_id>#<ms>
        deleted_key_id = UnicodeAttribute()
        reason = UnicodeAttribute(null=True)
        changed_by_kind = UnicodeAttribute()
        changed_by_subject = UnicodeAttribute(null=True)
        deleted_at = UTCDateTimeAttribute()
        expires_at = NumberAttribute()

    class DeviceCounterModel(Model):
        Meta = _meta(settings.device_keys_table, settings)

        user_id = UnicodeAttribute(hash_key=True)
        key_id = UnicodeAttribute(range_key=True, default=DEVICE_COUNTER_KEY)
        device_count = NumberAttribute(default=0)

    class ChallengeModel(Model):
        Meta = _meta(settings.challenges_table, settings)

        challenge_hash = UnicodeAttribute(hash_key=True)
        user_id = UnicodeAttribute()
        purpose = UnicodeAttribute()
        expires_at = NumberAttribute()

    classes = (DeviceKeyModel, DeviceCounterModel, DeletionModel, ChallengeModel)
    return Models(*classes, connection=share_connection(classes))
