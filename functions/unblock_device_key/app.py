"""POST /v1/users/{user_id}/device-keys/{key_id}/unblock: admins let a blocked device verify again.

Direct input: ``{"user_id", "key_id"}``. Output: the record.
"""

from typing import Any

from devicekeys.access import SYSTEM, Caller, authorize_admin
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("unblock_device_key")
app = runtime.app


def unblock_device_key(caller: Caller, user_id: Any, key_id: Any) -> dict[str, Any]:
    return runtime.device_keys.unblock(authorize_admin(caller, user_id), key_id).to_dict()


@app.post("/v1/users/<user_id>/device-keys/<key_id>/unblock")
def unblock_device_key_route(user_id: str, key_id: str) -> Any:
    return runtime.ok(unblock_device_key(runtime.caller(), user_id, key_id))


def direct(event: dict[str, Any]) -> dict[str, Any]:
    return unblock_device_key(SYSTEM, event.get("user_id"), event.get("key_id"))


lambda_handler = runtime.handler(direct=direct)
