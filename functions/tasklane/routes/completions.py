"""POST /tasks/{task_id}/complete, /fail, /heartbeat, /result-upload: an async target finishes (or
keeps alive) the attempt it accepted, and asks where to PUT a result too large to send. The attempt's
token in the body is the only credential: API Gateway asks these routes for no API key or IAM
signature (as /health), and the stage's throttling bounds them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from tasklane.data.services import services
from tasklane.logic import async_tasks
from tasklane.logic.queries import require_id
from tasklane.logic.task_values import ResultUploadInvalid, Unfinishable
from tasklane.model.completion_requests import CompleteRequest, FailRequest, HeartbeatRequest, ResultUploadRequest
from tasklane.model.errors import ValidationFailed
from tasklane.model.requests import Model, WriteHeaders
from tasklane.model.task import Progress, TaskError

router = Router()

REQUESTS: dict[tuple[str, str], tuple[type[Model], type[Model]]] = {
    ("/tasks/{task_id}/complete", "post"): (CompleteRequest, WriteHeaders),
    ("/tasks/{task_id}/fail", "post"): (FailRequest, WriteHeaders),
    ("/tasks/{task_id}/heartbeat", "post"): (HeartbeatRequest, WriteHeaders),
    ("/tasks/{task_id}/result-upload", "post"): (ResultUploadRequest, WriteHeaders),
}


def _ok(body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)


@router.post("/tasks/<task_id>/complete", summary="Complete an async attempt (its token authenticates)")
def complete(task_id: str) -> Response[Any]:
    from tasklane.routes.writes import request_of

    request, _ = request_of(router, CompleteRequest)
    task_id = require_id(task_id)
    try:
        async_tasks.complete(task_id, request.token, request.result, services())
    except Unfinishable as exc:  # the result cannot be kept (too large): the task failed with it
        message = f"{exc.type}: {exc.message}; the task failed with this error"
        raise ValidationFailed("the result cannot be kept", [{"field": "result", "message": message}]) from None
    except ResultUploadInvalid as exc:  # nothing (readable) at the result_upload URL: the attempt goes on
        message = f"{exc.message}; PUT the result there, then complete again"
        raise ValidationFailed(
            "the uploaded result cannot be read", [{"field": "result", "message": message}]
        ) from None
    return _ok({"task_id": task_id, "status": "completed"})


@router.post("/tasks/<task_id>/fail", summary="Fail an async attempt (its token authenticates)")
def fail(task_id: str) -> Response[Any]:
    from tasklane.routes.writes import request_of

    request, _ = request_of(router, FailRequest)
    task_id = require_id(task_id)
    error = TaskError(type=request.error.type, message=request.error.message or request.error.type)
    retried = async_tasks.fail(task_id, request.token, error, request.retry, services())
    return _ok({"task_id": task_id, "status": "pending" if retried else "failed"})


@router.post("/tasks/<task_id>/heartbeat", summary="Keep an async attempt alive (its token authenticates)")
def heartbeat(task_id: str) -> Response[Any]:
    from tasklane.routes.writes import request_of

    request, _ = request_of(router, HeartbeatRequest)
    task_id = require_id(task_id)
    given = request.progress
    progress = Progress(given.percent, given.message) if given is not None else None
    lease = async_tasks.heartbeat(task_id, request.token, progress, services())
    return _ok({"task_id": task_id, "alive_until": lease})


@router.post(
    "/tasks/<task_id>/result-upload",
    summary="A fresh URL to PUT an async attempt's result to (its token authenticates)",
)
def result_upload(task_id: str) -> Response[Any]:
    from tasklane.routes.writes import request_of

    request, _ = request_of(router, ResultUploadRequest)
    task_id = require_id(task_id)
    upload, expires_at = async_tasks.result_upload(task_id, request.token, services())
    answer = {"url": upload.url, "method": upload.method, "max_bytes": upload.max_bytes, "expires_at": expires_at}
    return _ok({"task_id": task_id, **answer})
