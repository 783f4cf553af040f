"""Publishing lifecycle events: from the device-keys table's stream to the event bus, once each.

The publisher function hands each stream record here (through Powertools' batch utility, which
reports the records that failed so that only they are retried). For a record that stands for a
lifecycle event (``devicekeys.events``):

- a key that DynamoDB's TTL removed also leaves the user's device count;
- the event is put on the bus; an entry EventBridge refuses (throttling, an outage) raises, so
  the record is retried, and after the event source's retries it goes to the dead-letter
  queue: nothing is lost in silence;
- all of that runs at most once per stream record (Powertools' idempotency utility, keyed on
  the record's ``eventID``, in its own table), so a record delivered again is not published or
  counted twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from .device_keys import DeviceKeyService
from .events import SOURCE, TTL_PRINCIPAL, LifecycleEvent, lifecycle_event
from .session_events import SessionEvent
from .settings import Settings

IDEMPOTENCY_SECONDS = 24 * 3600  # longer than a stream keeps records, so a redelivery is always recognised


class PublishFailed(Exception):
    """EventBridge did not take the event: the record fails, and is retried."""


class EventPublisher:
    """Turns stream records into events on the bus, at most once each."""

    def __init__(self, settings: Settings, device_keys: DeviceKeyService, *, events_client: Any = None) -> None:
        if not settings.event_bus_name:
            raise ValueError("EVENT_BUS_NAME is not set")
        self._settings = settings
        self._device_keys = device_keys
        self._injected_client = events_client

    def handle(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """Publish what one stream record (Lambda's JSON form) stands for: the event's detail, or None.

        Raises:
            PublishFailed: EventBridge refused the event (the batch utility marks the record failed).
        """
        if event_of(record) is None:
            return None  # a verification, a refresh: nothing to publish, so nothing to remember either
        published: dict[str, Any] | None = self._once(record=dict(record))
        return published

    def publish(self, record: Mapping[str, Any]) -> LifecycleEvent | SessionEvent | None:
        """``handle`` without the once-only guard: what the guard runs."""
        event = event_of(record)
        if event is None:
            return None
        if event.type == "expired":
            self._device_keys.count_expired(event.user_id)
        entry: dict[str, Any] = {
            "Source": SOURCE,
            "DetailType": event.detail_type,
            "Detail": json.dumps(event.detail(), separators=(",", ":"), default=str),
            "EventBusName": self._settings.event_bus_name,
            "Resources": [],
        }
        response = self._events.put_events(Entries=[entry])
        if response.get("FailedEntryCount"):
            failure = response["Entries"][0]
            raise PublishFailed(f"{failure.get('ErrorCode')}: {failure.get('ErrorMessage')}")
        return event

    def register_lambda_context(self, context: Any) -> None:
        """Tell the once-only guard how long this invocation has left: a record whose publication
        was cut short (a timeout, a crash) is then retried once the invocation is over, instead of
        staying "in progress" until the guard's 24 hours expire."""
        self._config.register_lambda_context(context)

    @cached_property
    def _config(self) -> Any:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig  # noqa: PLC0415 - see _once

        return IdempotencyConfig(event_key_jmespath="eventID", expires_after_seconds=IDEMPOTENCY_SECONDS)

    @cached_property
    def _once(self) -> Any:
        """``publish`` wrapped by Powertools' idempotency, keyed on the record's eventID."""
        from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415 - the publisher's cold start only
            DynamoDBPersistenceLayer,
            idempotent_function,
        )

        if not self._settings.published_events_table:
            raise ValueError("PUBLISHED_EVENTS_TABLE is not set")
        store = DynamoDBPersistenceLayer(
            table_name=self._settings.published_events_table, boto3_client=self._client("dynamodb")
        )
        config = self._config

        def publish_once(record: dict[str, Any]) -> dict[str, Any] | None:
            event = self.publish(record)
            return event.detail() if event is not None else None

        return idempotent_function(publish_once, data_keyword_argument="record", persistence_store=store, config=config)

    @cached_property
    def _events(self) -> Any:
        return self._injected_client or self._client("events")

    def _client(self, service: str) -> Any:
        import boto3  # noqa: PLC0415 - only the publisher needs boto3's clients directly

        endpoint = self._settings.events_endpoint if service == "events" else self._settings.dynamodb_endpoint
        return boto3.client(service, region_name=self._settings.region, endpoint_url=endpoint or None)


def event_of(record: Mapping[str, Any]) -> LifecycleEvent | SessionEvent | None:
    """The lifecycle event of a stream record in Lambda's JSON form (DynamoDB-typed images)."""
    from boto3.dynamodb.types import TypeDeserializer  # noqa: PLC0415 - see _client

    deserializer = TypeDeserializer()
    change = record.get("dynamodb") or {}

    def image(name: str) -> dict[str, Any] | None:
        raw = change.get(name)
        return {key: deserializer.deserialize(value) for key, value in raw.items()} if raw else None

    identity = record.get("userIdentity") or {}
    created = change.get("ApproximateCreationDateTime")
    return lifecycle_event(
        event_name=str(record.get("eventName")),
        event_id=str(record.get("eventID")),
        new_image=image("NewImage"),
        old_image=image("OldImage"),
        removed_by_ttl=identity.get("type") == "Service" and identity.get("principalId") == TTL_PRINCIPAL,
        recorded_at=datetime.fromtimestamp(float(created), UTC) if created is not None else None,
    )
