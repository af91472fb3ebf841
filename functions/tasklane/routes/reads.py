"""GET /tasks, GET /tasks/{task_id}, GET /tasks/{task_id}/result, GET /health. Read-only."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from tasklane import tasks
from tasklane.backend import backend
from tasklane.domain import Task, TaskPage, TaskResult, TaskStatus
from tasklane.routes.http import caller

router = Router()


@router.get("/health", summary="Liveness (no auth)")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/tasks", summary="List the caller's tasks, newest first")
def list_tasks(
    status: Annotated[TaskStatus | None, Query()] = None,
    task_type: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(min_length=1, max_length=512)] = None,
) -> TaskPage:
    return tasks.list_tasks(
        caller(router), backend(), limit=limit, cursor_text=cursor, status=status, task_type=task_type
    )


@router.get("/tasks/<task_id>", summary="Read a task")
def get_task(task_id: str) -> Task:
    return tasks.get_task(task_id, caller(router), backend())


@router.get("/tasks/<task_id>/result", summary="Read a completed task's result")
def get_result(task_id: str) -> TaskResult:
    return tasks.get_result(task_id, caller(router), backend())
