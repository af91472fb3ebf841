"""EventsFunction: reads the tasks table's stream, publishes each status change on the stack's bus and
queues the webhook of each terminal change that has a callback."""

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.data.notifications import notifications
from tasklane.logic.events import Publication, publish, settle
from tasklane.observability import logger, metered, traced

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def handle_record(record: DynamoDBRecord, publication: Publication) -> None:
    settle(record.raw_event, publication, notifications())


@traced
@metered
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    # The batch's events go out first, ten to a PutEvents; each record then succeeds or fails on its own.
    publication = publish(event.get("Records", []), notifications())
    handler = partial(handle_record, publication=publication)
    return process_partial_response(event=event, record_handler=handler, processor=processor, context=context)
