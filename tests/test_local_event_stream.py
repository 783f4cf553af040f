"""The local stand-ins for the stream's event source mapping, DynamoDB's TTL and EventBridge.

They decide what a developer sees of lifecycle events on one machine, so they must behave as
AWS does where it matters: a record the function reports failed is delivered again (and the
ones before it are not), retries stop where the template says, TTL removes only what expired
and its removals say so, and the bus refuses what PutEvents refuses.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from devicekeys_local.atomic_moto import atomic_dynamodb_requests
from devicekeys_local.event_stream import (
    TTL_IDENTITY,
    LocalEventBus,
    StreamPoller,
    TtlMarks,
    TtlSweeper,
)
from devicekeys_local.template import stream_subscriptions
from moto import mock_aws

NOW = 1_800_000_000


class FakeStream:
    """A single-shard stream whose records are handed out in order, ``Limit`` at a time."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.position = 0

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "it"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        page = self.records[self.position : self.position + Limit]
        self.position += len(page)
        return {"Records": page, "NextShardIterator": "it"}


def record(sequence: int, name: str = "INSERT", keys: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "eventID": f"id-{sequence}",
        "eventName": name,
        "dynamodb": {
            "ApproximateCreationDateTime": datetime.fromtimestamp(NOW, UTC),
            "Keys": keys or {"user_id": {"S": "alice"}, "key_id": {"S": f"k{sequence}"}},
            "SequenceNumber": str(sequence),
        },
    }


def poller(stream: FakeStream, deliver: Any, *, retries: int = 2, batch_size: int = 10) -> StreamPoller:
    subject = StreamPoller(
        streams=stream,
        table="keys",
        stream_arn="arn:stream",
        deliver=deliver,
        batch_size=batch_size,
        maximum_retry_attempts=retries,
        marks=TtlMarks(),
    )
    subject.start_at_latest()
    return subject


def test_a_record_reported_failed_is_delivered_again_from_that_record_on() -> None:
    batches: list[list[str]] = []

    def deliver(records: list[dict[str, Any]]) -> list[str]:
        batches.append([r["dynamodb"]["SequenceNumber"] for r in records])
        return ["2"] if len(batches) == 1 else []  # the second record fails once

    subject = poller(FakeStream([record(1), record(2), record(3)]), deliver)

    subject.poll()
    subject.poll()

    assert batches == [["1", "2", "3"], ["2", "3"]]
    assert subject.poll() == 0  # nothing left: delivered once each after the retry


def test_retries_stop_after_the_templates_maximum_and_the_stream_moves_on() -> None:
    batches: list[list[str]] = []

    def deliver(records: list[dict[str, Any]]) -> list[str]:
        sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
        batches.append(sequences)
        return ["1"] if "1" in sequences else []

    stream = FakeStream([record(1)])
    subject = poller(stream, deliver, retries=2)
    for _ in range(3):
        subject.poll()
    stream.records.append(record(2))
    subject.poll()

    assert batches == [["1"], ["1"], ["1"], ["2"]]  # first try + 2 retries, then the next record


def test_batches_are_no_larger_than_the_templates_batch_size() -> None:
    sizes: list[int] = []
    subject = poller(FakeStream([record(n) for n in range(1, 8)]), lambda rs: sizes.append(len(rs)) or [], batch_size=3)

    while subject.poll():
        pass

    assert sizes == [3, 3, 1]


def test_records_reach_the_function_as_lambda_hands_them_over() -> None:
    seen: list[dict[str, Any]] = []
    subject = poller(FakeStream([record(1)]), lambda rs: seen.extend(rs) or [])

    subject.poll()

    (delivered,) = seen
    assert delivered["dynamodb"]["ApproximateCreationDateTime"] == NOW  # epoch seconds, as in Lambda's JSON
    assert delivered["eventSourceARN"] == "arn:stream"
    assert "userIdentity" not in delivered  # not a TTL removal


def test_only_the_removals_the_sweeper_made_carry_ttls_identity() -> None:
    keys = {"user_id": {"S": "alice"}, "key_id": {"S": "k1"}}
    seen: list[dict[str, Any]] = []
    subject = poller(
        FakeStream([record(1, "REMOVE", keys), record(2, "REMOVE", keys)]), lambda rs: seen.extend(rs) or []
    )
    subject.marks.add("keys", keys)  # the sweeper removed k1 once

    subject.poll()

    assert [r.get("userIdentity") for r in seen] == [TTL_IDENTITY, None]


def test_the_publishers_subscription_is_read_from_the_template() -> None:
    (subscription,) = stream_subscriptions()

    assert (subscription.function, subscription.table) == ("EventPublisherFunction", "DeviceKeysTable")
    assert subscription.reports_item_failures and subscription.maximum_retry_attempts > 0


@pytest.fixture
def table() -> Any:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="keys",
            KeySchema=[
                {"AttributeName": "user_id", "KeyType": "HASH"},
                {"AttributeName": "key_id", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "user_id", "AttributeType": "S"},
                {"AttributeName": "key_id", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb


def put(dynamodb: Any, key_id: str, expires_at: int | None) -> None:
    item = {"user_id": {"S": "alice"}, "key_id": {"S": key_id}}
    if expires_at is not None:
        item["expires_at"] = {"N": str(expires_at)}
    dynamodb.put_item(TableName="keys", Item=item)


def test_the_sweeper_removes_what_expired_and_marks_it_as_ttls(table: Any) -> None:
    put(table, "expired", NOW - 1)
    put(table, "later", NOW + 1)
    put(table, "forever", None)
    marks = TtlMarks()
    sweeper = TtlSweeper(table, {"keys": "expires_at"}, {"keys": ["user_id", "key_id"]}, marks, clock=lambda: NOW)

    assert sweeper.sweep() == 1

    left = {item["key_id"]["S"] for item in table.scan(TableName="keys")["Items"]}
    assert left == {"later", "forever"}
    assert marks.discard("keys", {"user_id": {"S": "alice"}, "key_id": {"S": "expired"}})


def test_the_sweeper_leaves_an_item_whose_expiry_moved_since_it_looked(table: Any) -> None:
    put(table, "renewed", NOW - 1)
    marks = TtlMarks()
    original_delete = table.delete_item

    def renewed_meanwhile(**request: Any) -> Any:
        put(table, "renewed", NOW + 3600)  # a verification renewed it between the scan and the removal
        return original_delete(**request)

    table.delete_item = renewed_meanwhile
    sweeper = TtlSweeper(table, {"keys": "expires_at"}, {"keys": ["user_id", "key_id"]}, marks, clock=lambda: NOW)

    assert sweeper.sweep() == 0
    assert table.get_item(TableName="keys", Key={"user_id": {"S": "alice"}, "key_id": {"S": "renewed"}})["Item"]
    assert not marks.discard("keys", {"user_id": {"S": "alice"}, "key_id": {"S": "renewed"}})


def entry(**overrides: Any) -> dict[str, Any]:
    return {
        "Source": "devicekeys",
        "DetailType": "Device key registered",
        "Detail": '{"user_id": "alice"}',
        **overrides,
    }


def test_the_bus_keeps_events_as_a_rules_target_receives_them() -> None:
    printed: list[str] = []
    bus = LocalEventBus(printed.append, account="123456789012", region="us-east-1")

    status, response = bus.put_events(json.dumps({"Entries": [entry(EventBusName="devices")]}).encode())

    (event,) = bus.events()
    assert status == 200 and response["FailedEntryCount"] == 0
    assert response["Entries"] == [{"EventId": event["id"]}]
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "devicekeys",
        "Device key registered",
        {"user_id": "alice"},
    )
    assert printed and "Device key registered" in printed[0]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b"{}", json.dumps({"Entries": []}).encode(), json.dumps({"Entries": [entry()] * 11}).encode()],
)
def test_the_bus_refuses_requests_putevents_refuses(body: bytes) -> None:
    bus = LocalEventBus(None, account="123456789012", region="us-east-1")

    status, response = bus.put_events(body)

    assert status == 400 and response["__type"] in ("SerializationException", "ValidationException")
    assert bus.events() == []


def test_an_invalid_entry_fails_alone() -> None:
    bus = LocalEventBus(None, account="123456789012", region="us-east-1")

    status, response = bus.put_events(json.dumps({"Entries": [entry(Detail="{not json"), entry()]}).encode())

    assert status == 200 and response["FailedEntryCount"] == 1
    assert response["Entries"][0]["ErrorCode"] == "InvalidArgument" and "EventId" in response["Entries"][1]
    assert len(bus.events()) == 1


def test_a_cancelled_transaction_leaves_the_stream_readers_hold_intact() -> None:
    """moto rolls a cancelled transaction back by swapping in a copy of the table, stream included:
    a reader's iterator then never sees another record. The local API's moto keeps the stream."""
    with mock_aws(), atomic_dynamodb_requests():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        streams = boto3.client("dynamodbstreams", region_name="us-east-1")
        dynamodb.create_table(
            TableName="keys",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        arn = dynamodb.describe_table(TableName="keys")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
        put = {"Put": {"TableName": "keys", "Item": {"pk": {"S": "first"}}}}
        refused = {"Put": {**put["Put"], "ConditionExpression": "attribute_not_exists(pk)"}}
        dynamodb.transact_write_items(TransactItems=[put])
        with pytest.raises(ClientError, match="TransactionCanceled"):
            dynamodb.transact_write_items(
                TransactItems=[{"Put": {"TableName": "keys", "Item": {"pk": {"S": "cancelled"}}}}, refused]
            )
        dynamodb.put_item(TableName="keys", Item={"pk": {"S": "after"}})

        seen = []
        for _ in range(3):
            page = streams.get_records(ShardIterator=iterator)
            seen += [record["dynamodb"]["Keys"]["pk"]["S"] for record in page["Records"]]
            iterator = page["NextShardIterator"]

    assert seen == ["first", "after"]  # nothing of the cancelled transaction, and the stream goes on
