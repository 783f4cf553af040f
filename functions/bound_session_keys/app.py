"""GET /dbsc/jwks.json: the public key bound credentials are signed with (a JWKS, from KMS).

For anything that checks a bound cookie itself instead of through the Lambda authorizer: ES256,
``kid`` as in the credential's header. An open route; cacheable for an hour. Not for direct invocation.
"""

from typing import Any

from devicekeys.access import Caller
from devicekeys.errors import InvalidRequest
from devicekeys.lambda_api import FunctionRuntime
from devicekeys.session_services import SessionServices

runtime = FunctionRuntime("bound_session_keys")
app = runtime.app
services = SessionServices(runtime.settings)


@app.get("/dbsc/jwks.json")
def bound_session_keys_route() -> Any:
    response = runtime.ok(services.signing_key.jwks())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    raise InvalidRequest("the keys are read over HTTP: GET /dbsc/jwks.json")


lambda_handler = runtime.handler(direct=direct)
