"""GET /v1/users/{user_id}/bound-sessions: one page of a user's bound sessions (active and ended).

Query: ``limit`` (1..100, default 100), ``next_token``. For the user, an admin, or the system.
Direct input: ``{"user_id", "limit"?, "next_token"?}``.
Output: ``{"sessions": [records], "next_token": str | null, "count": <sessions on this page>}``.
"""

from typing import Any

from devicekeys.access import Caller, authorize_owner
from devicekeys.inputs import query_document
from devicekeys.lambda_api import FunctionRuntime
from devicekeys.session_services import SessionServices

runtime = FunctionRuntime("list_bound_sessions")
app = runtime.app
services = SessionServices(runtime.settings)


def list_bound_sessions(caller: Caller, user_id: Any, query: dict[str, Any]) -> dict[str, Any]:
    user = authorize_owner(caller, user_id)
    return services.store.list_sessions(user, limit=query.get("limit"), next_token=query.get("next_token")).to_dict()


@app.get("/v1/users/<user_id>/bound-sessions")
def list_bound_sessions_route(user_id: str) -> Any:
    query = query_document(runtime.app.current_event.query_string_parameters, "SessionListQuery")
    return runtime.ok(list_bound_sessions(runtime.caller(), user_id, query))


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    query = runtime.direct_document(event, "SessionListQuery", "user_id")
    return list_bound_sessions(caller, event.get("user_id"), query)


lambda_handler = runtime.handler(direct=direct)
