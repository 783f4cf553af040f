"""GET /v1/users/{user_id}/device-keys/{key_id}: read one device key record.

Direct input: ``{"user_id", "key_id"}``. Output: the device key record.
"""

from typing import Any

from devicekeys.access import Caller, authorize_owner
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("get_device_key")
app = runtime.app


def get_device_key(caller: Caller, user_id: Any, key_id: Any) -> dict[str, Any]:
    return runtime.device_keys.get(authorize_owner(caller, user_id), key_id).to_dict()


@app.get("/v1/users/<user_id>/device-keys/<key_id>")
def get_device_key_route(user_id: str, key_id: str) -> Any:
    return runtime.ok(get_device_key(runtime.caller(), user_id, key_id))


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    return get_device_key(caller, event.get("user_id"), event.get("key_id"))


lambda_handler = runtime.handler(direct=direct)
