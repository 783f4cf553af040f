"""Give moto's DynamoDB the one guarantee the service relies on: each request is atomic.

Real DynamoDB applies a conditional write or a transaction as one indivisible step, so of two
concurrent conditional deletes of one item exactly one succeeds. moto evaluates a condition and
then applies the write as separate Python steps, and threads can interleave between them
(seen here: 14 registrations accepted under a limit of 10). Serialising moto's request handling
restores DynamoDB's per-request atomicity without serialising the service's own code, whose
races between requests are exactly what the concurrency tests exercise.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.responses import DynamoHandler

_LOCK = threading.RLock()
_original_call_action = DynamoHandler.call_action


def _atomic_call_action(self: Any) -> Any:
    with _LOCK:
        return _original_call_action(self)


def make_dynamodb_requests_atomic() -> None:
    """Install the serialisation for the rest of the process (the local API server)."""
    DynamoHandler.call_action = _atomic_call_action  # type: ignore[method-assign]


@contextmanager
def atomic_dynamodb_requests() -> Iterator[None]:
    """Serialise moto's DynamoDB request handling while the block runs (tests)."""
    previous = DynamoHandler.call_action
    DynamoHandler.call_action = _atomic_call_action  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoHandler.call_action = previous  # type: ignore[method-assign]
