"""The device-keys table's stream -> lifecycle events on the event bus (devicekeys.event_publisher).

Invoked by the stream's event source mapping with a batch of records; answers which records
failed (``batchItemFailures``) so that only they are retried, then sent to the dead-letter queue.
Not an HTTP route.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from devicekeys.access import Caller
from devicekeys.event_publisher import EventPublisher
from devicekeys.lambda_api import FunctionRuntime

runtime = FunctionRuntime("publish_events")
publisher = EventPublisher(runtime.settings, runtime.device_keys)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def publish(record: DynamoDBRecord) -> None:
    publisher.handle(record.raw_event)


def direct(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=publish, processor=processor))


handle_batch = runtime.handler(direct=direct)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    publisher.register_lambda_context(context)  # so a publication cut short is retried, not stuck
    return handle_batch(event, context)
