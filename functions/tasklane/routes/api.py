"""The REST resolver every API function uses, and the OpenAPI document of the whole API."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from tasklane.model import values
from tasklane.routes.http import install_error_handlers

TITLE, VERSION = "tasklane", "1.0.0"


def build_app(*routers: Router, validate: bool = False) -> APIGatewayRestResolver:
    """`validate` turns on Powertools' validation layer: the OpenAPI document and the schedules
    function use it; the submit function's routes validate their own bodies with the request models
    (routes/writes.py), which keeps the layer off the path of every submission."""
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
    from tasklane.routes import bulk, completions, reads, schedules, stats, task_types, webhooks, workflows, writes

    routers = (writes.router, reads.router, stats.router, webhooks.router, schedules.router, task_types.router)
    routers_too = (completions.router, bulk.router, bulk.reads_router, workflows.writes, workflows.reads)
    document: dict[str, Any] = (
        build_app(*routers, *routers_too, validate=True)
        .get_openapi_schema(title=TITLE, version=VERSION, description="A serverless task queue for AWS")
        .model_dump(mode="json", by_alias=True, exclude_none=True)
    )
    document["paths"].pop("/openapi.json", None)
    # The list query is parsed without pydantic, from a declaration that also documents it.
    document["paths"]["/tasks"]["get"]["parameters"] = [p.openapi() for p in reads.LIST_QUERY]
    document["paths"]["/workflows"]["get"]["parameters"] = [p.openapi() for p in workflows.LIST_QUERY]
    read_task = document["paths"]["/tasks/{task_id}"]["get"]
    read_task["parameters"] = [
        *read_task.get("parameters", []),
        *(p.openapi() for p in reads.TASK_QUERY),
        {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}},
    ]
    # The write routes validate their bodies and headers themselves, from models declared per route.
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    declared_requests = writes.REQUESTS | completions.REQUESTS | workflows.model_requests()
    for (path, method), (body, headers) in declared_requests.items():
        operation = document["paths"][path][method]
        content = {"application/json": {"schema": _schema(body, schemas)}}
        operation["requestBody"] = {"required": True, "content": content}
        declared = headers.model_json_schema(ref_template=REF)
        operation["parameters"] = [
            {"name": name, "in": "header", "required": name in declared.get("required", ()), "schema": schema}
            | ({"description": schema["description"]} if "description" in schema else {})
            for name, schema in declared["properties"].items()
        ]
        operation["responses"].setdefault("422", VALIDATION_ERROR)
    _describe_bulk(document["paths"], schemas)
    return document


def _describe_bulk(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """The bulk routes validate their body themselves (and the status function's has no pydantic):
    their shapes come from tasklane.model.bulk_requests."""
    from tasklane.model.bulk_requests import BulkAccepted, BulkProgress, BulkRequest

    def content(model: Any) -> dict[str, Any]:
        return {"application/json": {"schema": _schema(model, schemas)}}

    start = paths["/tasks/bulk"]["post"]
    start["requestBody"] = {"required": True, "content": content(BulkRequest)}
    start["responses"]["202"]["content"] = content(BulkAccepted)
    start["responses"].pop("200", None)
    start["responses"].setdefault("422", VALIDATION_ERROR)
    paths["/tasks/bulk/{bulk_id}"]["get"]["responses"]["200"]["content"] = content(BulkProgress)


REF = "#/components/schemas/{model}"
VALIDATION_ERROR = {
    "description": "Validation Error",
    "content": {"application/json": {"schema": {"$ref": REF.format(model="HTTPValidationError")}}},
}


def _schema(model: Any, schemas: dict[str, Any]) -> dict[str, str]:
    """A reference to `model`'s schema, which goes into `schemas` with the schemas it refers to."""
    schema = model.model_json_schema(ref_template=REF)
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}
