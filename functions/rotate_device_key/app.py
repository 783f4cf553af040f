"""POST /v1/users/{user_id}/device-keys/rotate: a device replaces its key and keeps its record.

Body: ``{"proof", "new_key_proof"}``: a JWS by the current key (``kid``) and one by the new key
(``jwk``), both over the same ``rotate`` challenge. The record keeps its name, custom data and
creation time; the old key stops working at the instant the new one starts. A blocked key
cannot rotate.
Direct input: ``{"user_id", "proof", "new_key_proof"}``. Output: the record under its new key.
"""

from typing import Any

from devicekeys.access import Caller, authorize_owner
from devicekeys.binding import DeviceBinding
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("rotate_device_key")
app = runtime.app
binding = DeviceBinding(runtime.device_keys, runtime.challenges, runtime.settings)


def rotate_device_key(caller: Caller, user_id: Any, request: dict[str, Any]) -> dict[str, Any]:
    user = authorize_owner(caller, user_id)
    return binding.rotate(user, request["proof"], request["new_key_proof"], actor=caller).to_dict()


@app.post("/v1/users/<user_id>/device-keys/rotate")
def rotate_device_key_route(user_id: str) -> Any:
    return runtime.ok(rotate_device_key(runtime.caller(), user_id, runtime.body("RotateRequest")))


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    request = runtime.direct_document(event, "RotateRequest", "user_id")
    return rotate_device_key(caller, event.get("user_id"), request)


lambda_handler = runtime.handler(direct=direct)
