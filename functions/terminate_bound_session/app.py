"""End a bound session: its credential stops working at the authorizer and its next refresh fails.

- POST /v1/users/{user_id}/bound-sessions/{session_id}/terminate ``{"reason"?}``: the user (signing
  out one of their browsers), an admin (blocking it), or the system. Answers the record.
- POST /dbsc/logout: the browser's own sign-out, from the app's origin: the bound cookie names the
  session (its signature is checked; an expired one still names it). Answers the record and
  clears the cookie; without a credential of this service, 404 ``session_not_found``.

Direct input: ``{"user_id", "session_id", "reason"?, "actor"?}``. Output: the record.
"""

from typing import Any

from devicekeys.access import USER, Caller, authorize_owner
from devicekeys.bound_credentials import InvalidCredential
from devicekeys.bound_sessions import NOT_FOUND
from devicekeys.dbsc_protocol import cleared_cookie, cookie_value
from devicekeys.errors import SessionNotFound
from devicekeys.lambda_api import FunctionRuntime
from devicekeys.session_services import SessionServices

runtime = FunctionRuntime("terminate_bound_session")
app = runtime.app
services = SessionServices(runtime.settings)


def terminate_bound_session(caller: Caller, user_id: Any, session_id: Any, request: dict[str, Any]) -> dict[str, Any]:
    user = authorize_owner(caller, user_id)
    return services.store.terminate(user, session_id, actor=caller, reason=request.get("reason")).to_dict()


@app.post("/v1/users/<user_id>/bound-sessions/<session_id>/terminate")
def terminate_bound_session_route(user_id: str, session_id: str) -> Any:
    request = runtime.body("TerminateSessionRequest")
    return runtime.ok(terminate_bound_session(runtime.caller(), user_id, session_id, request))


@app.post("/dbsc/logout")
def logout_route() -> Any:
    cookie_name = services.session_settings.cookie_name
    try:
        credential = services.verifier.verify(
            cookie_value(runtime.app.current_event.cookies, cookie_name), allow_expired=True
        )
    except InvalidCredential as exc:
        raise SessionNotFound(NOT_FOUND) from exc
    owner = Caller(USER, credential.user_id)
    session = services.store.terminate(credential.user_id, credential.session_id, actor=owner, reason="signed out")
    response = runtime.ok(session.to_dict())
    response.headers["Set-Cookie"] = cleared_cookie(cookie_name)
    response.headers["Cache-Control"] = "no-store"
    return response


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    request = runtime.direct_document(event, "TerminateSessionRequest", "user_id", "session_id")
    return terminate_bound_session(caller, event.get("user_id"), event.get("session_id"), request)


lambda_handler = runtime.handler(direct=direct)
