"""POST /tasks, POST /tasks/batch, DELETE /tasks/{task_id}, POST /tasks/{task_id}/retry."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from tasklane import submission, tasks
from tasklane.backend import backend
from tasklane.domain import Task
from tasklane.errors import PayloadTooLarge
from tasklane.idempotency import once
from tasklane.models import BatchRequest, BatchResponse, SubmitRequest
from tasklane.routes.http import caller, correlation_id, require_json

router = Router()

MAX_BATCH_BODY_BYTES = 5 * 1024 * 1024  # under Lambda's 6 MB synchronous payload limit

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, description="Replays the original answer for 24 h"),
]


def _accepted(task: dict[str, Any], queued: bool) -> Response[Any]:
    headers = {"Location": f"/v1/tasks/{task['task_id']}"}
    if not queued:
        headers["Tasklane-Queued"] = "false"  # stored; the reconciler queues it within minutes
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=task, headers=headers)


@router.post("/tasks", summary="Submit a task", responses={202: {"description": "The accepted task"}})
def submit(request: Annotated[SubmitRequest, Body()], idempotency_key: IdempotencyKey = None) -> Response[Task]:
    require_json(router)
    owner, cid = caller(router), correlation_id(router)

    def accept() -> dict[str, Any]:
        accepted = submission.submit_task(request, owner, backend(), cid)
        return {"task": accepted.task.public(), "queued": accepted.queued}

    if idempotency_key is None:
        answer = accept()
    else:
        answer, replayed = once(
            "submit", owner, idempotency_key, request.model_dump(mode="json"), accept, router.lambda_context
        )
        if replayed:
            return _accepted(tasks.get_task(answer["task"]["task_id"], owner, backend()).public(), answer["queued"])
    return _accepted(answer["task"], answer["queued"])


@router.post("/tasks/batch", summary="Submit up to 100 tasks", responses={202: {"description": "One result per item"}})
def submit_batch(
    request: Annotated[BatchRequest, Body()], idempotency_key: IdempotencyKey = None
) -> Response[BatchResponse]:
    require_json(router)
    size = len(router.current_event.body or "")
    if size > MAX_BATCH_BODY_BYTES:
        raise PayloadTooLarge(
            f"batch body is {size} bytes; the limit is {MAX_BATCH_BODY_BYTES}", {"limit": MAX_BATCH_BODY_BYTES}
        )
    owner, cid = caller(router), correlation_id(router)

    def accept() -> dict[str, Any]:
        return {"results": submission.submit_batch(request.tasks, owner, backend(), cid)}

    if idempotency_key is None:
        answer = accept()
    else:
        answer, _ = once(
            "batch", owner, idempotency_key, request.model_dump(mode="json"), accept, router.lambda_context
        )
    return Response(
        status_code=202, content_type=content_types.APPLICATION_JSON, body=BatchResponse.model_validate(answer)
    )


@router.delete("/tasks/<task_id>", summary="Cancel a pending task")
def cancel(task_id: str) -> Task:
    return tasks.cancel_task(task_id, caller(router), backend())


@router.post("/tasks/<task_id>/retry", summary="Retry a failed or cancelled task")
def retry(task_id: str) -> Response[Task]:
    accepted = tasks.retry_task(task_id, caller(router), backend(), correlation_id(router))
    return _accepted(accepted.task.public(), accepted.queued)
