"""The REST resolver every API function uses, and the OpenAPI document of the whole API."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from tasklane.model import values
from tasklane.routes.http import install_error_handlers

TITLE, VERSION = "tasklane", "1.0.0"


def build_app(*routers: Router, validate: bool = True) -> APIGatewayRestResolver:
    """`validate` turns on Powertools' request and response validation, which loads pydantic."""
    # Bodies are read by tasklane.model.values.loads: numbers JSON readers cannot hold become marks that
    # validation names, instead of failing the whole body (or being stored as null).
    app = APIGatewayRestResolver(
        enable_validation=validate, strip_prefixes=["/v1"], json_body_deserializer=values.loads
    )
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)
    return app


@cache
def openapi_document() -> dict[str, Any]:
    """Generated from the routes and models themselves, so it cannot drift from them. Loads
    pydantic: the status function pays for it on its first request for the document only."""
    from tasklane.routes import reads, schedules, stats, writes

    document: dict[str, Any] = (
        build_app(writes.router, reads.router, stats.router, schedules.router)
        .get_openapi_schema(title=TITLE, version=VERSION, description="A serverless task queue for AWS")
        .model_dump(mode="json", by_alias=True, exclude_none=True)
    )
    document["paths"].pop("/openapi.json", None)
    # The list query is parsed without pydantic, from a declaration that also documents it.
    document["paths"]["/tasks"]["get"]["parameters"] = [p.openapi() for p in reads.LIST_QUERY]
    return document
