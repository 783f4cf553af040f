"""Driving the browser SDK from Python: a page of the API's origin with ``/sdk/devicekeys.js`` loaded.

``call_sdk`` runs a snippet of JavaScript there and turns a ``DeviceKeysError`` into a Python
``SdkError`` with the same code, status and request id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..conftest import LocalApi

ALGORITHMS = ["ES256", "Ed25519"]

# Runs BODY as an async function with the SDK's exports, `args`, and `device(options)`: a
# DeviceKeys for this origin's API. A DeviceKeysError comes back as {"error": {...}}.
SDK_CALL = """async (args) => {
  const { DeviceKeys, DeviceKeysApi, DeviceKeysError, isAlgorithmSupported } = window.devicekeys;
  const device = (options = {}) => new DeviceKeys({ baseUrl: location.origin, ...options });
  try {
    return { value: await (async () => { BODY })() };
  } catch (error) {
    if (!(error instanceof DeviceKeysError)) throw error;
    const { name, code, message, status, requestId, retryable } = error;
    return { error: { name, code, message, status, request_id: requestId, retryable } };
  }
}"""


@dataclass
class SdkError(Exception):
    name: str
    code: str
    message: str
    status: int | None
    request_id: str | None
    retryable: bool


def call_sdk(page: Any, body: str, **args: Any) -> Any:
    """Run ``body`` in the page (see SDK_CALL); its result, or ``SdkError`` for a DeviceKeysError."""
    result = page.evaluate(SDK_CALL.replace("BODY", body), args)
    if "error" in result:
        raise SdkError(**result["error"])
    return result.get("value")


def open_sdk_page(page: Any, local_api: LocalApi) -> Any:
    page.goto(f"{local_api.url}/sdk/test/")
    page.wait_for_function("window.devicekeys !== undefined")
    return page


def reload_sdk_page(page: Any) -> None:
    page.reload()
    page.wait_for_function("window.devicekeys !== undefined")


def register(sdk: Any, local_api: LocalApi, user: str, **options: Any) -> dict[str, Any]:
    """Register the page's device (namespace and algorithm from ``options``) for ``user``, with the user's token."""
    return call_sdk(
        sdk,
        "return await device(args.options).register(args.user, { token: args.token });",
        user=user,
        token=local_api.token(user),
        options=options,
    )
