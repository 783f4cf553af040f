"""PATCH /v1/users/{user_id}/device-keys/{key_id}: rename or enrich a device key.

Body: ``display_name`` and/or ``custom_data``; null clears a field, ``custom_data`` is replaced whole.
Direct input: ``{"user_id", "key_id", "display_name"?, "custom_data"?}``. Output: the record.
"""

from typing import Any

from devicekeys.access import Caller, authorize_owner
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("update_device_key")
app = runtime.app


def update_device_key(caller: Caller, user_id: Any, key_id: Any, changes: dict[str, Any]) -> dict[str, Any]:
    return runtime.device_keys.update(authorize_owner(caller, user_id), key_id, changes=changes, actor=caller).to_dict()


@app.patch("/v1/users/<user_id>/device-keys/<key_id>")
def update_device_key_route(user_id: str, key_id: str) -> Any:
    return runtime.ok(update_device_key(runtime.caller(), user_id, key_id, runtime.body("UpdateRequest")))


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    changes = runtime.direct_document(event, "UpdateRequest", "user_id", "key_id")
    return update_device_key(caller, event.get("user_id"), event.get("key_id"), changes)


lambda_handler = runtime.handler(direct=direct)
