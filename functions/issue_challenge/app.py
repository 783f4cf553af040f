"""POST /v1/users/{user_id}/device-keys/challenges: a one-time challenge for a device to sign.

An open route for both purposes: a login from a registered device starts here, before the
user has a token. A register challenge is bound to the user and is useless without the
authenticated registration that consumes it. ``me`` needs a token, so open callers name the user.

Direct input: ``{"user_id": "...", "purpose": "register" | "verify" | "rotate"}``.
Output: ``{"challenge", "purpose", "expires_at", "expires_in"}``.
"""

from typing import Any

from devicekeys.access import Caller, resolve_user
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("issue_challenge")
app = runtime.app


def issue_challenge(caller: Caller, user_id: Any, request: dict[str, Any]) -> dict[str, Any]:
    return runtime.challenges.issue(resolve_user(caller, user_id), purpose=request["purpose"]).to_dict()


@app.post("/v1/users/<user_id>/device-keys/challenges")
def issue_challenge_route(user_id: str) -> Any:
    return runtime.created(issue_challenge(runtime.caller(), user_id, runtime.body("IssueChallengeRequest")))


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    request = runtime.direct_document(event, "IssueChallengeRequest", "user_id")
    return issue_challenge(caller, event.get("user_id"), request)


lambda_handler = runtime.handler(direct=direct)
