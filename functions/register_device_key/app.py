"""POST /v1/users/{user_id}/device-keys: bind a new device key, proven by a signed register challenge.

Direct input: ``{"user_id", "proof", "display_name"?, "custom_data"?, "replace_active"?}``.
Output: the device key record. With ``"replace_active": true`` (the single device policy) the
user's other active keys are removed in the same step, only once the proof has passed every
check, and the output is ``{"device_key": <record>, "key_id", "removed": <count>}``; blocked
keys are never removed.
"""

from typing import Any

from devicekeys.access import Caller, authorize_owner
from devicekeys.binding import DeviceBinding
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("register_device_key")
app = runtime.app
binding = DeviceBinding(runtime.device_keys, runtime.challenges, runtime.settings)


def register_device_key(caller: Caller, user_id: Any, request: dict[str, Any]) -> dict[str, Any]:
    user = authorize_owner(caller, user_id)
    proof, name, data = request["proof"], request.get("display_name"), request.get("custom_data")
    if request.get("replace_active"):
        device_key, removed = binding.register_replacing_active(
            user, proof, display_name=name, custom_data=data, actor=caller
        )
        return {"device_key": device_key.to_dict(), "key_id": device_key.key_id, "removed": removed}
    return binding.register(user, proof, display_name=name, custom_data=data, actor=caller).to_dict()


@app.post("/v1/users/<user_id>/device-keys")
def register_device_key_route(user_id: str) -> Any:
    return runtime.created(register_device_key(runtime.caller(), user_id, runtime.body("RegisterRequest")))


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    request = runtime.direct_document(event, "RegisterInvocation", "user_id")
    return register_device_key(caller, event.get("user_id"), request)


lambda_handler = runtime.handler(direct=direct)
