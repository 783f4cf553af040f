"""benchmarks.capacity: DynamoDB's request-unit rules, and the capture of requests on a function's client."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from benchmarks.capacity import (
    CapacityRecorder,
    function_client,
    item_size,
    read_units,
    reported_units,
    write_units,
)

KB = 1024


# --- the rules ---------------------------------------------------------------------------------


def test_item_size_counts_names_and_values_as_dynamodb_does():
    # String: UTF-8 bytes; names count too.
    assert item_size({"pk": {"S": "abc"}}) == 2 + 3
    assert item_size({"é": {"S": "€"}}) == 2 + 3
    # Number: (significant digits + 1) // 2 + 1 bytes, leading zeros and sign not counted.
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
    assert item_size({"n": {"N": "-0.0012"}}) == 1 + 2
    # Boolean and null: 1 byte; list and map: 3 bytes plus 1 per element.
    assert item_size({"b": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    assert item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (2 + 1) + (2 + 1)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert item_size(None) == 0


@pytest.mark.parametrize(
    ("size", "consistent", "transactional", "expected"),
    [
        (0, True, False, 1.0),  # a read of nothing still costs the minimum
        (0, False, False, 0.5),
        (4 * KB, True, False, 1.0),
        (4 * KB + 1, True, False, 2.0),
        (8 * KB, False, False, 1.0),
        (8 * KB + 1, False, False, 1.5),
        (100, True, True, 2.0),
        (5 * KB, False, True, 4.0),
    ],
)
def test_read_units(size, consistent, transactional, expected):
    assert read_units(size, consistent=consistent, transactional=transactional) == expected


@pytest.mark.parametrize(
    ("size", "transactional", "expected"),
    [(0, False, 1.0), (1 * KB, False, 1.0), (1 * KB + 1, False, 2.0), (3 * KB, True, 6.0), (200, True, 2.0)],
)
def test_write_units(size, transactional, expected):
    assert write_units(size, transactional=transactional) == expected


def test_reported_units_reads_one_table_or_many():
    assert reported_units({"TableName": "t", "CapacityUnits": 1.5}) == 1.5
    assert reported_units([{"CapacityUnits": 2.0}, {"CapacityUnits": 4.0, "WriteCapacityUnits": 4.0}]) == 6.0
    assert reported_units([]) is None  # moto's answer for a transaction
    assert reported_units(None) is None


# --- the capture ----------------------------------------------------------------------------------


def _item(key: str, payload: int) -> dict[str, Any]:
    return {"challenge_hash": {"S": key}, "data": {"S": "x" * payload}}


def test_the_recorder_counts_what_the_hooked_client_sends_and_sizes_it(dynamodb):
    client = boto3.client("dynamodb", region_name="us-east-1")
    recorder = CapacityRecorder(shadow=dynamodb)
    recorder.attach(client)
    table = "test-challenges"
    client.put_item(TableName=table, Item=_item("before", 10))  # not recording: not counted
    with recorder.record() as recording:
        client.put_item(TableName=table, Item=_item("a", 3000))  # ~3 KB: 3 WRU
        client.get_item(TableName=table, Key={"challenge_hash": {"S": "a"}}, ConsistentRead=True)
        client.get_item(TableName=table, Key={"challenge_hash": {"S": "a"}})  # eventually consistent
        client.update_item(  # the larger of before (~3 KB) and after (tiny): 3 WRU
            TableName=table,
            Key={"challenge_hash": {"S": "a"}},
            UpdateExpression="SET #d = :d",
            ExpressionAttributeNames={"#d": "data"},
            ExpressionAttributeValues={":d": {"S": "y"}},
        )
        client.transact_write_items(  # two items in a transaction: 2 x 2 WRU
            TransactItems=[
                {"Put": {"TableName": table, "Item": _item("b", 10)}},
                {"Delete": {"TableName": table, "Key": {"challenge_hash": {"S": "before"}}}},
            ]
        )
        client.delete_item(TableName=table, Key={"challenge_hash": {"S": "missing"}})  # nothing there: 1 WRU
        dynamodb.get_item(TableName=table, Key={"challenge_hash": {"S": "a"}})  # the shadow: never counted
    totals = recording.totals()
    assert totals["requests"] == 6
    assert [r.operation for r in recording.requests] == [
        "PutItem",
        "GetItem",
        "GetItem",
        "UpdateItem",
        "TransactWriteItems",
        "DeleteItem",
    ]
    assert [r.write_units for r in recording.requests] == [3.0, 0.0, 0.0, 3.0, 4.0, 1.0]
    assert [r.read_units for r in recording.requests] == [0.0, 1.0, 0.5, 0.0, 0.0, 0.0]
    assert totals["wru"] == 11.0 and totals["rru"] == 1.5
    # ReturnConsumedCapacity=TOTAL was asked: moto answers (a constant) for all but the transaction.
    assert recording.requests[0].reported_capacity is not None
    assert recording.requests[4].reported_capacity is None and totals["reported_capacity"] is None
    recorder.detach(client)
    with recorder.record() as after:
        client.get_item(TableName=table, Key={"challenge_hash": {"S": "a"}})
    assert after.count == 0


def test_the_recorder_refuses_to_record_its_own_shadow(dynamodb):
    with pytest.raises(ValueError, match="shadow"):
        CapacityRecorder(shadow=dynamodb).attach(dynamodb)


def test_a_function_s_own_client_is_hooked_for_its_requests(api, device, dynamodb, functions):
    """What the benchmark records for verify: the requests of the verify function's own client."""
    user = "capacity-user"
    assert api.register(user, device).status == 201
    proof = device.proof(challenge=api.challenge(user, "verify"), user_id=user, purpose="verify")
    client = function_client(functions.module("VerifyDeviceKeyFunction"))
    recorder = CapacityRecorder(shadow=dynamodb)
    recorder.attach(client)
    try:
        with recorder.record() as recording:
            result = api.call("POST", f"/v1/users/{user}/device-keys/verify", {"proof": proof})
    finally:
        recorder.detach(client)
    assert result.status == 200
    assert [r.operation for r in recording.requests] == ["GetItem", "DeleteItem", "UpdateItem"]
    assert recording.totals()["rru"] == 1.0  # one strongly consistent read of a small item
    assert recording.totals()["wru"] == 2.0  # the challenge deleted, the key's last_verified_at set
