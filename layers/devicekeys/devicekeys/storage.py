"""Turn storage failures into domain errors, so callers see a retryable 503, never a stack trace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.exceptions import PynamoDBException

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


@contextmanager
def storage_errors() -> Iterator[None]:
    """Map throttling, transaction conflicts and unreachable endpoints to ``ServiceUnavailable``.

    Other PynamoDB errors (conditional-check failures above all) pass through unchanged for
    the caller to interpret.
    """
    try:
        yield
    except PynamoDBException as exc:
        code = exc.cause_response_code
        if code in TRANSIENT_CODES or (code is None and exc.cause is not None):
            raise ServiceUnavailable("the device key store is busy; retry shortly") from exc
        raise
