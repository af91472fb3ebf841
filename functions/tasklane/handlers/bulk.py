"""BulkFunction: applies one page of a bulk action per message of the bulk queue, then queues the next."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.data.services import services
from tasklane.logic.bulk import run_page
from tasklane.model.bulk import BulkPage
from tasklane.observability import logger, metered, traced

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle_record(record: SQSRecord) -> None:
    try:
        page = BulkPage.from_json(record.body)
    except ValueError:
        logger.exception("dropped a message that is not a bulk page")
        return
    redelivered = int(record.attributes.approximate_receive_count) > 1
    s = services()
    run_page(page, redelivered, s.bulk_jobs, s.bulk_queue, s)


@traced
@metered
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
