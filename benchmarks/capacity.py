"""DynamoDB requests and the read/write request units they consume, captured on the functions' own clients.

How it is captured: botocore event hooks on the DynamoDB client a function uses (the one its
PynamoDB models share, ``devicekeys.storage.share_connection``), so nothing of botocore or of
the layer is patched:

- ``provide-client-params.dynamodb``: every data-plane request asks for
  ``ReturnConsumedCapacity=TOTAL`` (PynamoDB already does; a direct call might not), and the
  items a write touches are sized before it runs;
- ``after-call.dynamodb``: the response's ``ConsumedCapacity`` is recorded as the service
  reported it, and the written items are sized again.

What DynamoDB would bill is then computed from those sizes with its documented rules
(``read_units`` / ``write_units`` below), because moto does not size items: it reports 1.0 for
PutItem, DeleteItem and Query, 0.5 for GetItem and UpdateItem whatever the item and the read
consistency, and nothing for TransactWriteItems (checked with moto 5.2; see ``_NOTE``). Against
real DynamoDB the reported figure is DynamoDB's own; the benchmark keeps both side by side.

Rules (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
and the on-demand pricing page): a strongly consistent read is 1 RRU per 4 KB of item (a Query:
of all the items it read, summed, then rounded up), an eventually consistent one half that, a
transactional read twice; a write is 1 WRU per 1 KB of the larger of the item before and after,
twice that in a transaction. A request that touches nothing still costs the minimum (1 RRU or
0.5 RRU, 1 WRU).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

CAPACITY_OPS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
WRITE_OPS = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
METHOD = (
    "computed from the items' sizes by DynamoDB's rules; ReturnConsumedCapacity=TOTAL is asked on every "
    "request and the service's answer kept as 'reported' (moto's: a constant per operation, none for "
    "transactions)"
)


# --- DynamoDB's size and capacity rules ---------------------------------------------------
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html


def attribute_size(value: Mapping[str, Any]) -> int:  # noqa: PLR0911 - one return per DynamoDB type
    """Bytes one attribute value counts for (its name is added by ``item_size``)."""
    (kind, raw), *_ = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        digits = raw.lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: v}) for v in raw)
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in raw.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Mapping[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(size: int, *, transactional: bool = False) -> float:
    """WRU of writing one item of ``size`` bytes (the larger of before and after)."""
    return float(max(1, math.ceil(size / 1024)) * (2 if transactional else 1))


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """RRU of reading ``size`` bytes (one item, or the sum of a Query's items)."""
    units = max(1, math.ceil(size / 4096))
    if transactional:
        return units * 2.0
    return float(units) if consistent else units / 2


def reported_units(capacity: object) -> float | None:
    """The capacity units a response's ``ConsumedCapacity`` reports, summed over tables; None without."""
    if isinstance(capacity, dict):
        capacity = [capacity]
    if not isinstance(capacity, list) or not capacity:
        return None
    return float(sum(entry.get("CapacityUnits", 0) for entry in capacity if isinstance(entry, dict)))


# --- one request, one recording ---------------------------------------------------------------


@dataclass
class Request:
    operation: str
    table: str
    reported_capacity: float | None
    read_units: float = 0.0
    write_units: float = 0.0
    detail: str = ""


@dataclass
class Recording:
    requests: list[Request] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.requests)

    def totals(self) -> dict[str, Any]:
        reported = [r.reported_capacity for r in self.requests]
        return {
            "requests": self.count,
            "calls": [f"{r.operation}({r.table}{r.detail})" for r in self.requests],
            "reported_capacity": None if any(c is None for c in reported) else sum(c or 0 for c in reported),
            "rru": sum(r.read_units for r in self.requests),
            "wru": sum(r.write_units for r in self.requests),
        }


class CapacityRecorder:
    """Records the DynamoDB requests of the clients it is attached to, while ``record()`` is active.

    ``shadow`` is a plain client of the same endpoint, never attached, that reads the items a
    write touches (before and after it) to size them.
    """

    def __init__(self, shadow: Any) -> None:
        self.shadow = shadow
        self._recording: Recording | None = None
        self._attached: list[int] = []
        self._schemas: dict[str, list[str]] = {}

    def attach(self, client: Any) -> None:
        """Hook a botocore DynamoDB client (once)."""
        if id(client) in self._attached:
            return
        if client is self.shadow:
            raise ValueError("the shadow client sizes items; it is never recorded")
        client.meta.events.register("provide-client-params.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)
        self._attached.append(id(client))

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("provide-client-params.dynamodb", self._before)
        client.meta.events.unregister("after-call.dynamodb", self._after)
        if id(client) in self._attached:
            self._attached.remove(id(client))

    @contextmanager
    def record(self) -> Iterator[Recording]:
        recording = Recording()
        self._recording = recording
        try:
            yield recording
        finally:
            self._recording = None

    # --- the hooks ------------------------------------------------------------------------

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if self._recording is None or model.name not in CAPACITY_OPS:
            return
        params.setdefault("ReturnConsumedCapacity", "TOTAL")
        context["benchmarks.capacity"] = (dict(params), self._sizes(model.name, params))

    def _after(self, parsed: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if self._recording is None:
            return
        params, before = context.get("benchmarks.capacity", ({}, []))
        self._recording.requests.append(self._account(model.name, params, parsed, before))

    # --- sizing ---------------------------------------------------------------------------

    def _get(self, table: str, key: Mapping[str, Any]) -> Mapping[str, Any] | None:
        with _not_the_function():
            response = self.shadow.get_item(TableName=table, Key=key, ConsistentRead=True)
        item: Mapping[str, Any] | None = response.get("Item")
        return item

    def _key_names(self, table: str) -> list[str]:
        if table not in self._schemas:
            with _not_the_function():
                schema = self.shadow.describe_table(TableName=table)["Table"]["KeySchema"]
            self._schemas[table] = [k["AttributeName"] for k in schema]
        return self._schemas[table]

    def _targets(self, operation: str, params: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
        """(kind, table, key) of each item a write touches."""
        if operation in WRITE_OPS:
            return [(operation, params["TableName"], self._key_of(operation, params))]
        if operation == "TransactWriteItems":
            targets = []
            for action in params["TransactItems"]:  # a ConditionCheck is billed as a write of its item too
                (kind, spec), *_ = action.items()
                targets.append((kind, spec["TableName"], self._key_of(kind, spec)))
            return targets
        return []

    def _key_of(self, kind: str, spec: Mapping[str, Any]) -> Mapping[str, Any]:
        if kind in ("PutItem", "Put"):
            return {name: spec["Item"][name] for name in self._key_names(spec["TableName"])}
        return dict(spec["Key"])

    def _sizes(self, operation: str, params: Mapping[str, Any]) -> list[int]:
        return [item_size(self._get(table, key)) for _, table, key in self._targets(operation, params)]

    def _account(
        self, operation: str, params: Mapping[str, Any], response: Mapping[str, Any], before: list[int]
    ) -> Request:
        table = str(params.get("TableName", ""))
        request = Request(operation, table, reported_units(response.get("ConsumedCapacity")))
        if operation == "GetItem":
            request.read_units = read_units(
                item_size(response.get("Item")), consistent=bool(params.get("ConsistentRead"))
            )
        elif operation in ("Query", "Scan"):
            # Billed on every item read before a filter; for an unfiltered query, those returned.
            size = sum(item_size(item) for item in response.get("Items", []))
            request.read_units = read_units(size, consistent=bool(params.get("ConsistentRead")))
            request.detail = f", {response.get('Count', 0)} items"
        elif operation in WRITE_OPS or operation == "TransactWriteItems":
            targets = self._targets(operation, params)
            transactional = operation == "TransactWriteItems"
            for (_kind, t_table, key), old in zip(targets, before, strict=True):
                new = item_size(self._get(t_table, key))
                request.write_units += write_units(max(old, new), transactional=transactional)
            if transactional:
                request.detail = " [" + ", ".join(kind for kind, _, _ in targets) + "]"
                request.table = ",".join(sorted({t for _, t, _ in targets}))
        return request


@contextmanager
def _not_the_function() -> Iterator[None]:
    """The shadow's reads run inside a function's request: say they are not the function's.

    ``devicekeys_local`` attributes AWS calls to the function running (the IAM policy check
    of the tests); a sizing read is the benchmark's, and the function's role may not grant it.
    """
    try:
        from devicekeys_local.functions import RUNNING_FUNCTION
    except ImportError:  # pragma: no cover - the local tools are always on the benchmark's path
        yield
        return
    token = RUNNING_FUNCTION.set(None)
    try:
        yield
    finally:
        RUNNING_FUNCTION.reset(token)


def function_client(module: Any) -> Any:
    """The DynamoDB client a function's models share (built now if it was not yet).

    The function module's ``runtime`` (``devicekeys.lambda_api.FunctionRuntime``) builds its
    models on first use; their one PynamoDB connection holds the botocore client.
    """
    runtime = module.runtime
    return runtime._models.connection.client  # the benchmark looks inside what it measures
