"""GET /tasks, GET /tasks/{task_id}, GET /tasks/{task_id}/result, GET /health. Read-only."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from tasklane import tasks
from tasklane.backend import backend
from tasklane.models import TaskStatus
from tasklane.routes.http import caller, json_response

router = Router()


@router.get("/health", summary="Liveness")
def health() -> Response:
    return json_response(200, {"status": "ok"})


@router.get("/tasks", summary="List the caller's tasks, newest first")
def list_tasks(
    status: Annotated[TaskStatus | None, Query()] = None,
    task_type: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(min_length=1, max_length=512)] = None,
) -> Response:
    page = tasks.list_tasks(
        caller(router), backend(), limit=limit, cursor_text=cursor, status=status, task_type=task_type
    )
    return json_response(200, page)


@router.get("/tasks/<task_id>", summary="Read a task")
def get_task(task_id: str) -> Response:
    return json_response(200, tasks.get_task(task_id, caller(router), backend()).public())


@router.get("/tasks/<task_id>/result", summary="Read a completed task's result")
def get_result(task_id: str) -> Response:
    return json_response(200, tasks.get_result(task_id, caller(router), backend()))
