"""WebhookFunction: delivers the webhooks the events function queued, one attempt per receive."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.data.notifications import notifications
from tasklane.logic.webhooks import WebhookDelivery, deliver
from tasklane.observability import logger, metered, traced

# A failed delivery is a normal outcome (it comes back after its backoff), not an error of the batch.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle_record(record: SQSRecord) -> None:
    attempt = int(record.attributes.approximate_receive_count)
    deliver(WebhookDelivery(record.body, record.receipt_handle, attempt), notifications())


@traced
@metered
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
