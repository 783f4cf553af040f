"""POST /v1/users/{user_id}/bound-sessions/registrations: the registration header for a signed-in user.

The app calls it right after its own sign-in, with the user's access token (or by direct
invocation, as the system), and adds ``header_name: header_value`` to the response that sign-in
answers. The answer carries the header itself too, so a browser calling it from the app's own
origin starts registering at once. Only for the user themself: nobody starts a session for another.
Direct input: ``{"user_id"}``. Output: ``{"header_name", "header_value", "challenge", "expires_at", "expires_in"}``.
"""

from typing import Any

from devicekeys.access import Caller, authorize_self
from devicekeys.lambda_api import FunctionRuntime
from devicekeys.session_services import SessionServices

runtime = FunctionRuntime("start_bound_session")
app = runtime.app
services = SessionServices(runtime.settings)


def start_bound_session(caller: Caller, user_id: Any) -> dict[str, Any]:
    return services.registrations.issue(authorize_self(caller, user_id)).to_dict()


@app.post("/v1/users/<user_id>/bound-sessions/registrations")
def start_bound_session_route(user_id: str) -> Any:
    runtime.body("StartSessionRequest")
    registration = start_bound_session(runtime.caller(), user_id)
    response = runtime.created(registration)
    response.headers[registration["header_name"]] = registration["header_value"]
    response.headers["Cache-Control"] = "no-store"
    return response


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    runtime.direct_document(event, "StartSessionRequest", "user_id")
    return start_bound_session(caller, event.get("user_id"))


lambda_handler = runtime.handler(direct=direct)
