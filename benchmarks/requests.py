"""DynamoDB requests and request units per operation, recorded on the functions' own DynamoDB clients.

``benchmarks.capacity`` hooks each function's botocore client (and the floor's), so every
request a handler makes through it is counted with its consumed capacity: what the service
reported (``ReturnConsumedCapacity=TOTAL``) and what DynamoDB's rules compute from the items'
sizes (moto reports constants, so the computed figures are the ones the cost uses).
"""

from __future__ import annotations

from typing import Any

from .capacity import METHOD, CapacityRecorder, function_client

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
    "delete": 1,
    "rotate": 3,
}


def measure() -> dict[str, Any]:
    """Requests and capacity of one invocation of each operation, the floor's count beside it."""
    import contextlib
    import os
    import warnings

    from .common import dynamodb_client, lambda_environment, local_dynamodb

    with local_dynamodb() as endpoint:
        os.environ.update(lambda_environment(endpoint))
        from devicekeys_client import DeviceKeyPair

        from .scenario import FUNCTION_OF, OPERATIONS, Workbench
        from .warm import Floor

        warnings.simplefilter("ignore")
        recorder = CapacityRecorder(shadow=dynamodb_client(endpoint))
        results: dict[str, Any] = {}
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            bench = Workbench(prefix="requests")
            bench.setup()
            for logical_id in sorted(set(FUNCTION_OF.values())):
                recorder.attach(function_client(bench.functions.module(logical_id)))
            floor_client = dynamodb_client(endpoint)
            recorder.attach(floor_client)
            floor = Floor(floor_client, bench)
            for operation in OPERATIONS:
                prepared = bench.prepare(operation)
                with recorder.record() as recording:
                    bench.run(prepared)
                if recording.count == 0:
                    raise RuntimeError(f"{operation}: no DynamoDB request was recorded (is the client still hooked?)")
                floor_call = floor.prepare(operation)
                with recorder.record() as floor_recording:
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
            with recorder.record() as recording:
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
        results["_note"] = f"rru/wru: {METHOD}"
    return results
