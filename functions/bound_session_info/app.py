"""GET /dbsc/session: whose bound session this request carries, as the Lambda authorizer vouched for it.

The example of a route protected by the bound-session authorizer (``DbscAuthorizer``): the
function reads the authorizer's context (``user_id``, ``session_id``, ``credential_expires_at``),
never the cookie. Answers ``{"user_id", "session_id", "credential_expires_at"}``. Not for direct invocation.
"""

from typing import Any

from devicekeys.access import Caller
from devicekeys.errors import InvalidRequest
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("bound_session_info")
app = runtime.app


@app.get("/dbsc/session")
def bound_session_info_route() -> Any:
    authorizer = runtime.app.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}
    context = authorizer.get("lambda") or {}
    return runtime.ok(
        {
            "user_id": context.get("user_id"),
            "session_id": context.get("session_id"),
            "credential_expires_at": context.get("credential_expires_at"),
        }
    )


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    raise InvalidRequest("GET /dbsc/session is an HTTP route behind the bound-session authorizer")


lambda_handler = runtime.handler(direct=direct)
