"""POST /v1/users/{user_id}/device-keys: bind a new device key, proven by a signed register challenge.

Direct input: ``{"user_id", "proof", "display_name"?, "custom_data"?}``.
Output: the device key record.
"""

from typing import Any

from devicekeys.access import SYSTEM, Caller, authorize_owner
from devicekeys.binding import DeviceBinding
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("register_device_key")
app = runtime.app
binding = DeviceBinding(runtime.device_keys, runtime.challenges, runtime.settings)


def register_device_key(caller: Caller, user_id: Any, request: dict[str, Any]) -> dict[str, Any]:
    user = authorize_owner(caller, user_id)
    device_key = binding.register(
        user,
        request["proof"],
        display_name=request.get("display_name"),
        custom_data=request.get("custom_data"),
    )
    return device_key.to_dict()


@app.post("/v1/users/<user_id>/device-keys")
def register_device_key_route(user_id: str) -> Any:
    return runtime.created(register_device_key(runtime.caller(), user_id, runtime.body("RegisterRequest")))


def direct(event: dict[str, Any]) -> dict[str, Any]:
    request = runtime.direct_document(event, "RegisterRequest", "user_id")
    return register_device_key(SYSTEM, event.get("user_id"), request)


lambda_handler = runtime.handler(direct=direct)
