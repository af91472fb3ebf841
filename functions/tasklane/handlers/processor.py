"""ProcessorFunction (one per lane, same code): runs the tasks of its lane's queue."""

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.data.services import services
from tasklane.logic.execution import Delivery, process
from tasklane.logic.redelivery import Redeliveries, redeliveries
from tasklane.model.lanes import Lane
from tasklane.observability import logger, metered, traced

# A batch whose every record is deferred is a normal outcome here, not an error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle_record(record: SQSRecord, lane: Lane, later: Redeliveries) -> None:
    context = processor.lambda_context
    delivery = Delivery(
        body=record.body,
        receipt_handle=record.receipt_handle,
        receive_count=int(record.attributes.approximate_receive_count),
        remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    process(delivery, lane, services(), later)


@traced
@metered
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    # The deferred records' visibility changes go to SQS together: before a claim, and before the batch is answered.
    lane = services().settings.processor_lane()  # the one lane this function drains (LANE)
    with redeliveries(services(), lane) as later:
        handler = partial(handle_record, lane=lane, later=later)
        return process_partial_response(event=event, record_handler=handler, processor=processor, context=context)
