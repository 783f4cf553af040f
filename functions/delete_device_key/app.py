"""DELETE /v1/users/{user_id}/device-keys/{key_id}: forget a device; it appears as new next time.

A blocked key is removed by an administrator only (403 ``device_blocked`` for anyone else):
otherwise its owner could delete it and register it again, undoing the block.
Direct input: ``{"user_id", "key_id", "actor"?}``. Output: ``{"deleted": true, "key_id"}`` (HTTP: 204).
"""

from typing import Any

from devicekeys.access import Caller, authorize_owner
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("delete_device_key")
app = runtime.app


def delete_device_key(caller: Caller, user_id: Any, key_id: Any) -> dict[str, Any]:
    runtime.device_keys.delete(authorize_owner(caller, user_id), key_id, actor=caller)
    return {"deleted": True, "key_id": key_id}


@app.delete("/v1/users/<user_id>/device-keys/<key_id>")
def delete_device_key_route(user_id: str, key_id: str) -> Any:
    delete_device_key(runtime.caller(), user_id, key_id)
    return runtime.no_content()


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    return delete_device_key(caller, event.get("user_id"), event.get("key_id"))


lambda_handler = runtime.handler(direct=direct)
