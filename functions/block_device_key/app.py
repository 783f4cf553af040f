"""POST /v1/users/{user_id}/device-keys/{key_id}/block: admins block a device; it stays listed.

Body (optional): ``{"reason": "..."}``.
Direct input: ``{"user_id", "key_id", "reason"?}`` (a direct invocation may block: it restricts).
Output: the record.
"""

from typing import Any

from devicekeys.access import Caller, authorize_block
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("block_device_key")
app = runtime.app


def block_device_key(caller: Caller, user_id: Any, key_id: Any, request: dict[str, Any]) -> dict[str, Any]:
    user = authorize_block(caller, user_id)
    return runtime.device_keys.block(user, key_id, reason=request.get("reason"), actor=caller).to_dict()


@app.post("/v1/users/<user_id>/device-keys/<key_id>/block")
def block_device_key_route(user_id: str, key_id: str) -> Any:
    return runtime.ok(block_device_key(runtime.caller(), user_id, key_id, runtime.body("BlockRequest")))


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    request = runtime.direct_document(event, "BlockRequest", "user_id", "key_id")
    return block_device_key(caller, event.get("user_id"), event.get("key_id"), request)


lambda_handler = runtime.handler(direct=direct)
