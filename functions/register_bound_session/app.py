"""POST /dbsc/register: a browser registers its new session key (DBSC), and gets the bound cookie.

Called by the browser itself, from the app's origin, after a response carried the
``Secure-Session-Registration`` header: the ``Secure-Session-Response`` JWT is the credential
(an open route). Answers the session instructions JSON and sets the bound cookie; any failure is a
4xx (no session) or a 5xx. Not for direct invocation.
"""

from typing import Any

import devicekeys.session_binding  # noqa: F401 - the JOSE stack at init: a browser holds its request meanwhile
from devicekeys.access import Caller
from devicekeys.dbsc_protocol import RESPONSE_HEADERS, header
from devicekeys.errors import InvalidRequest
from devicekeys.lambda_api import FunctionRuntime
from devicekeys.session_services import SessionServices

runtime = FunctionRuntime("register_bound_session")
app = runtime.app
services = SessionServices(runtime.settings)


@app.post("/dbsc/register")
def register_bound_session_route() -> Any:
    headers = runtime.app.current_event.headers
    grant = services.binding.register(
        header(headers, RESPONSE_HEADERS), origin=headers.get("origin"), user_agent=headers.get("user-agent")
    )
    response = runtime.ok(grant.instructions)
    response.headers.update(grant.response_headers())
    return response


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    raise InvalidRequest("browsers register bound sessions over HTTP; apps start them with start_bound_session")


lambda_handler = runtime.handler(direct=direct)
