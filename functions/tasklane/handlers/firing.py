"""FiringFunction (invoked by EventBridge Scheduler): one firing of a recurring schedule submits its task."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.data.services import services
from tasklane.logic.firing import fire
from tasklane.observability import logger, metered, traced


@traced
@metered
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"task_id": fire(event, services(), context.aws_request_id)}
