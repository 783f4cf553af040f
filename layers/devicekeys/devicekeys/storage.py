"""The storage seam: PynamoDB's connection and failures, in the domain's terms.

Everything that reaches below PynamoDB's public model API lives here: the one shared
connection the models use, and how a failed request is read (a condition that did not hold,
the per-item reasons of a cancelled transaction, throttling). Domain modules ask these
questions by name instead of parsing exceptions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError

from .errors import ServiceUnavailable

TRANSIENT_CODES = frozenset(
    {
        "InternalServerError",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ThrottlingException",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit for one TransactWriteItems


@contextmanager
def storage_errors() -> Iterator[None]:
    """Map throttling, transaction conflicts and unreachable endpoints to ``ServiceUnavailable``.

    Other PynamoDB errors (conditional-check failures above all) pass through unchanged for
    the caller to interpret with ``condition_failed`` or ``cancellation_codes``.
    """
    try:
        yield
    except PynamoDBException as exc:
        code = exc.cause_response_code
        if code in TRANSIENT_CODES or (code is None and exc.cause is not None):
            raise ServiceUnavailable("the device key store is busy; retry shortly") from exc
        raise


def condition_failed(exc: PynamoDBException) -> bool:
    """True when a single-item request failed because its condition did not hold."""
    return exc.cause_response_code == "ConditionalCheckFailedException"


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """Why each item of a cancelled transaction failed (None: that item was fine).

    PynamoDB sends a transaction's items in a fixed order, whatever order they were added
    in: condition checks, then deletes, then puts, then updates.
    """
    return [reason.code if reason else None for reason in exc.cancellation_reasons]


def cancelled_item(exc: TransactWriteError, index: int) -> dict[str, Any] | None:
    """The stored item a failed condition saw, when the request asked for it (``return_values="ALL_OLD"``)."""
    reasons = exc.cancellation_reasons
    reason = reasons[index] if index < len(reasons) else None
    return reason.raw_item if reason is not None else None


def share_connection(models: Sequence[Any]) -> Connection:
    """Make every model use the first model's connection: one botocore client in all.

    PynamoDB gives each model class its own botocore session and client. Building one loads
    and parses DynamoDB's service model and endpoint rules (~40-80 ms at a cold start) and, on
    AWS, opens its own HTTPS connection pool (one more TLS handshake). The models share region,
    endpoint and timeouts, so one client serves them all; the client is still built lazily.

    Returns:
        The shared connection, for requests the model API does not offer (transactions, a
        conditional delete that returns the deleted item).
    """
    first = models[0]._get_connection()
    for model in models[1:]:
        table = model._get_connection()
        if table.table_name != first.table_name:
            first.connection.add_meta_table(table.connection.get_meta_table(table.table_name))
        table.connection = first.connection
    connection: Connection = first.connection
    return connection
