"""StatusFunction: the read-only API routes (its role cannot write). It runs without pydantic."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.observability import logger, metered, traced
from tasklane.routes.api import build_app, openapi_document
from tasklane.routes.reads import router

app = build_app(router, validate=False)


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> dict[str, Any]:
    return openapi_document()


@traced
@metered
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
