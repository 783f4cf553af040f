"""Warm cost per operation: the handler against its floor, interleaved, in one process.

The floor is the least a correct implementation must do: the same DynamoDB requests the
handler makes (same expressions, same ReturnValues, counted by ``benchmarks.requests``), with
one plain boto3 client on the same endpoint, plus one ECDSA signature check (cryptography,
public key cached like the layer caches it) for register and verify. The ratio handler/floor
is the layer's overhead factor; the difference is its overhead in milliseconds, which does
not depend on how fast the local DynamoDB answers.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import json
import os
import secrets
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from .common import TABLE_NAMES, Summary, dynamodb_client, lambda_environment, local_dynamodb, ms_since

KEYS, CHALLENGES = TABLE_NAMES["DeviceKeysTable"], TABLE_NAMES["ChallengesTable"]
COUNTER = "#devices"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


def _public_key(jwk_json: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    jwk = json.loads(jwk_json)
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(_unb64(jwk["x"]), "big"), int.from_bytes(_unb64(jwk["y"]), "big"), ec.SECP256R1()
    )
    return numbers.public_key()


_cached_public_key = lru_cache(maxsize=512)(_public_key)


def _check_es256(public_key: Any, signing_input: bytes, signature: bytes) -> None:
    """One ES256 check: raw r||s to DER, then ECDSA-SHA256 (raises InvalidSignature)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public_key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))


def _split_proof(proof: str) -> tuple[bytes, bytes]:
    header, payload, signature = proof.split(".")
    return f"{header}.{payload}".encode(), _unb64(signature)


@dataclass
class FloorCall:
    run: Callable[[], object]


class Floor:
    """The handler's DynamoDB requests made directly with boto3, plus the signature check."""

    def __init__(self, client: Any, bench: Any) -> None:
        self.client = client
        self.bench = bench  # the Workbench: its registered keys and devices
        self.created: deque[tuple[str, str]] = deque()
        self._serial = 0
        self.rotating: tuple[str, Any] | None = None  # the floor's own rotating user and its current device

    def _challenge_item(self, user: str, purpose: str) -> str:
        challenge_hash = _b64(hashlib.sha256(secrets.token_bytes(32)).digest())
        self.client.put_item(
            TableName=CHALLENGES,
            Item={
                "challenge_hash": {"S": challenge_hash},
                "user_id": {"S": user},
                "purpose": {"S": purpose},
                "expires_at": {"N": str(int(time.time()) + 600)},
            },
        )
        return challenge_hash

    def _consume(self, challenge_hash: str) -> None:
        response = self.client.delete_item(
            TableName=CHALLENGES,
            Key={"challenge_hash": {"S": challenge_hash}},
            ConditionExpression="attribute_exists (#0)",
            ExpressionAttributeNames={"#0": "challenge_hash"},
            ReturnValues="ALL_OLD",
        )
        assert "Attributes" in response

    def _update(self, user: str, key_id: str, expression: str, names: dict[str, str], values: dict[str, Any]) -> None:
        self.client.update_item(
            TableName=KEYS,
            Key={"user_id": {"S": user}, "key_id": {"S": key_id}},
            ConditionExpression="attribute_exists (#0)",
            UpdateExpression=expression,
            ExpressionAttributeNames={"#0": "key_id", **names},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )

    def prepare(self, operation: str) -> FloorCall:  # noqa: PLR0911 - one branch per operation
        bench, client = self.bench, self.client
        user, key_id = bench.user, bench.key_id
        key = {"user_id": {"S": user}, "key_id": {"S": key_id}}
        if operation == "challenge":
            return FloorCall(lambda: self._challenge_item(user, "verify"))
        if operation == "verify":
            challenge_hash = self._challenge_item(user, "verify")
            proof = bench.device.proof(challenge=_b64(secrets.token_bytes(32)), user_id=user, purpose="verify")
            signing_input, signature = _split_proof(proof)

            def verify() -> None:
                item = client.get_item(TableName=KEYS, Key=key, ConsistentRead=True)["Item"]
                _check_es256(_cached_public_key(item["public_key"]["S"]), signing_input, signature)
                self._consume(challenge_hash)
                client.update_item(
                    TableName=KEYS,
                    Key=key,
                    ConditionExpression="(attribute_exists (#0) AND #1 = :0)",
                    UpdateExpression="SET #2 = :1",
                    ExpressionAttributeNames={"#0": "key_id", "#1": "status", "#2": "last_verified_at"},
                    ExpressionAttributeValues={":0": {"S": "active"}, ":1": {"S": _now()}},
                    ReturnValues="ALL_NEW",
                )

            return FloorCall(verify)
        if operation == "register":
            from devicekeys_client import DeviceKeyPair

            self._serial += 1
            reg_user = f"{bench.prefix}-floor-{self._serial // 500}"
            device = DeviceKeyPair.generate("ES256")
            challenge_hash = self._challenge_item(reg_user, "register")
            proof = device.proof(challenge=_b64(secrets.token_bytes(32)), user_id=reg_user, purpose="register")
            signing_input, signature = _split_proof(proof)
            jwk = {k: device.public_jwk[k] for k in ("crv", "kty", "x", "y")}

            def register() -> None:
                jwk_json = json.dumps(jwk, sort_keys=True)
                _check_es256(_public_key(jwk_json), signing_input, signature)
                self._consume(challenge_hash)
                new_key_id = _b64(
                    hashlib.sha256(json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()).digest()
                )
                now = _now()
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": KEYS,
                                "Item": {
                                    "user_id": {"S": reg_user},
                                    "key_id": {"S": new_key_id},
                                    "alg": {"S": "ES256"},
                                    "created_at": {"S": now},
                                    "public_key": {"S": jwk_json},
                                    "status": {"S": "active"},
                                    "updated_at": {"S": now},
                                    **_stamp("registered", reg_user),
                                },
                                "ConditionExpression": "attribute_not_exists (#0)",
                                "ExpressionAttributeNames": {"#0": "key_id"},
                            }
                        },
                        {
                            "Update": {
                                "TableName": KEYS,
                                "Key": {"user_id": {"S": reg_user}, "key_id": {"S": COUNTER}},
                                "UpdateExpression": "ADD #0 :0",
                                "ConditionExpression": "(attribute_not_exists (#0) OR #0 < :1)",
                                "ExpressionAttributeNames": {"#0": "device_count"},
                                "ExpressionAttributeValues": {":0": {"N": "1"}, ":1": {"N": "1000"}},
                            }
                        },
                    ]
                )
                self.created.append((reg_user, new_key_id))

            return FloorCall(register)
        if operation == "get":
            return FloorCall(lambda: client.get_item(TableName=KEYS, Key=key, ConsistentRead=True))
        if operation == "list":
            return FloorCall(
                lambda: client.query(
                    TableName=KEYS,
                    KeyConditionExpression="(#0 = :0 AND #1 > :1)",
                    ExpressionAttributeNames={"#0": "user_id", "#1": "key_id"},
                    ExpressionAttributeValues={":0": {"S": user}, ":1": {"S": COUNTER}},
                    ConsistentRead=True,
                    Limit=100,
                )
            )
        if operation == "update":
            self._serial += 1
            name = f"phone {self._serial}"
            custom = json.dumps({"os": "android", "model": "p8"})
            return FloorCall(
                lambda: self._update(
                    user,
                    key_id,
                    "SET #1 = :0, #2 = :1, #3 = :2",
                    {"#1": "updated_at", "#2": "display_name", "#3": "custom_data"},
                    {":0": {"S": _now()}, ":1": {"S": name}, ":2": {"S": custom}},
                )
            )
        if operation == "block":
            now = _now()
            return FloorCall(
                lambda: self._update(
                    bench.admin_user,
                    bench.admin_key_id,
                    "SET #1 = :0, #2 = if_not_exists (#2, :1), #3 = :2, #4 = :3",
                    {"#1": "status", "#2": "blocked_at", "#3": "updated_at", "#4": "blocked_reason"},
                    {":0": {"S": "blocked"}, ":1": {"S": now}, ":2": {"S": now}, ":3": {"S": "reported lost"}},
                )
            )
        if operation == "unblock":
            return FloorCall(
                lambda: self._update(
                    bench.admin_user,
                    bench.admin_key_id,
                    "SET #1 = :0, #2 = :1 REMOVE #3, #4",
                    {"#1": "status", "#2": "updated_at", "#3": "blocked_at", "#4": "blocked_reason"},
                    {":0": {"S": "active"}, ":1": {"S": _now()}},
                )
            )
        if operation == "delete":
            if not self.created:
                self.prepare("register").run()
            owner, doomed = self.created.popleft()
            deleted_at = time.time()
            return FloorCall(
                lambda: client.transact_write_items(
                    TransactItems=[
                        {
                            "Delete": {
                                "TableName": KEYS,
                                "Key": {"user_id": {"S": owner}, "key_id": {"S": doomed}},
                                "ConditionExpression": "(attribute_exists (#0) AND #1 = :0)",
                                "ExpressionAttributeNames": {"#0": "key_id", "#1": "status"},
                                "ExpressionAttributeValues": {":0": {"S": "active"}},
                            }
                        },
                        {
                            "Put": {  # the deletion record the table's stream announces
                                "TableName": KEYS,
                                "Item": {
                                    "user_id": {"S": owner},
                                    "key_id": {"S": f"#deleted#{doomed}#{int(deleted_at * 1000)}"},
                                    "deleted_at": {"S": _now()},
                                    "deleted_key_id": {"S": doomed},
                                    "expires_at": {"N": str(int(deleted_at) + 86400)},
                                    "changed_by_kind": {"S": "user"},
                                    "changed_by_subject": {"S": owner},
                                },
                            }
                        },
                        {
                            "Update": {
                                "TableName": KEYS,
                                "Key": {"user_id": {"S": owner}, "key_id": {"S": COUNTER}},
                                "UpdateExpression": "ADD #0 :0",
                                "ExpressionAttributeNames": {"#0": "device_count"},
                                "ExpressionAttributeValues": {":0": {"N": "-1"}},
                            }
                        },
                    ]
                )
            )
        if operation == "rotate":
            return self._rotate()
        raise ValueError(f"unknown operation {operation!r}")

    def _rotate(self) -> FloorCall:
        """Read the current key, check both proofs, consume the challenge, swap the keys in one transaction."""
        from devicekeys_client import DeviceKeyPair

        if self.rotating is None:
            self.rotating = (f"{self.bench.prefix}-floor-rotating", DeviceKeyPair.generate("ES256"))
            self._store_key(*self.rotating)
        user, current = self.rotating
        new = DeviceKeyPair.generate("ES256")
        challenge_hash = self._challenge_item(user, "rotate")
        challenge = _b64(secrets.token_bytes(32))
        current_input, current_signature = _split_proof(
            current.proof(challenge=challenge, user_id=user, purpose="rotate")
        )
        new_input, new_signature = _split_proof(
            new.proof(challenge=challenge, user_id=user, purpose="rotate", header={"jwk": new.public_jwk})
        )
        new_jwk = json.dumps({k: new.public_jwk[k] for k in ("crv", "kty", "x", "y")}, sort_keys=True)
        client = self.client

        def rotate() -> None:
            key = {"user_id": {"S": user}, "key_id": {"S": current.key_id}}
            stored = client.get_item(TableName=KEYS, Key=key, ConsistentRead=True)["Item"]
            _check_es256(_public_key(new_jwk), new_input, new_signature)
            _check_es256(_cached_public_key(stored["public_key"]["S"]), current_input, current_signature)
            self._consume(challenge_hash)
            now = _now()
            client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": KEYS,
                            "Key": key,
                            "ConditionExpression": "(attribute_exists (#0) AND #1 = :0)",
                            "ExpressionAttributeNames": {"#0": "key_id", "#1": "status"},
                            "ExpressionAttributeValues": {":0": {"S": "active"}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": KEYS,
                            "Item": {
                                **{name: value for name, value in stored.items() if name != "key_id"},
                                "key_id": {"S": new.key_id},
                                "public_key": {"S": new_jwk},
                                "updated_at": {"S": now},
                                "last_verified_at": {"S": now},
                                "previous_key_id": {"S": current.key_id},
                                **_stamp("rotated", user),
                            },
                            "ConditionExpression": "attribute_not_exists (#0)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                            "ExpressionAttributeNames": {"#0": "key_id"},
                        }
                    },
                ]
            )
            self.rotating = (user, new)

        return FloorCall(rotate)

    def _store_key(self, user: str, device: Any) -> None:
        now = _now()
        jwk = json.dumps({k: device.public_jwk[k] for k in ("crv", "kty", "x", "y")}, sort_keys=True)
        self.client.put_item(
            TableName=KEYS,
            Item={
                "user_id": {"S": user},
                "key_id": {"S": device.key_id},
                "alg": {"S": "ES256"},
                "created_at": {"S": now},
                "public_key": {"S": jwk},
                "status": {"S": "active"},
                "updated_at": {"S": now},
                **_stamp("registered", user),
            },
        )


class _RetryCounter:
    """Counts the requests botocore is about to retry (a timeout, a connection error, a 5xx)."""

    def __init__(self) -> None:
        self.count = 0

    def attach(self, client: Any) -> None:
        client.meta.events.register("needs-retry.dynamodb", self._observe)

    def _observe(self, response: Any = None, caught_exception: Any = None, **_: Any) -> None:
        status = (response[1].get("ResponseMetadata") or {}).get("HTTPStatusCode", 0) if response else 0
        if caught_exception is not None or status >= 500 or (status == 400 and _throttled(response)):
            self.count += 1


def _throttled(response: Any) -> bool:
    code = (response[1].get("Error") or {}).get("Code", "")
    return code in ("ThrottlingException", "ProvisionedThroughputExceededException", "TransactionConflictException")


def _stamp(change: str, subject: str) -> dict[str, Any]:
    """What each write records about itself (devicekeys.device_keys): the change and who made it."""
    return {"change": {"S": change}, "changed_by_kind": {"S": "user"}, "changed_by_subject": {"S": subject}}


def measure(iterations: int = 200, warmup: int = 20, operations: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Median and p99 (ms) of each operation through its handler and through its floor.

    On a busy machine moto can stall past the layer's 3 s read timeout; botocore then retries
    the request, and a retried transaction that had been applied fails its own conditions:
    moto ignores the ClientRequestToken botocore puts on every TransactWriteItems, which makes
    DynamoDB answer a retry as it answered the first attempt. Such a call is not a sample: it
    is counted under ``retried`` and the workbench re-reads where it stands. Any other failure
    stops the benchmark.
    """
    from .capacity import function_client

    with local_dynamodb() as endpoint:
        os.environ.update(lambda_environment(endpoint))
        from .scenario import FUNCTION_OF, OPERATIONS, Workbench

        warnings.simplefilter("ignore")  # Powertools' per-process metric set warns once per function
        results: dict[str, Any] = {}
        retries = _RetryCounter()
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # EMF metrics lines
            bench = Workbench(prefix="warm")
            bench.setup()
            for logical_id in sorted(set(FUNCTION_OF.values())):
                retries.attach(function_client(bench.functions.module(logical_id)))
            floor = Floor(dynamodb_client(endpoint), bench)
            for operation in operations or OPERATIONS:
                handler_ms: list[float] = []
                floor_ms: list[float] = []
                retried: list[str] = []
                for i in range(warmup + iterations):
                    prepared = bench.prepare(operation)
                    floor_call = floor.prepare(operation)
                    pair = [("handler", prepared), ("floor", floor_call)]
                    timed: dict[str, float] = {}
                    sample = i >= warmup
                    for kind, call in pair if i % 2 == 0 else reversed(pair):
                        start = time.perf_counter()
                        if kind == "handler":
                            seen = retries.count
                            response = bench.invoke(call.function, call.event)
                            timed[kind] = ms_since(start)
                            try:
                                bench.check(call, response)
                            except RuntimeError as exc:
                                if retries.count == seen:
                                    raise
                                retried.append(str(exc)[:200])
                                bench.recover(call)
                                sample = False
                        else:
                            call.run()
                            timed[kind] = ms_since(start)
                    if sample:
                        handler_ms.append(timed["handler"])
                        floor_ms.append(timed["floor"])
                    if i % 50 == 0:
                        gc.collect()  # outside the timed calls: keep collections from piling up
                handler, floor_summary = Summary.of(handler_ms), Summary.of(floor_ms)
                results[operation] = {
                    "handler_ms": handler.to_dict(),
                    "floor_ms": floor_summary.to_dict(),
                    "ratio_median": round(handler.median / floor_summary.median, 3),
                    "ratio_p99": round(handler.p99 / floor_summary.p99, 3),
                    "overhead_ms_median": round(handler.median - floor_summary.median, 3),
                    "retried": retried,
                }
        return {"iterations": iterations, "warmup": warmup, "operations": results}


if __name__ == "__main__":
    print(json.dumps(measure(iterations=50, warmup=5), indent=2))
