"""Lifecycle events: every change to a device key becomes exactly one event on the bus.

The real path: the functions write, moto's DynamoDB stream records the writes, the publisher
function (EventPublisherFunction, by direct invocation with the stream's batch, as Lambda calls
it) puts events on moto's EventBridge, and a rule with the template's own alert pattern forwards
them to an SQS queue the test reads.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.client import BaseClient
from conftest import Api, device_for
from devicekeys_local.template import resources

BUS = "test-device-key-events"
KEYS = "/v1/users/alice/device-keys"
DETAIL_FIELDS = {"event_id", "type", "user_id", "key_id", "actor", "reason", "time"}


@dataclass
class Bus:
    api: Api
    dynamodb: Any
    sqs: Any
    everything: str
    alerts: str
    stream_arn: str
    iterator: str | None = None

    def records(self) -> list[dict[str, Any]]:
        """The stream records written since the last call, as Lambda hands them to the function."""
        streams = boto3.client("dynamodbstreams", region_name="us-east-1")
        if self.iterator is None:
            shard = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
            self.iterator = streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        page = streams.get_records(ShardIterator=self.iterator)
        self.iterator = page["NextShardIterator"]
        return [_as_lambda_sees_it(record, self.stream_arn) for record in page["Records"]]

    def publish(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return dict(self.api.functions.invoke_direct("EventPublisherFunction", {"Records": records}))

    def flush(self) -> list[dict[str, Any]]:
        """Publish what the stream holds; the events on the bus since the last flush."""
        response = self.publish(self.records())
        assert response == {"batchItemFailures": []}, response
        return self.received(self.everything)

    def received(self, queue: str) -> list[dict[str, Any]]:
        events = []
        while messages := self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return events


def _as_lambda_sees_it(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "dynamodb": change, "eventSourceARN": stream_arn}


def _alert_pattern() -> dict[str, Any]:
    rule = resources("AWS::Events::Rule")["NewDeviceAlertRule"]["Properties"]
    return dict(rule["EventPattern"])


@pytest.fixture
def bus(api: Api, dynamodb: Any) -> Bus:
    events, sqs = boto3.client("events", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    events.create_event_bus(Name=BUS)
    queues = {}
    for name, pattern in (("everything", {"source": ["devicekeys"]}), ("alerts", _alert_pattern())):
        url = sqs.create_queue(QueueName=f"test-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=name, EventBusName=BUS, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, EventBusName=BUS, Targets=[{"Id": name, "Arn": arn}])
        queues[name] = url
    stream = dynamodb.describe_table(TableName="test-device-keys")["Table"]["LatestStreamArn"]
    return Bus(api, dynamodb, sqs, queues["everything"], queues["alerts"], stream)


def assert_shape(event: dict[str, Any], detail_type: str, **detail: Any) -> None:
    assert (event["source"], event["detail-type"]) == ("devicekeys", detail_type)
    assert set(event["detail"]) >= DETAIL_FIELDS, event["detail"]
    for name, value in detail.items():
        assert event["detail"][name] == value, (name, event["detail"])
    assert event["detail"]["time"].endswith("Z")


def test_each_lifecycle_change_is_exactly_one_event_of_the_documented_shape(bus: Bus) -> None:
    api = bus.api
    device, new, other = device_for("ES256", 0), device_for("ES256", 1), device_for("ES256", 2)
    api.register("alice", device, display_name="Laptop")
    api.verify("alice", device)  # not an event
    api.call("PATCH", f"{KEYS}/{device.key_id}", {"display_name": "Old laptop"}, as_user="alice")
    api.call("POST", f"{KEYS}/{device.key_id}/block", {"reason": "stolen"}, as_user="ops", admin=True)
    api.call("POST", f"{KEYS}/{device.key_id}/unblock", as_user="ops", admin=True)
    challenge = api.challenge("alice", "rotate")
    rotation = {
        "proof": device.proof(challenge=challenge, user_id="alice", purpose="rotate"),
        "new_key_proof": new.proof(
            challenge=challenge, user_id="alice", purpose="rotate", header={"jwk": new.public_jwk}
        ),
    }
    assert api.call("POST", f"{KEYS}/rotate", rotation, as_user="alice").status == 200
    api.register("alice", other)
    api.call("DELETE", f"{KEYS}/{other.key_id}", as_user="alice")

    events = bus.flush()

    types = [event["detail-type"] for event in events]
    assert types == [
        "Device key registered",
        "Device key updated",
        "Device key blocked",
        "Device key unblocked",
        "Device key rotated",
        "Device key registered",
        "Device key deleted",
    ]
    alice = {"kind": "user", "subject": "alice"}
    ops = {"kind": "admin", "subject": "ops"}
    assert_shape(events[0], "Device key registered", user_id="alice", key_id=device.key_id, actor=alice)
    assert events[0]["detail"]["device_key"] == {"status": "active", "display_name": "Laptop", "alg": "ES256"}
    assert_shape(events[2], "Device key blocked", key_id=device.key_id, actor=ops, reason="stolen")
    assert_shape(events[3], "Device key unblocked", actor=ops, reason=None)
    assert_shape(events[4], "Device key rotated", key_id=new.key_id, previous_key_id=device.key_id, actor=alice)
    assert_shape(events[6], "Device key deleted", key_id=other.key_id, actor=alice, reason=None)
    assert len({event["detail"]["event_id"] for event in events}) == len(events)


def test_the_alert_rule_of_the_template_forwards_registrations_and_blocks_only(bus: Bus) -> None:
    device = device_for("ES256")
    bus.api.register("alice", device)
    bus.api.call("PATCH", f"{KEYS}/{device.key_id}", {"display_name": "x"}, as_user="alice")
    bus.api.call("POST", f"{KEYS}/{device.key_id}/block", as_user="ops", admin=True)
    bus.flush()
    assert [event["detail-type"] for event in bus.received(bus.alerts)] == [
        "Device key registered",
        "Device key blocked",
    ]


def test_a_redelivered_batch_publishes_nothing_twice(bus: Bus) -> None:
    bus.api.register("alice", device_for("ES256"))
    records = bus.records()
    assert bus.publish(records) == {"batchItemFailures": []}
    assert bus.publish(records) == {"batchItemFailures": []}  # Lambda retries, or a duplicate delivery
    assert [event["detail-type"] for event in bus.received(bus.everything)] == ["Device key registered"]


def test_an_eventbridge_failure_fails_that_record_only_and_its_retry_publishes_it_once(bus: Bus) -> None:
    # GIVEN two changes, and EventBridge throttling the first entry it is sent
    first, second = device_for("ES256", 0), device_for("ES256", 1)
    bus.api.register("alice", first)
    bus.api.register("alice", second)
    records = [record for record in bus.records() if record["dynamodb"]["Keys"]["key_id"]["S"] != "#devices"]
    original = BaseClient._make_api_call
    throttled: list[str] = []

    def throttle_once(client: Any, name: str, params: Any) -> Any:
        if name == "PutEvents" and not throttled:
            throttled.append(json.loads(params["Entries"][0]["Detail"])["key_id"])
            return {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}],
            }
        return original(client, name, params)

    with mock.patch.object(BaseClient, "_make_api_call", throttle_once):
        response = bus.publish(records)

    # THEN exactly the throttled record is reported failed (Lambda retries it), the other is published
    failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    assert failed == [records[0]["dynamodb"]["SequenceNumber"]] and throttled == [first.key_id]
    assert [event["detail"]["key_id"] for event in bus.received(bus.everything)] == [second.key_id]
    # AND the retry publishes it, once
    assert bus.publish(records) == {"batchItemFailures": []}
    assert [event["detail"]["key_id"] for event in bus.received(bus.everything)] == [first.key_id]


def test_a_key_removed_by_ttl_is_an_expired_event_and_leaves_the_count(bus: Bus) -> None:
    device, other = device_for("ES256", 0), device_for("ES256", 1)
    bus.api.register("alice", device)
    bus.api.register("alice", other)
    bus.flush()
    # GIVEN DynamoDB's TTL removing a key: the stream names the TTL service as the principal
    key = {"user_id": {"S": "alice"}, "key_id": {"S": device.key_id}}
    bus.dynamodb.delete_item(TableName="test-device-keys", Key=key)
    (removal,) = [record for record in bus.records() if record["eventName"] == "REMOVE"]
    removal["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

    assert bus.publish([removal]) == {"batchItemFailures": []}
    assert bus.publish([removal]) == {"batchItemFailures": []}  # redelivered: counted once

    (expired,) = bus.received(bus.everything)
    assert_shape(expired, "Device key expired", key_id=device.key_id, actor={"kind": "system", "subject": "ttl"})
    counter = {"user_id": {"S": "alice"}, "key_id": {"S": "#devices"}}
    assert bus.dynamodb.get_item(TableName="test-device-keys", Key=counter)["Item"]["device_count"] == {"N": "1"}


def test_a_ttl_removal_with_no_count_to_lower_is_still_published(bus: Bus) -> None:
    device = device_for("ES256", 0)
    bus.api.register("alice", device)
    bus.flush()
    # GIVEN a user whose counter item is gone (or at zero): nothing to lower
    counter = {"user_id": {"S": "alice"}, "key_id": {"S": "#devices"}}
    bus.dynamodb.delete_item(TableName="test-device-keys", Key=counter)
    bus.dynamodb.delete_item(
        TableName="test-device-keys", Key={"user_id": {"S": "alice"}, "key_id": {"S": device.key_id}}
    )
    (removal,) = [
        record
        for record in bus.records()
        if record["eventName"] == "REMOVE" and record["dynamodb"]["Keys"]["key_id"]["S"] == device.key_id
    ]
    removal["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

    # THEN the event is published (not retried into the dead-letter queue), and no count goes below zero
    assert bus.publish([removal]) == {"batchItemFailures": []}
    (expired,) = bus.received(bus.everything)
    assert expired["detail-type"] == "Device key expired"
    assert "Item" not in bus.dynamodb.get_item(TableName="test-device-keys", Key=counter)


def test_replacing_and_signing_out_say_who_removed_each_key(bus: Bus, functions: Any) -> None:
    keep, others = device_for("ES256", 0), [device_for("ES256", 1), device_for("ES256", 2)]
    for device in (keep, *others):
        bus.api.register("alice", device)
    bus.flush()
    challenge = bus.api.challenge("alice", "verify")
    proof = keep.proof(challenge=challenge, user_id="alice", purpose="verify")
    result = functions.invoke_direct(
        "VerifyDeviceKeyFunction", {"user_id": "alice", "proof": proof, "sign_out_others": True}
    )
    assert result["removed"] == 2

    deleted = bus.flush()

    assert sorted(event["detail"]["key_id"] for event in deleted) == sorted(key.key_id for key in others)
    assert {event["detail"]["reason"] for event in deleted} == {f"signed out by {keep.key_id}"}
    assert {event["detail"]["actor"]["kind"] for event in deleted} == {"system"}


def test_a_publication_cut_short_is_not_left_in_progress_for_a_day(bus: Bus) -> None:
    """Lambda killing an invocation (a timeout) leaves the once-only guard's record "in progress";
    with the invocation's deadline on it, the record's redelivery is published once that deadline
    passes, instead of failing as "already in progress" into the dead-letter queue for 24 hours."""
    bus.api.register("alice", device_for("ES256", 0))
    records = [record for record in bus.records() if record["dynamodb"]["Keys"]["key_id"]["S"] != "#devices"]

    def killed_by_the_runtime(*_: Any, **__: Any) -> Any:
        raise SystemExit("Task timed out")  # not an Exception: nothing cleans up after it

    with (
        mock.patch("devicekeys.event_publisher.EventPublisher.publish", killed_by_the_runtime),
        pytest.raises(SystemExit),
    ):
        bus.publish(records)

    (guard,) = bus.dynamodb.scan(TableName="test-published-events")["Items"]
    assert guard["status"] == {"S": "INPROGRESS"}
    deadline_ms = int(guard["in_progress_expiration"]["N"])
    assert 0 < deadline_ms - time.time() * 1000 <= 30_000  # the function's 30 s timeout at most
