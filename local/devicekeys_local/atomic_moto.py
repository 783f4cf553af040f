"""Give moto's DynamoDB the guarantees the service relies on: atomic requests, a faithful stream.

Real DynamoDB applies a conditional write or a transaction as one indivisible step, so of two
concurrent conditional deletes of one item exactly one succeeds. moto evaluates a condition and
then applies the write as separate Python steps, and threads can interleave between them
(seen here: 14 registrations accepted under a limit of 10). Serialising moto's request handling
(its stream reads included) restores DynamoDB's per-request atomicity without serialising the
service's own code, whose races between requests are exactly what the concurrency tests exercise.

A cancelled transaction writes nothing, to the table or its stream. moto rolls one back by
swapping in a deep copy of each table taken before it, stream included: the stream object
readers hold stops receiving records (seen here: no lifecycle event after the first refused
registration), and the copy reuses sequence numbers. The rollback is made to keep the stream
object, without the cancelled transaction's records.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

_LOCK = threading.RLock()
_original_call_action = DynamoHandler.call_action
_original_streams_call_action = DynamoDBStreamsHandler.call_action
_original_transact_write_items = DynamoDBBackend.transact_write_items


def _atomic_call_action(self: Any) -> Any:
    with _LOCK:
        return _original_call_action(self)


def _atomic_streams_call_action(self: Any) -> Any:
    with _LOCK:  # a stream read never sees a transaction half-way, records it may roll back
        return _original_streams_call_action(self)


def _transact_write_items_keeping_streams(self: Any, transact_items: list[dict[str, Any]]) -> None:
    streams = {
        name: (table.stream_shard, len(table.stream_shard.items))
        for name, table in self.tables.items()
        if getattr(table, "stream_shard", None) is not None
    }
    try:
        _original_transact_write_items(self, transact_items)
    except Exception:
        for name, (shard, length) in streams.items():
            table = self.tables.get(name)
            if table is not None and table.stream_shard is not shard:  # rolled back to a copy
                del shard.items[length:]
                shard.table = table
                table.stream_shard = shard
        raise


_PATCHES = (
    (DynamoHandler, "call_action", _atomic_call_action),
    (DynamoDBStreamsHandler, "call_action", _atomic_streams_call_action),
    (DynamoDBBackend, "transact_write_items", _transact_write_items_keeping_streams),
)


def make_dynamodb_requests_atomic() -> None:
    """Install the serialisation and the stream-keeping rollback for the rest of the process (the local API)."""
    for owner, name, replacement in _PATCHES:
        setattr(owner, name, replacement)


@contextmanager
def atomic_dynamodb_requests() -> Iterator[None]:
    """The same while the block runs (tests)."""
    previous = [(owner, name, getattr(owner, name)) for owner, name, _ in _PATCHES]
    make_dynamodb_requests_atomic()
    try:
        yield
    finally:
        for owner, name, original in previous:
            setattr(owner, name, original)
