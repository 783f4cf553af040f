"""DynamoDB requests and capacity per operation, counted where every call goes out: botocore.

``BaseClient._make_api_call`` is wrapped for the length of one invocation, so whatever makes
the call (PynamoDB's model, its transaction, a future direct client) is counted. The counter
asks for ``ReturnConsumedCapacity=TOTAL``, but moto answers with a constant per operation
(1.0, or 0.5 for GetItem) whatever the item, so the capacity DynamoDB would bill is also
computed from the items' sizes by DynamoDB's published rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# docs/protocol.md section 12: the most requests an operation may make ("list": per page).
BUDGET = {
    "challenge": 1,
    "register": 3,
    "verify": 3,
    "get": 1,
    "list": 1,
    "update": 1,
    "block": 1,
    "unblock": 1,
    "delete": None,  # not budgeted; reported
}
_CAPACITY_OPS = {
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
_WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem"}


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
            "rcu": sum(r.read_units for r in self.requests),
            "wcu": sum(r.write_units for r in self.requests),
        }


# --- DynamoDB's size and capacity rules ---------------------------------------------------
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html


def attribute_size(value: Mapping[str, Any]) -> int:  # noqa: PLR0911 - one return per DynamoDB type
    """Bytes one attribute value counts for (its name is added by ``item_size``)."""
    (kind, raw), *_ = value.items()
    if kind in ("S",):
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
    return max(1, math.ceil(size / 1024)) * (2 if transactional else 1)


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    if transactional:
        return units * 2.0
    return float(units) if consistent else units / 2


# --- the counter --------------------------------------------------------------------------


class Counter:
    """Counts the DynamoDB requests made through botocore while ``record()`` is active.

    ``shadow`` is a separate plain client used to read items before and after each write,
    to size them; its own calls are not counted.
    """

    def __init__(self, shadow: Any) -> None:
        self.shadow = shadow
        self._recording: Recording | None = None

    @contextmanager
    def record(self) -> Iterator[Recording]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        counter = self
        recording = Recording()

        def counted(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            if client is counter.shadow or client.meta.service_model.service_name != "dynamodb":
                return original(client, operation_name, api_params)
            if operation_name in _CAPACITY_OPS:
                api_params = {"ReturnConsumedCapacity": "TOTAL", **api_params}
            before = counter._before(operation_name, api_params)
            response = original(client, operation_name, api_params)
            recording.requests.append(counter._account(operation_name, api_params, response, before))
            return response

        BaseClient._make_api_call = counted  # type: ignore[method-assign]
        try:
            yield recording
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]

    # Item sizes: writes are billed on the larger of the item before and after.
    def _get(self, table: str, key: Mapping[str, Any]) -> Mapping[str, Any] | None:
        item: Mapping[str, Any] | None = self.shadow.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return item

    def _targets(self, operation: str, params: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
        """(kind, table, key) of each item a write touches."""
        if operation in _WRITE_OPS:
            return [(operation, params["TableName"], self._key_of(operation, params))]
        if operation == "TransactWriteItems":
            targets = []
            for action in params["TransactItems"]:
                (kind, spec), *_ = action.items()
                targets.append((kind, spec["TableName"], self._key_of(kind, spec)))
            return targets
        return []

    def _key_of(self, kind: str, spec: Mapping[str, Any]) -> Mapping[str, Any]:
        if kind in ("PutItem", "Put"):
            schema = self.shadow.describe_table(TableName=spec["TableName"])["Table"]["KeySchema"]
            return {k["AttributeName"]: spec["Item"][k["AttributeName"]] for k in schema}
        return dict(spec["Key"])

    def _before(self, operation: str, params: Mapping[str, Any]) -> list[int]:
        return [item_size(self._get(table, key)) for _, table, key in self._targets(operation, params)]

    def _account(
        self, operation: str, params: Mapping[str, Any], response: Mapping[str, Any], before: list[int]
    ) -> Request:
        capacity = response.get("ConsumedCapacity")
        if isinstance(capacity, list):
            reported: float | None = sum(c.get("CapacityUnits", 0) for c in capacity) if capacity else None
        elif isinstance(capacity, dict):
            reported = capacity.get("CapacityUnits")
        else:
            reported = None
        table = params.get("TableName", "")
        request = Request(operation=operation, table=table, reported_capacity=reported)
        if operation == "GetItem":
            request.read_units = read_units(
                item_size(response.get("Item")), consistent=bool(params.get("ConsistentRead"))
            )
        elif operation == "Query":
            # Billed on every item read before the filter; for an unfiltered query, those returned.
            size = sum(item_size(item) for item in response.get("Items", []))
            request.read_units = read_units(size, consistent=bool(params.get("ConsistentRead")))
            request.detail = f", {response.get('Count', 0)} items"
        else:
            targets = self._targets(operation, params)
            transactional = operation == "TransactWriteItems"
            for (_kind, t_table, key), old in zip(targets, before, strict=True):
                new = item_size(self._get(t_table, key))
                request.write_units += write_units(max(old, new), transactional=transactional)
                if transactional:
                    table = table or t_table
            if transactional:
                request.detail = " [" + ", ".join(kind for kind, _, _ in targets) + "]"
                request.table = ",".join(sorted({t for _, t, _ in targets}))
        return request


def measure() -> dict[str, Any]:
    """Requests and capacity of one invocation of each operation, the floor's count beside it."""
    import contextlib
    import os
    import warnings

    from .common import dynamodb_client, lambda_environment, local_dynamodb

    with local_dynamodb() as endpoint:
        os.environ.update(lambda_environment(endpoint))
        from devicekeys_client import DeviceKeyPair

        from .scenario import OPERATIONS, Workbench
        from .warm import Floor

        warnings.simplefilter("ignore")
        counter = Counter(dynamodb_client(endpoint))
        results: dict[str, Any] = {}
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            bench = Workbench(prefix="requests")
            bench.setup()
            floor = Floor(dynamodb_client(endpoint), bench)
            for operation in OPERATIONS:
                prepared = bench.prepare(operation)
                with counter.record() as recording:
                    bench.run(prepared)
                floor_call = floor.prepare(operation)
                with counter.record() as floor_recording:
                    floor_call.run()
                budget = BUDGET[operation]
                results[operation] = {
                    **recording.totals(),
                    "budget": budget,
                    "within_budget": None if budget is None else recording.count <= budget,
                    "floor_requests": floor_recording.count,
                }
            # Pagination: 5 keys, 2 per page, following next_token until it is null.
            for _ in range(2):
                bench.register(bench.user, DeviceKeyPair.generate("ES256"))
            pages, token = 0, None
            with counter.record() as recording:
                while True:
                    query = {"limit": "2", **({"next_token": token} if token else {})}
                    body = bench.call(
                        "GET", f"/v1/users/{bench.user}/device-keys", expect=200, user=bench.user, query=query
                    )
                    pages += 1
                    token = body["next_token"]
                    if not token:
                        break
            results["list_paginated"] = {
                **recording.totals(),
                "pages": pages,
                "budget": pages,
                "within_budget": recording.count <= pages,
                "floor_requests": None,
            }
        results["_note"] = (
            "reported_capacity is moto's constant per operation (it does not size items, and reports "
            "nothing for transactions); rcu/wcu are computed from the items' sizes with DynamoDB's rules"
        )
    return results
