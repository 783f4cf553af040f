"""A bound session's refresh (DBSC), both legs: the handler against its floor, and what it costs.

The browser holds the user's request while it refreshes, so this latency is the user's. The
floor is the least a correct refresh must do: the same two DynamoDB requests (leg 1 stores a
challenge on the session item; leg 2 consumes it conditionally and returns the item), one ES256
check of the browser's signature (cryptography, the key cached as the layer caches it) and one
KMS Sign (plain boto3), against the same moto server (DynamoDB and KMS in one process of their
own, as benchmarks/common.py runs DynamoDB). What the browser does (signing the challenge) is
outside both timings. The overhead is handler minus floor, per leg and in all; the requests each
leg makes are counted where every call goes out (botocore).

    .venv/bin/python -m benchmarks.dbsc_refresh [--iterations 300] [--output PATH]

Standalone: ``benchmarks.run`` does not run it (its numbers are in docs/dbsc.md).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import hashlib
import json
import os
import re
import secrets
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .common import (
    REGION,
    TABLE_NAMES,
    Summary,
    dynamodb_client,
    lambda_environment,
    local_dynamodb,
    ms_since,
    use_project_paths,
    write_json,
)

KEYS = TABLE_NAMES["DeviceKeysTable"]
ALIAS = "alias/bench-dbsc-signing"
ORIGIN = "https://app.example.com"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@contextlib.contextmanager
def _counted() -> Iterator[Counter[str]]:
    """The AWS requests made meanwhile, as ``service:Operation``."""
    from botocore.client import BaseClient

    calls: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counting(client: Any, operation: str, params: dict[str, Any]) -> Any:
        calls[f"{client.meta.service_model.endpoint_prefix}:{operation}"] += 1
        return original(client, operation, params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


class Browser:
    """The browser's side: a session key, and the JWTs Chromium signs with it (joserfc)."""

    def __init__(self) -> None:
        from devicekeys_client import DeviceKeyPair

        self.pair = DeviceKeyPair.generate("ES256")

    def sign(self, header: dict[str, Any], payload: dict[str, Any]) -> str:
        from joserfc import jws

        return jws.serialize_compact(header, json.dumps(payload), self.pair.key, algorithms=["ES256"])


class Handlers:
    """The registration and refresh functions, imported once as a warm container holds them."""

    def __init__(self) -> None:
        from devicekeys_local.events import LambdaContext, http_event
        from devicekeys_local.functions import LocalFunctions

        self._functions = LocalFunctions()
        self._event, self._context = http_event, LambdaContext
        self.register_handler = self._functions.handler("RegisterBoundSessionFunction")
        self.refresh_handler = self._functions.handler("RefreshBoundSessionFunction")

    def event(self, path: str, headers: dict[str, str]) -> dict[str, Any]:
        return self._event(method="POST", route_path=path, raw_path=path, headers={"origin": ORIGIN, **headers})

    def context(self, name: str) -> Any:
        return self._context(function_name=name)


def _start(endpoint: str, user: str) -> tuple[str, str]:
    """A registration for ``user``, as the start function issues it: (challenge, authorization)."""
    from devicekeys_local.functions import LocalFunctions

    document = LocalFunctions().invoke_direct("StartBoundSessionFunction", {"user_id": user})
    found = dict(re.findall(r';([a-z]+)="([^"]*)"', document["header_value"]))
    return found["challenge"], found["authorization"]


class Floor:
    """A refresh's two legs with plain boto3: the same requests, one signature check, one KMS Sign."""

    def __init__(self, endpoint: str, browser: Browser, user: str, key_id: str) -> None:
        import boto3
        from cryptography.hazmat.primitives.asymmetric import ec

        self.dynamodb = dynamodb_client(endpoint)
        self.kms = boto3.client("kms", endpoint_url=endpoint, region_name=REGION)
        self.key = {"user_id": {"S": user}, "key_id": {"S": key_id}}
        jwk = browser.pair.public_jwk
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(_unb64(jwk["x"]), "big"), int.from_bytes(_unb64(jwk["y"]), "big"), ec.SECP256R1()
        )
        self.public_key = numbers.public_key()

    def leg1(self) -> str:
        challenge = _b64(secrets.token_bytes(32))
        self.dynamodb.update_item(
            TableName=KEYS,
            Key=self.key,
            UpdateExpression="SET #0 = :0, #1 = :1",
            ConditionExpression="(attribute_exists (#2) AND #3 = :2 AND #4 > :3)",
            ExpressionAttributeNames={
                "#0": "challenge_hash",
                "#1": "challenge_expires_at",
                "#2": "key_id",
                "#3": "status",
                "#4": "expires_at",
            },
            ExpressionAttributeValues={
                ":0": {"S": _b64(hashlib.sha256(_unb64(challenge)).digest())},
                ":1": {"N": str(int(time.time()) + 120)},
                ":2": {"S": "active"},
                ":3": {"N": str(int(time.time()))},
            },
        )
        return challenge

    def leg2(self, challenge: str, response: str) -> None:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

        now = int(time.time())
        self.dynamodb.update_item(
            TableName=KEYS,
            Key=self.key,
            UpdateExpression="SET #5 = :4, #4 = :5 REMOVE #0, #1 ADD #7 :6",
            ConditionExpression="(attribute_exists (#2) AND #3 = :2 AND #4 > :3 AND #0 = :0 AND #1 > :3)",
            ExpressionAttributeNames={
                "#0": "challenge_hash",
                "#1": "challenge_expires_at",
                "#2": "key_id",
                "#3": "status",
                "#4": "expires_at",
                "#5": "last_refreshed_at",
                "#7": "refresh_count",
            },
            ExpressionAttributeValues={
                ":0": {"S": _b64(hashlib.sha256(_unb64(challenge)).digest())},
                ":2": {"S": "active"},
                ":3": {"N": str(now)},
                ":4": {"S": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
                ":5": {"N": str(now + 30 * 86400)},
                ":6": {"N": "1"},
            },
            ReturnValues="ALL_NEW",
        )
        header, payload, signature = response.split(".")
        raw = _unb64(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        self.public_key.verify(der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
        claims = {"iss": "devicekeys", "sub": "u", "sid": "s", "iat": now, "exp": now + 600}
        signing_input = f"{_b64(json.dumps({'alg': 'ES256'}).encode())}.{_b64(json.dumps(claims).encode())}"
        signed = self.kms.sign(
            KeyId=ALIAS, Message=signing_input.encode(), MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
        )
        r, s = decode_dss_signature(signed["Signature"])
        _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def measure(iterations: int = 300, warmup: int = 30) -> dict[str, Any]:
    """Median and p99 (ms) of each leg through the handler and through the floor, and the requests each makes."""
    with local_dynamodb() as endpoint:
        os.environ.update(lambda_environment(endpoint))
        os.environ.update({"DBSC_SIGNING_KEY_ID": ALIAS, "KMS_ENDPOINT": endpoint, "DBSC_CREDENTIAL_SECONDS": "600"})
        use_project_paths()
        import boto3

        kms = boto3.client("kms", endpoint_url=endpoint, region_name=REGION)
        key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=ALIAS, TargetKeyId=key)
        warnings.simplefilter("ignore")
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # EMF metrics lines
            handlers, browser = Handlers(), Browser()
            challenge, authorization = _start(endpoint, "bench-dbsc")
            registration = browser.sign(
                {"alg": "ES256", "typ": "dbsc+jwt", "jwk": browser.pair.public_jwk},
                {"jti": challenge, "authorization": authorization},
            )
            registered = handlers.register_handler(
                handlers.event("/dbsc/register", {"secure-session-response": registration}),
                handlers.context("RegisterBoundSessionFunction"),
            )
            assert registered["statusCode"] == 200, registered
            session_id = json.loads(registered["body"])["session_identifier"]
            floor_session = handlers.register_handler(
                handlers.event(
                    "/dbsc/register",
                    {"secure-session-response": _second_registration(browser, endpoint)},
                ),
                handlers.context("RegisterBoundSessionFunction"),
            )
            floor_id = json.loads(floor_session["body"])["session_identifier"]
            floor = Floor(endpoint, browser, "bench-dbsc", "#session#" + floor_id.rsplit(".", 1)[1])

            timings: dict[str, list[float]] = {name: [] for name in ("h1", "h2", "f1", "f2")}
            requests: dict[str, Counter[str]] = {}
            for i in range(warmup + iterations):
                order = ("handler", "floor") if i % 2 == 0 else ("floor", "handler")
                for kind in order:
                    if kind == "handler":
                        leg1, leg2, counts = _handler_refresh(handlers, browser, session_id)
                        if i == warmup:
                            requests = counts
                    else:
                        leg1, leg2 = _floor_refresh(floor, browser)
                    if i >= warmup:
                        timings["h1" if kind == "handler" else "f1"].append(leg1)
                        timings["h2" if kind == "handler" else "f2"].append(leg2)
                if i % 50 == 0:
                    gc.collect()
    summaries = {name: Summary.of(values) for name, values in timings.items()}
    totals = {
        "handler": Summary.of([a + b for a, b in zip(timings["h1"], timings["h2"], strict=True)]),
        "floor": Summary.of([a + b for a, b in zip(timings["f1"], timings["f2"], strict=True)]),
    }
    return {
        "iterations": iterations,
        "warmup": warmup,
        "requests": {leg: dict(counts) for leg, counts in requests.items()},
        "leg1": _compare(summaries["h1"], summaries["f1"]),
        "leg2": _compare(summaries["h2"], summaries["f2"]),
        "both_legs": _compare(totals["handler"], totals["floor"]),
    }


def _second_registration(browser: Browser, endpoint: str) -> str:
    """A second session of the same key, for the floor to refresh (the handler's stays the handler's)."""
    challenge, authorization = _start(endpoint, "bench-dbsc")
    return browser.sign(
        {"alg": "ES256", "typ": "dbsc+jwt", "jwk": browser.pair.public_jwk},
        {"jti": challenge, "authorization": authorization},
    )


def _handler_refresh(handlers: Handlers, browser: Browser, session_id: str) -> tuple[float, float, dict[str, Any]]:
    context = handlers.context("RefreshBoundSessionFunction")
    with _counted() as leg1_calls:
        start = time.perf_counter()
        first = handlers.refresh_handler(
            handlers.event("/dbsc/refresh", {"sec-secure-session-id": session_id}), context
        )
        leg1 = ms_since(start)
    assert first["statusCode"] == 403, first
    challenge = re.match(r'"([^"]+)"', first["headers"]["Secure-Session-Challenge"]).group(1)  # type: ignore[union-attr]
    response = browser.sign({"alg": "ES256", "typ": "dbsc+jwt"}, {"jti": challenge})  # the browser's part
    event = handlers.event("/dbsc/refresh", {"sec-secure-session-id": session_id, "secure-session-response": response})
    with _counted() as leg2_calls:
        start = time.perf_counter()
        second = handlers.refresh_handler(event, context)
        leg2 = ms_since(start)
    assert second["statusCode"] == 200, second
    return leg1, leg2, {"leg1": leg1_calls, "leg2": leg2_calls}


def _floor_refresh(floor: Floor, browser: Browser) -> tuple[float, float]:
    start = time.perf_counter()
    challenge = floor.leg1()
    leg1 = ms_since(start)
    response = browser.sign({"alg": "ES256", "typ": "dbsc+jwt"}, {"jti": challenge})
    start = time.perf_counter()
    floor.leg2(challenge, response)
    return leg1, ms_since(start)


def _compare(handler: Summary, floor: Summary) -> dict[str, Any]:
    return {
        "handler_ms": handler.to_dict(),
        "floor_ms": floor.to_dict(),
        "ratio_median": round(handler.median / floor.median, 3),
        "overhead_ms_median": round(handler.median - floor.median, 3),
        "overhead_ms_p99": round(handler.p99 - floor.p99, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dbsc_refresh", description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--output", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    result = measure(iterations=args.iterations, warmup=args.warmup)
    if args.output:
        write_json(args.output, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
