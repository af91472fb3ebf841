"""TaskTypesFunction: the API routes of task types of your own (register, list, read, delete)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.observability import logger, metered, traced
from tasklane.routes.api import build_app
from tasklane.routes.task_types import router

app = build_app(router, validate=True)  # Powertools validates its bodies: a rarely called function


@traced
@metered
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
