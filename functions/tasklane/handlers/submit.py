"""SubmitFunction: the API routes that create and change tasks, and that finish async attempts."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.observability import logger, metered, traced
from tasklane.routes import bulk, completions, webhooks, workflows
from tasklane.routes.api import build_app
from tasklane.routes.writes import router

app = build_app(router, webhooks.router, bulk.router, workflows.writes, completions.router)


@traced
@metered
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
