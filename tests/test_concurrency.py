"""Security properties under concurrency: single-use challenges, the device limit, no lost updates."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conftest import Api, device_for

PARALLEL = 32


def test_concurrent_verifies_of_one_proof_give_exactly_one_success(api: Api) -> None:
    device = device_for("ES256")
    assert api.register("alice", device).status == 201
    for _ in range(3):
        challenge = api.challenge("alice", "verify")
        proof = device.proof(challenge=challenge, user_id="alice", purpose="verify")
        body = {"proof": proof}
        with ThreadPoolExecutor(PARALLEL) as pool:
            results = list(
                pool.map(lambda b: api.call("POST", "/v1/users/alice/device-keys/verify", b), [body] * PARALLEL)
            )
        outcomes = Counter((r.status, r.error_code) for r in results)
        assert outcomes == {(200, None): 1, (401, "challenge_not_found"): PARALLEL - 1}, outcomes


def test_concurrent_registrations_never_exceed_the_device_limit(api: Api, dynamodb: Any) -> None:
    devices = [device_for("ES256", slot) for slot in range(PARALLEL)]
    challenges = [api.challenge("alice", "register") for _ in devices]
    proofs = [
        d.proof(challenge=c, user_id="alice", purpose="register") for d, c in zip(devices, challenges, strict=True)
    ]
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(
            pool.map(
                lambda proof: api.call("POST", "/v1/users/alice/device-keys", {"proof": proof}, as_user="alice"), proofs
            )
        )
    outcomes = Counter((r.status, r.error_code) for r in results)
    assert outcomes[(201, None)] == 10, outcomes
    assert set(outcomes) <= {(201, None), (409, "device_limit_reached"), (503, "service_unavailable")}
    stored = api.call("GET", "/v1/users/alice/device-keys", as_user="alice").body["device_keys"]
    assert len(stored) == 10
    counter = dynamodb.get_item(
        TableName="test-device-keys", Key={"user_id": {"S": "alice"}, "key_id": {"S": "#devices"}}
    )
    assert counter["Item"]["device_count"] == {"N": "10"}


def test_concurrent_update_and_block_never_lose_either_change(api: Api) -> None:
    device = device_for("ES256")
    assert api.register("alice", device).status == 201
    path = f"/v1/users/alice/device-keys/{device.key_id}"
    for round_ in range(10):
        rename = {"display_name": f"name {round_}"}
        block = {"reason": f"reason {round_}"}
        with ThreadPoolExecutor(2) as pool:
            renamed = pool.submit(api.call, "PATCH", path, rename, as_user="alice")
            blocked = pool.submit(api.call, "POST", f"{path}/block", block, as_user="ops", admin=True)
            assert renamed.result().status == 200 and blocked.result().status == 200
        record = api.call("GET", path, as_user="alice").body
        assert record["display_name"] == f"name {round_}"
        assert record["status"] == "blocked" and record["blocked_reason"] == f"reason {round_}"
        assert api.call("POST", f"{path}/unblock", as_user="ops", admin=True).status == 200


def test_concurrent_deletes_of_one_key_delete_it_once_and_count_it_once(api: Api, dynamodb: Any) -> None:
    keep, gone = device_for("ES256", 0), device_for("ES256", 1)
    for device in (keep, gone):
        assert api.register("alice", device).status == 201
    with ThreadPoolExecutor(8) as pool:
        statuses = Counter(
            pool.map(
                lambda _: api.call("DELETE", f"/v1/users/alice/device-keys/{gone.key_id}", as_user="alice").status,
                range(8),
            )
        )
    assert statuses[204] == 1 and statuses[204] + statuses[404] + statuses[503] == 8, statuses
    counter = dynamodb.get_item(
        TableName="test-device-keys", Key={"user_id": {"S": "alice"}, "key_id": {"S": "#devices"}}
    )
    assert counter["Item"]["device_count"] == {"N": "1"}
