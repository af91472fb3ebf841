"""DeadLetterFunction: consumes the three DLQs and settles each task so none stays processing forever."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.data.services import services
from tasklane.logic.recovery import handle_dead_letter
from tasklane.observability import logger, metered, traced

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle_record(record: SQSRecord) -> None:
    handle_dead_letter(record.body, services())


@traced
@metered
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
