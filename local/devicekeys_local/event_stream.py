"""What AWS does around the device-keys table's stream, done locally: lifecycle events on one machine.

On AWS, DynamoDB's TTL removes expired items, the table's stream records every change, Lambda's
event source mapping hands the records to the publisher function in batches (retrying the ones
it reports failed), and the publisher puts events on EventBridge. Locally:

- ``TtlSweeper`` removes the items whose TTL attribute is past from the tables whose stream a
  function reads (DynamoDB does it within a day or two of expiry; here every
  ``--ttl-sweep-seconds``), and marks their stream records as TTL's. Other tables keep their
  expired items, as DynamoDB usually still does minutes after expiry: an expired challenge
  answers ``challenge_expired``, as it would on AWS, not ``challenge_not_found``;
- ``StreamPoller`` reads the stream and invokes the subscribed function in this process with
  each batch, as the template's ``Type: DynamoDB`` event says (batch size, retries of the
  records reported failed; what runs out of retries is logged, where AWS would send it to the
  dead-letter queue);
- ``LocalEventBus`` is EventBridge's ``PutEvents`` (the publisher's ``EVENTS_ENDPOINT``): it
  keeps the last events in memory for ``GET /_local/events`` and prints each one.

Only the stream and TTL are emulated: the function, its idempotency and the events are the
deployed ones.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .template import stream_subscriptions, table_definitions

log = logging.getLogger(__name__)

EVENTBRIDGE_PATH = "/_local/eventbridge"
EVENTS_PATH = "/_local/events"
EVENT_HISTORY = 500
MAX_ENTRIES = 10  # PutEvents takes at most ten entries
# How a stream record says DynamoDB's TTL removed the item (what the publisher checks).
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
POLL_SECONDS = 0.25
DEFAULT_TTL_SWEEP_SECONDS = 60.0

Deliver = Callable[[list[dict[str, Any]]], list[str]]


class LocalEventBus:
    """EventBridge's ``PutEvents`` (JSON protocol), keeping what it is sent as a rule's target would see it."""

    def __init__(self, echo: Callable[[str], None] | None = None, *, account: str, region: str) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=EVENT_HISTORY)
        self._lock = threading.Lock()
        self._echo = echo
        self._account = account
        self._region = region

    def put_events(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one ``AWSEvents.PutEvents`` request: (status, response document)."""
        try:
            entries = json.loads(body or b"{}").get("Entries")
        except (ValueError, AttributeError):
            return 400, {"__type": "SerializationException", "message": "the body is not a JSON object"}
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_ENTRIES:
            return 400, {"__type": "ValidationException", "message": f"Entries: 1 to {MAX_ENTRIES} entries"}
        results = [self._put(entry) for entry in entries]
        failed = sum(1 for result in results if "ErrorCode" in result)
        return 200, {"FailedEntryCount": failed, "Entries": results}

    def _put(self, entry: Any) -> dict[str, str]:
        try:
            detail = json.loads(entry["Detail"])
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": str(entry["DetailType"]),
                "source": str(entry["Source"]),
                "account": self._account,
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": self._region,
                "resources": list(entry.get("Resources") or []),
                "detail": detail,
                "event-bus-name": str(entry.get("EventBusName") or "default"),
            }
        except (KeyError, TypeError, ValueError) as exc:
            return {"ErrorCode": "InvalidArgument", "ErrorMessage": f"not a valid entry: {exc}"}
        with self._lock:
            self._events.append(event)
        if self._echo is not None:
            self._echo(_describe(event))
        return {"EventId": event["id"]}

    def events(self) -> list[dict[str, Any]]:
        """The events put so far (the last ``EVENT_HISTORY``), oldest first."""
        with self._lock:
            return list(self._events)


def _describe(event: dict[str, Any]) -> str:
    detail = event["detail"] if isinstance(event["detail"], dict) else {}
    actor = detail.get("actor") or {}
    who = f"{actor.get('kind')}:{actor.get('subject')}" if actor else "?"
    subject = detail.get("key_id") or detail.get("session_id")  # a device key's, or a bound session's
    return f"event  {event['detail-type']}: {detail.get('user_id')}/{subject} by {who}"


class TtlMarks:
    """The keys the sweeper removed, so that their stream records can say TTL removed them."""

    def __init__(self) -> None:
        self._keys: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def add(self, table: str, key: dict[str, Any]) -> None:
        with self._lock:
            self._keys.add((table, _canonical(key)))

    def discard(self, table: str, key: dict[str, Any]) -> bool:
        """Forget the key; True when it was marked."""
        with self._lock:
            marked = (table, _canonical(key))
            if marked in self._keys:
                self._keys.remove(marked)
                return True
            return False


def _canonical(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


@dataclass
class TtlSweeper:
    """DynamoDB's TTL for local tables: removes each item whose TTL attribute (epoch seconds) is past."""

    dynamodb: Any
    ttl_attributes: dict[str, str]  # table name -> its TTL attribute
    key_attributes: dict[str, list[str]]  # table name -> its key's attribute names
    marks: TtlMarks
    clock: Callable[[], float] = time.time

    def sweep(self) -> int:
        """Remove what has expired; returns how many items were removed."""
        removed = 0
        now = int(self.clock())
        for table, attribute in self.ttl_attributes.items():
            pages = self.dynamodb.get_paginator("scan").paginate(
                TableName=table,
                FilterExpression="#ttl < :now",
                ExpressionAttributeNames={"#ttl": attribute},
                ExpressionAttributeValues={":now": {"N": str(now)}},
                ConsistentRead=True,
            )
            for item in (item for page in pages for item in page["Items"]):
                key = {name: item[name] for name in self.key_attributes[table]}
                removed += self._remove(table, key, attribute, item[attribute])
        return removed

    def _remove(self, table: str, key: dict[str, Any], attribute: str, seen: dict[str, Any]) -> int:
        # Like TTL, leave an item alone if its expiry moved since the scan (a verification renews it).
        self.marks.add(table, key)
        try:
            self.dynamodb.delete_item(
                TableName=table,
                Key=key,
                ConditionExpression="#ttl = :seen",
                ExpressionAttributeNames={"#ttl": attribute},
                ExpressionAttributeValues={":seen": seen},
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            self.marks.discard(table, key)
            return 0
        return 1


@dataclass
class StreamPoller:
    """One table's stream, delivered to one function the way Lambda's event source mapping does."""

    streams: Any
    table: str
    stream_arn: str
    deliver: Deliver  # invokes the function with a batch; returns the sequence numbers it reports failed
    batch_size: int
    maximum_retry_attempts: int
    marks: TtlMarks
    _iterators: dict[str, str | None] = field(default_factory=dict)
    _pending: list[dict[str, Any]] = field(default_factory=list)
    _attempts: int = 0

    def start_at_latest(self) -> None:
        """Read from now on: what the tables held before (a restored snapshot) is not new."""
        for shard in self._shards():
            self._iterators[shard] = self._iterator(shard, "LATEST")

    def poll(self) -> int:
        """Deliver one batch if there is one; returns the number of records delivered successfully."""
        if not self._pending:
            self._pending = self._read()
        if not self._pending:
            return 0
        batch = self._pending
        failed = set(self.deliver(batch))
        if not failed:
            self._pending, self._attempts = [], 0
            return len(batch)
        # Lambda checkpoints before the first failed record and retries the batch from there.
        first = next(index for index, record in enumerate(batch) if _sequence(record) in failed)
        self._pending = batch[first:]
        self._attempts += 1
        if 0 <= self.maximum_retry_attempts < self._attempts:
            log.error(
                "%d stream records of %s failed %d times: dropped (on AWS: the dead-letter queue)",
                len(self._pending),
                self.table,
                self._attempts,
            )
            self._pending, self._attempts = [], 0
        return first

    def _read(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard, iterator in list(self._iterators.items()):
            if iterator is None or len(records) >= self.batch_size:
                continue
            page = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size - len(records))
            self._iterators[shard] = page.get("NextShardIterator")
            records.extend(self._as_lambda_sees_it(record) for record in page["Records"])
        if any(iterator is None for iterator in self._iterators.values()):
            for shard in self._shards():  # a closed shard: its children carry on
                if shard not in self._iterators:
                    self._iterators[shard] = self._iterator(shard, "TRIM_HORIZON")
        return records

    def _shards(self) -> Iterable[str]:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description["Shards"]]

    def _iterator(self, shard: str, position: str) -> str:
        response = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType=position)
        return str(response["ShardIterator"])

    def _as_lambda_sees_it(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record as boto3 reads it -> as Lambda hands it over (epoch seconds, the stream's ARN, TTL's identity)."""
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            change["ApproximateCreationDateTime"] = created.timestamp()
        lambda_record = {**record, "dynamodb": change, "eventSourceARN": self.stream_arn}
        if record.get("eventName") == "REMOVE" and self.marks.discard(self.table, change.get("Keys") or {}):
            lambda_record["userIdentity"] = dict(TTL_IDENTITY)
        return lambda_record


def _sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


class LocalEventStreams:
    """Runs the sweeper and the pollers on one background thread until ``stop``."""

    def __init__(
        self, pollers: list[StreamPoller], sweeper: TtlSweeper, *, ttl_sweep_seconds: float = DEFAULT_TTL_SWEEP_SECONDS
    ) -> None:
        self.pollers = pollers
        self.sweeper = sweeper
        self.ttl_sweep_seconds = ttl_sweep_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="devicekeys-event-streams", daemon=True)

    def start(self) -> None:
        for poller in self.pollers:
            poller.start_at_latest()
        self._thread.start()

    def stop(self) -> None:
        """Finish the current batch, then stop (before the tables are saved: nothing writes after)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        next_sweep = time.monotonic() + self.ttl_sweep_seconds
        while not self._stopping.is_set():
            try:
                if time.monotonic() >= next_sweep:
                    self.sweeper.sweep()
                    next_sweep = time.monotonic() + self.ttl_sweep_seconds
                delivered = sum(poller.poll() for poller in self.pollers)
            except Exception:  # the DynamoDB endpoint went away, say: keep the API up, try again
                log.exception("the local event streams failed; retrying")
                delivered = 0
            if not delivered:
                self._stopping.wait(POLL_SECONDS)


def echo_to_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")


def event_streams(
    *,
    endpoint: str,
    table_names: dict[str, str],
    invoke: Callable[[str, dict[str, Any]], Any],
    template: Path,
    ttl_sweep_seconds: float = DEFAULT_TTL_SWEEP_SECONDS,
) -> LocalEventStreams:
    """The template's stream subscriptions and TTL tables on the DynamoDB at ``endpoint``.

    ``invoke(logical_id, event)`` runs a function directly (in this process, in its environment).
    """
    import boto3  # noqa: PLC0415 - boto3 only when the streams run (not for the CLI's other commands)

    from .dynamodb import dynamodb_client  # noqa: PLC0415 - see above

    dynamodb = dynamodb_client(endpoint)
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=dynamodb.meta.region_name)
    marks = TtlMarks()
    pollers = []
    for subscription in stream_subscriptions(template):
        table = table_names[subscription.table]
        stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        pollers.append(
            StreamPoller(
                streams=streams,
                table=table,
                stream_arn=stream_arn,
                deliver=_delivery(invoke, subscription.function, subscription.reports_item_failures),
                batch_size=subscription.batch_size,
                maximum_retry_attempts=subscription.maximum_retry_attempts,
                marks=marks,
            )
        )
    definitions = {definition.logical_id: definition for definition in table_definitions(template)}
    streamed = {subscription.table for subscription in stream_subscriptions(template)}
    sweeper = TtlSweeper(
        dynamodb=dynamodb,
        ttl_attributes={
            table_names[logical_id]: definition.ttl_attribute
            for logical_id, definition in definitions.items()
            if definition.ttl_attribute and logical_id in streamed
        },
        key_attributes={
            table_names[logical_id]: [key["AttributeName"] for key in definition.create_table["KeySchema"]]
            for logical_id, definition in definitions.items()
        },
        marks=marks,
    )
    return LocalEventStreams(pollers, sweeper, ttl_sweep_seconds=ttl_sweep_seconds)


def _delivery(invoke: Callable[[str, dict[str, Any]], Any], function: str, reports_item_failures: bool) -> Deliver:
    """Invoke ``function`` with a batch; the records to retry: those it reports, or all when it raises."""

    def deliver(records: list[dict[str, Any]]) -> list[str]:
        everything = [_sequence(record) for record in records]
        try:
            result = invoke(function, {"Records": records})
        except Exception:
            log.exception("%s failed on a batch of %d stream records; retrying", function, len(records))
            return everything
        if not reports_item_failures:
            return []
        failures = (result or {}).get("batchItemFailures") or []
        return [str(failure["itemIdentifier"]) for failure in failures]

    return deliver
