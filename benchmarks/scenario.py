"""The ten operations as a client drives them: prepared API Gateway events, ready to invoke.

Preparing an operation (issuing its challenge, signing its proof, registering the key it acts
on) is never timed; only the handler call is. Events are built by ``devicekeys_local.events``,
so each is exactly what API Gateway's HTTP API (payload 2.0) sends.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from .common import use_project_paths

use_project_paths()

from devicekeys_client import DeviceKeyPair  # noqa: E402 - importable once the project paths are set
from devicekeys_local.events import LambdaContext, caller_claims  # noqa: E402
from devicekeys_local.functions import LocalFunctions  # noqa: E402

OPERATIONS = ("challenge", "register", "verify", "get", "list", "update", "block", "unblock", "delete", "rotate")
FUNCTION_OF = {
    "challenge": "IssueChallengeFunction",
    "register": "RegisterDeviceKeyFunction",
    "verify": "VerifyDeviceKeyFunction",
    "get": "GetDeviceKeyFunction",
    "list": "ListDeviceKeysFunction",
    "update": "UpdateDeviceKeyFunction",
    "block": "BlockDeviceKeyFunction",
    "unblock": "UnblockDeviceKeyFunction",
    "delete": "DeleteDeviceKeyFunction",
    "rotate": "RotateDeviceKeyFunction",
}
# functions/<dir>/app.py of each operation, for the cold-start children.
FUNCTION_DIR_OF = {
    "challenge": "issue_challenge",
    "register": "register_device_key",
    "verify": "verify_device_key",
    "get": "get_device_key",
    "list": "list_device_keys",
    "update": "update_device_key",
    "block": "block_device_key",
    "unblock": "unblock_device_key",
    "delete": "delete_device_key",
    "rotate": "rotate_device_key",
}
LIST_KEYS = 3  # keys of the user whose list is measured: a typical handful


@dataclass
class Prepared:
    """One ready invocation: which function, its event, and the status a success returns."""

    operation: str
    function: str
    event: dict[str, Any]
    expect: int
    device: DeviceKeyPair | None = None


class Workbench:
    """Drives the functions in this process (a warm container per function) for setup and timing."""

    def __init__(self, functions: LocalFunctions | None = None, *, prefix: str = "bench") -> None:
        self.functions = functions or LocalFunctions()
        self.prefix = prefix
        self._serial = itertools.count()
        self.user = f"{prefix}-user"
        self.admin_user = f"{prefix}-admin-target"
        self.rotating_user = f"{prefix}-rotating"
        self.device = DeviceKeyPair.generate("ES256")
        self.admin_device = DeviceKeyPair.generate("ES256")
        self.rotating_device = DeviceKeyPair.generate("ES256")  # replaced by each successful rotation
        self.registered: deque[tuple[str, str]] = deque()  # (user, key_id) for delete to consume
        self.key_id = ""
        self.admin_key_id = ""

    # --- events and calls ---------------------------------------------------------------

    def event(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str | None = None,
        admin: bool = False,
        query: dict[str, str] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        match = self.functions.match(method, path)
        if match is None:
            raise LookupError(f"no route for {method} {path}")
        event = self.functions.http_event_for(
            match,
            raw_path=path,
            query=query,
            headers={"content-type": "application/json"},
            body=None if body is None else json.dumps(body).encode(),
            claims=None if user is None else caller_claims(user, admin=admin),
        )
        return match.function.logical_id, event

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        handler = self.functions.handler(function)
        return handler(event, LambdaContext(function_name=function))  # type: ignore[no-any-return]

    def call(self, method: str, path: str, body: Any = None, *, expect: int, **auth: Any) -> Any:
        function, event = self.event(method, path, body, **auth)
        response = self.invoke(function, event)
        if response["statusCode"] != expect:
            raise RuntimeError(f"{method} {path}: {response['statusCode']} {response.get('body')}")
        return json.loads(response["body"]) if response.get("body") else None

    # --- protocol steps (setup, never timed) ----------------------------------------------

    def challenge(self, user: str, purpose: str) -> str:
        body = self.call("POST", f"/v1/users/{user}/device-keys/challenges", {"purpose": purpose}, expect=201)
        return str(body["challenge"])

    def register(self, user: str, device: DeviceKeyPair) -> str:
        proof = device.proof(challenge=self.challenge(user, "register"), user_id=user, purpose="register")
        body = self.call("POST", f"/v1/users/{user}/device-keys", {"proof": proof}, expect=201, user=user)
        return str(body["key_id"])

    def setup(self) -> None:
        """The keys the lifecycle operations act on: one for the user, one for admin actions."""
        self.key_id = self.register(self.user, self.device)
        for _ in range(LIST_KEYS - 1):
            self.register(self.user, DeviceKeyPair.generate("ES256"))
        self.admin_key_id = self.register(self.admin_user, self.admin_device)
        self.register(self.rotating_user, self.rotating_device)

    def prepare(self, operation: str) -> Prepared:  # noqa: PLR0911 - one branch per operation
        """Everything ``operation`` needs before its handler runs, done now."""
        user, key = self.user, self.key_id
        base = f"/v1/users/{user}/device-keys"
        if operation == "challenge":
            fn, event = self.event("POST", f"{base}/challenges", {"purpose": "verify"})
            return Prepared(operation, fn, event, 201)
        if operation == "register":
            device = DeviceKeyPair.generate("ES256")
            reg_user = f"{self.prefix}-reg-{next(self._serial) // 500}"
            challenge = self.challenge(reg_user, "register")
            proof = device.proof(challenge=challenge, user_id=reg_user, purpose="register")
            fn, event = self.event("POST", f"/v1/users/{reg_user}/device-keys", {"proof": proof}, user=reg_user)
            return Prepared(operation, fn, event, 201, device)
        if operation == "verify":
            proof = self.device.proof(challenge=self.challenge(user, "verify"), user_id=user, purpose="verify")
            fn, event = self.event("POST", f"{base}/verify", {"proof": proof})
            return Prepared(operation, fn, event, 200)
        if operation == "get":
            fn, event = self.event("GET", f"{base}/{key}", user=user)
            return Prepared(operation, fn, event, 200)
        if operation == "list":
            fn, event = self.event("GET", base, user=user)
            return Prepared(operation, fn, event, 200)
        if operation == "update":
            body = {"display_name": f"phone {next(self._serial)}", "custom_data": {"os": "android", "model": "p8"}}
            fn, event = self.event("PATCH", f"{base}/{key}", body, user=user)
            return Prepared(operation, fn, event, 200)
        if operation in ("block", "unblock"):
            admin_base = f"/v1/users/{self.admin_user}/device-keys/{self.admin_key_id}"
            body = {"reason": "reported lost"} if operation == "block" else None
            fn, event = self.event("POST", f"{admin_base}/{operation}", body, user="admin", admin=True)
            return Prepared(operation, fn, event, 200)
        if operation == "delete":
            if not self.registered:
                self.registered.append((user, self.register(user, DeviceKeyPair.generate("ES256"))))
            owner, key_id = self.registered.popleft()
            fn, event = self.event("DELETE", f"/v1/users/{owner}/device-keys/{key_id}", user=owner)
            return Prepared(operation, fn, event, 204)
        if operation == "rotate":
            rotating, new = self.rotating_user, DeviceKeyPair.generate("ES256")
            challenge = self.challenge(rotating, "rotate")
            body = {
                "proof": self.rotating_device.proof(challenge=challenge, user_id=rotating, purpose="rotate"),
                "new_key_proof": new.proof(
                    challenge=challenge, user_id=rotating, purpose="rotate", header={"jwk": new.public_jwk}
                ),
            }
            fn, event = self.event("POST", f"/v1/users/{rotating}/device-keys/rotate", body, user=rotating)
            return Prepared(operation, fn, event, 200, new)
        raise ValueError(f"unknown operation {operation!r}")

    def run(self, prepared: Prepared) -> dict[str, Any]:
        """Invoke a prepared call and check it succeeded (a failing benchmark measures nothing)."""
        response = self.invoke(prepared.function, prepared.event)
        self.check(prepared, response)
        return response

    def recover(self, prepared: Prepared) -> None:
        """After a call that failed because its write was retried: adopt whatever the store now holds.

        The attempt that timed out may still be running in moto: wait until the rotation shows,
        or the current key is still there on its own.
        """
        if prepared.operation != "rotate" or prepared.device is None:
            return
        user, new, current = self.rotating_user, prepared.device, self.rotating_device
        for _ in range(100):
            if self._has_key(user, new.key_id):
                self.rotating_device = new  # an attempt rotated; its retry found the old key gone
                return
            if not self._has_key(user, current.key_id):
                time.sleep(0.1)  # neither key: the transaction is still being applied
                continue
            time.sleep(0.1)
        if not self._has_key(user, current.key_id):
            raise RuntimeError(f"rotate: neither {current.key_id} nor {new.key_id} is {user}'s key")

    def _has_key(self, user: str, key_id: str) -> bool:
        return self.invoke(*self.event("GET", f"/v1/users/{user}/device-keys/{key_id}", user=user))["statusCode"] == 200

    def check(self, prepared: Prepared, response: dict[str, Any]) -> None:
        if response["statusCode"] != prepared.expect:
            raise RuntimeError(f"{prepared.operation}: {response['statusCode']} {response.get('body')}")
        if prepared.operation == "register":
            body = json.loads(response["body"])
            self.registered.append((body["user_id"], body["key_id"]))
        if prepared.operation == "rotate" and prepared.device is not None:
            self.rotating_device = prepared.device  # the record now answers to the new key
