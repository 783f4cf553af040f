"""POST /v1/users/{user_id}/device-keys/verify: is this a known device of the user?

An open route: the proof, a JWS over a verify challenge signed by the device key named in its
``kid``, is the credential.

HTTP: 200 ``{"known": true, "key_id", "status", "device_key"}``, or the documented error.
Direct input: ``{"user_id", "proof", "sign_out_others"?}``. Direct output is branchable by a
Choice state: ``{"known": true, "key_id", "status", "device_key"}`` (with ``"removed": <count>``
when ``sign_out_others`` removed the user's other active keys, once this proof verified) or
``{"known": false, "reason": <error code>, "message", "key_id": null}``.
"""

from typing import Any

from devicekeys.access import Caller, resolve_user
from devicekeys.binding import DeviceBinding
from devicekeys.errors import VERIFY_FAILURES
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("verify_device_key")
app = runtime.app
binding = DeviceBinding(runtime.device_keys, runtime.challenges, runtime.settings)


def verify_device_key(caller: Caller, user_id: Any, request: dict[str, Any]) -> dict[str, Any]:
    user = resolve_user(caller, user_id)
    removed = None
    if request.get("sign_out_others"):
        device_key, removed = binding.verify_and_sign_out_others(user, request["proof"], actor=caller)
    else:
        device_key = binding.verify(user, request["proof"])
    result = {
        "known": True,
        "key_id": device_key.key_id,
        "status": device_key.status,
        "device_key": device_key.to_dict(),
    }
    return result if removed is None else {**result, "removed": removed}


@app.post("/v1/users/<user_id>/device-keys/verify")
def verify_device_key_route(user_id: str) -> Any:
    return runtime.ok(verify_device_key(runtime.caller(), user_id, runtime.body("VerifyRequest")))


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    request = runtime.direct_document(event, "VerifyInvocation", "user_id")
    try:
        return verify_device_key(caller, event.get("user_id"), request)
    except VERIFY_FAILURES as exc:
        runtime.logger.info("device not recognised", extra={"reason": exc.code})
        return {"known": False, "reason": exc.code, "message": exc.message, "key_id": None}


lambda_handler = runtime.handler(direct=direct)
