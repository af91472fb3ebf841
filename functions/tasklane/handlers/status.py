"""StatusFunction: the read-only API routes (its role cannot write), GET /stats and the console's
static shell. It runs without pydantic."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.observability import logger, metered, traced
from tasklane.routes import bulk, console, reads, stats, workflows
from tasklane.routes.api import build_app, openapi_document

app = build_app(reads.router, stats.router, console.router, bulk.reads_router, workflows.reads)


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> dict[str, Any]:
    return openapi_document()


@traced
@metered
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
