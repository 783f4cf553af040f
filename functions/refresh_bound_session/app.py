"""POST /dbsc/refresh: a browser renews its bound cookie by signing a challenge with its session key (DBSC).

Leg 1, ``Sec-Secure-Session-Id`` alone: 403 ``challenge_required`` with ``Secure-Session-Challenge``.
Leg 2, with the signed ``Secure-Session-Response``: 200, the session instructions and a fresh
cookie. An ended session, or a response not signed by the session's key, is a 4xx: the browser
ends the session. A 5xx (``Retry-After``) keeps it. Not for direct invocation.
"""

from typing import Any

import devicekeys.session_binding  # noqa: F401 - the JOSE stack at init: a browser holds its request meanwhile
from devicekeys.access import Caller
from devicekeys.dbsc_protocol import RESPONSE_HEADERS, SESSION_ID_HEADERS, header
from devicekeys.errors import InvalidRequest
from devicekeys.lambda_api import FunctionRuntime
from devicekeys.session_services import SessionServices

runtime = FunctionRuntime("refresh_bound_session")
app = runtime.app
services = SessionServices(runtime.settings)


@app.post("/dbsc/refresh")
def refresh_bound_session_route() -> Any:
    headers = runtime.app.current_event.headers
    session_id, signed = header(headers, SESSION_ID_HEADERS), header(headers, RESPONSE_HEADERS)
    if signed is None:
        raise services.binding.challenge(session_id)
    grant = services.binding.refresh(session_id, signed, origin=headers.get("origin"))
    response = runtime.ok(grant.instructions)
    response.headers.update(grant.response_headers())
    return response


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    raise InvalidRequest("browsers refresh bound sessions over HTTP")


lambda_handler = runtime.handler(direct=direct)
