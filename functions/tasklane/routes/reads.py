"""GET /tasks, GET /tasks/{task_id}, GET /tasks/{task_id}/result, GET /health. Read-only.

The status function answers every poll, so it runs without pydantic: its resolver does not validate
(pydantic and Powertools' validation would add two thirds to its cold start). The one input with
rules, the list query, is declared once below; that declaration parses it and documents it.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from tasklane.data.services import services
from tasklane.logic import queries
from tasklane.model.errors import ValidationFailed
from tasklane.model.lanes import Lane
from tasklane.model.listing import ListQuery, TaskPage, TaskResult
from tasklane.model.task import Task, TaskStatus
from tasklane.records import record
from tasklane.routes.http import caller, json_response

router = Router()


@record
class QueryParameter:
    """One query parameter of GET /tasks: its OpenAPI schema is also the rule it is parsed by."""

    name: str
    schema: dict[str, Any]
    description: str

    def parse(self, raw: str) -> Any:
        """The value of `raw`, or ValueError with the message a caller sees."""
        schema = self.schema
        if schema["type"] == "integer":
            try:
                value: Any = int(raw)
            except ValueError:
                raise ValueError("must be an integer") from None
            if not schema["minimum"] <= value <= schema["maximum"]:
                raise ValueError(f"must be between {schema['minimum']} and {schema['maximum']}")
            return value
        if "enum" in schema and raw not in schema["enum"]:
            raise ValueError("must be one of " + ", ".join(schema["enum"]))
        if not schema.get("minLength", 0) <= len(raw) <= schema.get("maxLength", len(raw)):
            raise ValueError(f"must be {schema.get('minLength', 0)} to {schema['maxLength']} characters long")
        return raw

    def openapi(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "schema": self.schema,
            "description": self.description,
        }


LIST_QUERY = (
    QueryParameter("status", {"type": "string", "enum": [s.value for s in TaskStatus]}, "Only tasks in this status"),
    QueryParameter("task_type", {"type": "string", "minLength": 1, "maxLength": 64}, "Only tasks of this type"),
    QueryParameter("priority", {"type": "string", "enum": [lane.value for lane in Lane]}, "Only tasks of this lane"),
    QueryParameter("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size"),
    QueryParameter("cursor", {"type": "string", "minLength": 1, "maxLength": 512}, "next_cursor of the last page"),
    QueryParameter(
        "workflow_id",
        {"type": "string", "minLength": 1, "maxLength": 64},
        "Only the tasks of this workflow, in the order of its tree (status is the one other filter then)",
    ),
    QueryParameter(
        "schedule",
        {"type": "string", "minLength": 1, "maxLength": 64},
        "Only the tasks submitted by this recurring schedule's firings, newest first",
    ),
)


MAX_WAIT_SECONDS = 20
TASK_QUERY = (
    QueryParameter(
        "wait",
        {"type": "integer", "minimum": 0, "maximum": MAX_WAIT_SECONDS, "default": 0},
        "Seconds to wait for the task to finish (or, with If-None-Match, to change) before answering",
    ),
)
# What a long poll leaves of the function's time, for reading and answering once more.
WAIT_MARGIN_SECONDS = 2


def parse_list_query(params: dict[str, str], declared: tuple[QueryParameter, ...] = LIST_QUERY) -> dict[str, Any]:
    """The query as keyword arguments; every bad parameter is reported, in one 422."""
    values: dict[str, Any] = {p.name: p.schema.get("default") for p in declared}
    problems = []
    for parameter in declared:
        if parameter.name in params:
            try:
                values[parameter.name] = parameter.parse(params[parameter.name])
            except ValueError as exc:
                problems.append({"field": parameter.name, "message": str(exc)})
    if problems:
        raise ValidationFailed("the request is not valid", problems)
    return values


@router.get("/health", summary="Liveness (no auth)")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/tasks", summary="List the caller's tasks, newest first")
def list_tasks() -> Response[TaskPage]:
    query = parse_list_query(router.current_event.query_string_parameters or {})
    if query["workflow_id"]:
        from tasklane.logic.workflows import views  # only listings of a workflow load it

        workflow = views.owned_workflow(query["workflow_id"], caller(router), services())
        listed = views.workflow_tasks(
            workflow, services(), limit=query["limit"], cursor=query["cursor"], status=query["status"]
        )
        return json_response(200, listed)
    status = TaskStatus(query["status"]) if query["status"] else None
    priority = Lane(query["priority"]) if query["priority"] else None
    listing = ListQuery(
        owner=caller(router),
        limit=query["limit"],
        status=status,
        task_type=query["task_type"],
        priority=priority,
        schedule=query["schedule"],
    )
    page = queries.list_tasks(listing, query["cursor"], services())
    return json_response(200, page.public())


@router.get(
    "/tasks/<task_id>",
    summary="Read a task",
    responses={304: {"description": "Unchanged: the task still matches If-None-Match"}},
)
def get_task(task_id: str) -> Response[Task]:
    wait = parse_list_query(router.current_event.query_string_parameters or {}, TASK_QUERY)["wait"]
    seen = router.current_event.headers.get("if-none-match") or router.current_event.headers.get("If-None-Match")
    if wait:
        # Never past the function's own time (nor API Gateway's 29 s).
        wait = min(wait, router.lambda_context.get_remaining_time_in_millis() / 1000 - WAIT_MARGIN_SECONDS)
        task = queries.wait_for_task(task_id, caller(router), services(), wait, seen)
    else:
        task = queries.get_task(task_id, caller(router), services())
    etag = task.etag()
    if seen == etag:
        unchanged: Response[Any] = Response(304, body="", headers={"ETag": etag})  # empty, not null: proxies differ
        return unchanged
    return json_response(200, task.public(), headers={"ETag": etag})


@router.get(
    "/tasks/<task_id>/result",
    summary="Read a completed task's result",
    responses={
        200: {"description": "The result inline"},
        303: {"description": "The result is too large to answer inline: follow Location (a short-lived URL)"},
    },
)
def get_result(task_id: str) -> Response[TaskResult]:
    answer = queries.get_result(task_id, caller(router), services())
    if answer.url is not None:
        body = {"task_id": task_id, "result_url": answer.url, "result_size": answer.size}
        return json_response(303, body, headers={"Location": answer.url})
    # The result's JSON text goes out as stored: a large one is never parsed here.
    inline: Response[Any] = Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=f'{{"task_id":{json.dumps(task_id)},"result":{answer.json_text}}}',
    )
    return inline
