"""POST /v1/users/{user_id}/device-keys/{key_id}/unblock: admins let a blocked device verify again.

Only an administrator may: a token with the admin scope, or a direct invocation whose
``actor`` is ``{"kind": "admin", "subject": ...}``.
Direct input: ``{"user_id", "key_id", "actor"}``. Output: the record.
"""

from typing import Any

from devicekeys.access import Caller, authorize_admin
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("unblock_device_key")
app = runtime.app


def unblock_device_key(caller: Caller, user_id: Any, key_id: Any) -> dict[str, Any]:
    return runtime.device_keys.unblock(authorize_admin(caller, user_id), key_id, actor=caller).to_dict()


@app.post("/v1/users/<user_id>/device-keys/<key_id>/unblock")
def unblock_device_key_route(user_id: str, key_id: str) -> Any:
    return runtime.ok(unblock_device_key(runtime.caller(), user_id, key_id))


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    return unblock_device_key(caller, event.get("user_id"), event.get("key_id"))


lambda_handler = runtime.handler(direct=direct)
