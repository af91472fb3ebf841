"""POST /tasks, POST /tasks/batch, DELETE /tasks/{task_id}, POST /tasks/{task_id}/retry.

Each route validates its body and headers with their pydantic models itself (model/requests.py), so
the submit function runs without Powertools' validation layer; REQUESTS declares those models per
route, and the OpenAPI document is generated from the same declaration (routes/api.py).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from tasklane.data.services import services
from tasklane.limits import MAX_BATCH_BODY_BYTES
from tasklane.logic import commands, queries, submission
from tasklane.logic.queueing import Accepted
from tasklane.model import values
from tasklane.model.errors import BadRequest, PayloadTooLarge
from tasklane.model.requests import BatchRequest, BatchResponse, Model, SubmitRequest, WriteHeaders, parse_request
from tasklane.model.task import Task, summary
from tasklane.routes.http import caller, correlation_id, require_json

router = Router()

# The body and headers of each route that takes them: what the route validates, and what the
# OpenAPI document says it takes.
REQUESTS: dict[tuple[str, str], tuple[type[Model], type[Model]]] = {
    ("/tasks", "post"): (SubmitRequest, WriteHeaders),
    ("/tasks/batch", "post"): (BatchRequest, WriteHeaders),
}


def _request[M: Model](shape: type[M]) -> tuple[M, str | None]:
    return request_of(router, shape)


def request_of[M: Model](router: Router, shape: type[M]) -> tuple[M, str | None]:
    """The route's body as `shape` and its Idempotency-Key: 415 unless JSON, 400 unless it parses,
    422 naming every field that does not validate."""
    require_json(router)
    event = router.current_event
    try:
        body = event.json_body if event.body else None  # parsed by tasklane.model.values.loads
    except UnicodeDecodeError:
        raise
    except ValueError:
        raise BadRequest("the body is not valid JSON") from None
    request, headers = parse_request(shape, body, event.headers or {})
    return request, headers.idempotency_key


def _accepted(task: Task, queued: bool, location: str) -> Response[Any]:
    """202 with the task. Its Location is relative to the request's own URL (RFC 9110 allows it), so it
    resolves under whatever prefix the stage is served at: `/v1` on AWS, a longer path on the local stack."""
    headers = {"Location": location}
    if not queued:
        headers["Tasklane-Queued"] = "false"  # stored; the reconciler queues it within minutes
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=task.public(), headers=headers)


@router.post("/tasks", summary="Submit a task", responses={202: {"description": "The accepted task"}})
def submit() -> Response[Task]:
    request, idempotency_key = _request(SubmitRequest)
    owner, cid = caller(router), correlation_id(router)
    if idempotency_key is None:
        accepted = submission.submit_task(request, owner, services(), cid)
        return _accepted(accepted.task, accepted.queued, f"tasks/{accepted.task.task_id}")  # from /tasks
    from tasklane.data.idempotency import Replayable, once  # only requests with an Idempotency-Key load it

    done: list[Accepted] = []
    replayable = Replayable("submit", owner, idempotency_key, values.fingerprint(request.model_dump(mode="json")))

    def accept() -> dict[str, Any]:
        done.append(submission.submit_keyed(request, services(), cid, replayable))
        return {"task_id": done[0].task.task_id, "queued": done[0].queued}

    record, _ = once(replayable, accept, router.lambda_context)
    if done:
        return _accepted(done[0].task, done[0].queued, f"tasks/{done[0].task.task_id}")
    return _accepted(
        queries.get_task(record["task_id"], owner, services()), record["queued"], f"tasks/{record['task_id']}"
    )


@router.post("/tasks/batch", summary="Submit up to 100 tasks", responses={202: {"description": "One result per item"}})
def submit_batch() -> Response[BatchResponse]:
    request, idempotency_key = _request(BatchRequest)
    size = len((router.current_event.body or "").encode())
    if size > MAX_BATCH_BODY_BYTES:
        raise PayloadTooLarge(
            f"batch body is {size} bytes; the limit is {MAX_BATCH_BODY_BYTES}", {"limit": MAX_BATCH_BODY_BYTES}
        )
    owner, cid = caller(router), correlation_id(router)
    if idempotency_key is None:
        results = submission.submit_batch(request.tasks, owner, services(), cid)
    else:
        from tasklane.data.idempotency import Replayable, once  # only requests with an Idempotency-Key load it

        done: list[list[dict[str, Any]]] = []
        replayable = Replayable("batch", owner, idempotency_key, values.fingerprint(request.tasks))

        def accept() -> dict[str, Any]:
            done.append(submission.submit_batch(request.tasks, owner, services(), cid, replayable))
            return {"results": [_record(r) for r in done[0]]}

        record, _ = once(replayable, accept, router.lambda_context)
        results = done[0] if done else _replay(record["results"], owner)
    answer: Response[Any] = Response(202, content_types.APPLICATION_JSON, body={"results": results})
    return answer


def _record(result: dict[str, Any]) -> dict[str, Any]:
    """What an idempotency record keeps of one batch result: the task's id (also for a task whose
    write could not be confirmed: the replay looks it up), or the item's error without its details,
    which echo the request and would let a record pass DynamoDB's 400 KB."""
    if "task" in result:
        return {"index": result["index"], "task_id": result["task"]["task_id"]}
    error = result["error"]
    if error["code"] == "not_confirmed":
        return {"index": result["index"], "task_id": error["details"]["task_id"]}
    return {"index": result["index"], "error": {"code": error["code"], "message": error["message"], "details": None}}


def _replay(records: list[dict[str, Any]], owner: str) -> list[dict[str, Any]]:
    """The answer of a replayed batch, read afresh: each task as it is now."""
    found = services().store.get_many([r["task_id"] for r in records if "task_id" in r])
    results = []
    for r in records:
        stored = found.get(r.get("task_id", ""))
        if "task_id" not in r:
            results.append(r)
        elif stored is None or not stored.belongs_to(owner):
            results.append({"index": r["index"], "error": submission.NOT_STORED})
        else:
            results.append({"index": r["index"], "task": summary(stored.task).public()})
    return results


@router.delete("/tasks/<task_id>", summary="Cancel a pending task")
def cancel(task_id: str) -> Response[Task]:
    task = commands.cancel_task(task_id, caller(router), services())
    answer: Response[Any] = Response(200, content_types.APPLICATION_JSON, body=task.public())
    return answer


@router.post("/tasks/<task_id>/retry", summary="Retry a failed or cancelled task")
def retry(task_id: str) -> Response[Task]:
    accepted = commands.retry_task(task_id, caller(router), services(), correlation_id(router))
    return _accepted(accepted.task, accepted.queued, f"../{accepted.task.task_id}")  # from /tasks/{id}/retry
