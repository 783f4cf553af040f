"""The bound-session Lambda authorizer: an HTTP API REQUEST authorizer (payload 2.0, simple responses).

Attach it to any route of an HTTP API (this stack's, or the app's own, by this function's ARN)
with the ``Cookie`` header as identity source. It answers ``{"isAuthorized": true, "context":
{"user_id", "session_id", "credential_expires_at"}}`` only for a request whose bound cookie holds
a credential this service signed (ES256, by its KMS key), unexpired, for a session that is still
active (one eventually consistent GetItem); anything else is ``{"isAuthorized": false}``
(API Gateway answers 403). KMS or DynamoDB unavailable raises: API Gateway answers 500, and the
browser keeps its session. Not an HTTP route.
"""

from typing import Any

from devicekeys.bound_credentials import InvalidCredential
from devicekeys.dbsc_protocol import cookie_value
from devicekeys.lambda_api import FunctionRuntime
from devicekeys.session_services import SessionServices

runtime = FunctionRuntime("authorize_bound_session")
services = SessionServices(runtime.settings)
DENY: dict[str, Any] = {"isAuthorized": False}


def authorize(cookies: object) -> dict[str, Any]:
    """The simple response for a request carrying ``cookies`` (payload 2.0: ``name=value`` items)."""
    items = [item for item in cookies if isinstance(item, str)] if isinstance(cookies, list) else []
    token = cookie_value(items, services.session_settings.cookie_name)
    try:
        credential = services.verifier.verify(token)
    except InvalidCredential as exc:
        runtime.logger.info("bound credential refused", extra={"reason": str(exc)})
        return DENY
    if not services.store.is_active(credential.user_id, credential.session_id):
        runtime.logger.info("bound session not active", extra={"session_id": credential.session_id[-22:]})
        return DENY
    return {
        "isAuthorized": True,
        "context": {
            "user_id": credential.user_id,
            "session_id": credential.session_id,
            "credential_expires_at": credential.expires_at,
        },
    }


@runtime.logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    runtime.logger.append_keys(operation=runtime.operation)
    return authorize(event.get("cookies") if isinstance(event, dict) else None)
