"""GET /v1/users/{user_id}/device-keys: one page of a user's device keys.

Query: ``status`` (active|blocked), ``limit`` (1..100, default 100), ``next_token``.
Direct input: ``{"user_id", "status"?, "limit"?, "next_token"?}``.
Output: ``{"device_keys": [records], "next_token": str | null, "count": <keys on this page>}``.
"""

from typing import Any

from devicekeys.access import Caller, authorize_owner
from devicekeys.inputs import query_document
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("list_device_keys")
app = runtime.app


def list_device_keys(caller: Caller, user_id: Any, query: dict[str, Any]) -> dict[str, Any]:
    page = runtime.device_keys.list_keys(
        authorize_owner(caller, user_id),
        status=query.get("status"),
        limit=query.get("limit"),
        next_token=query.get("next_token"),
    )
    return page.to_dict()


@app.get("/v1/users/<user_id>/device-keys")
def list_device_keys_route(user_id: str) -> Any:
    query = query_document(runtime.app.current_event.query_string_parameters)
    return runtime.ok(list_device_keys(runtime.caller(), user_id, query))


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    query = runtime.direct_document(event, "ListQuery", "user_id")
    return list_device_keys(caller, event.get("user_id"), query)


lambda_handler = runtime.handler(direct=direct)
