"""What callers can do with tasks: submit, read, list, cancel, retry. Plain functions over Backend."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from tasklane import clock, cursor
from tasklane.backend import Backend
from tasklane.errors import (
    BadRequest,
    InvalidTransition,
    PayloadTooLarge,
    ResultNotReady,
    TaskFailed,
    TasklaneError,
    TaskNotFound,
    ValidationFailed,
)
from tasklane.ids import is_task_id, new_task_id
from tasklane.lanes import Lane
from tasklane.models import MAX_PAYLOAD_BYTES, SubmitRequest, Task, TaskMessage, TaskPage, TaskResult, TaskStatus
from tasklane.observability import count, logger
from tasklane.registry import get_task_type
from tasklane.store import StoredTask, TransitionRejected


@dataclass(frozen=True)
class Accepted:
    """A submitted task; `queued` is False when the send failed and the reconciler will send it."""

    task: Task
    queued: bool


def _require_id(task_id: str) -> None:
    if not is_task_id(task_id):
        raise BadRequest(f"malformed task id {task_id!r}: expected a UUID", {"field": "task_id"})


def _owned(backend: Backend, owner: str, task_id: str) -> StoredTask:
    _require_id(task_id)
    stored = backend.store.get(task_id)
    if stored is None or stored.owner != owner:
        raise TaskNotFound(task_id)
    return stored


def prepare(request: SubmitRequest, backend: Backend, now: datetime) -> Task:
    """Check a submission against its task type and limits; the pending Task it becomes."""
    size = len(json.dumps(request.payload, separators=(",", ":")).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}",
            {"field": "payload", "limit": MAX_PAYLOAD_BYTES},
        )
    task_type = get_task_type(request.task_type)
    payload = task_type.parse_payload(request.payload)
    limit = backend.settings.max_task_timeout_seconds
    # A type's default is capped by this deployment's limit; an explicit request above it is an error.
    timeout = request.timeout_seconds or min(task_type.timeout_seconds, limit)
    if timeout > limit:
        raise ValidationFailed(
            "timeout_seconds is above the processor's limit",
            [{"field": "timeout_seconds", "message": f"must be at most {limit}"}],
        )
    return Task(
        task_id=new_task_id(),
        task_type=task_type.name,
        priority=request.priority,
        status=TaskStatus.PENDING,
        payload=payload.model_dump(mode="json"),
        max_attempts=request.max_attempts or task_type.max_attempts,
        timeout_seconds=timeout,
        delay_seconds=request.delay_seconds,
        created_at=now,
        updated_at=now,
    )


def _pending_sweep_at(backend: Backend, now: datetime, delay: int) -> int:
    return clock.epoch(now) + delay + backend.settings.pending_grace_seconds


def _message(task: Task, owner: str, correlation_id: str | None) -> TaskMessage:
    return TaskMessage(
        task_id=task.task_id,
        owner=owner,
        attempt=task.attempts + 1,
        correlation_id=correlation_id,
        timeout_seconds=task.timeout_seconds,
    )


def submit_task(request: SubmitRequest, owner: str, backend: Backend, correlation_id: str | None) -> Accepted:
    """Store the task, then queue its message; a failed send is left to the reconciler."""
    now = clock.now()
    task = prepare(request, backend, now)
    item = backend.store.new_item(task, owner, correlation_id, _pending_sweep_at(backend, now, task.delay_seconds))
    backend.store.put_new(item)
    queued = True
    try:
        backend.queues.send(task.priority, _message(task, owner, correlation_id), task.delay_seconds)
    except (ClientError, BotoCoreError):
        logger.exception("send failed; the reconciler will queue the task", extra={"task_id": task.task_id})
        queued = False
        _note_unsent(backend, [task.task_id])
    count(task.priority, task.task_type, "TaskSubmitted")
    return Accepted(task, queued)


def submit_batch(items: list[Any], owner: str, backend: Backend, correlation_id: str | None) -> list[dict[str, Any]]:
    """Accept the valid items of a batch in bulk writes; answer per item, in order."""
    now = clock.now()
    results: list[dict[str, Any]] = [{} for _ in items]
    accepted: list[tuple[int, Task]] = []
    for index, raw in enumerate(items):
        try:
            accepted.append((index, prepare(SubmitRequest.model_validate(raw), backend, now)))
        except ValidationError as exc:
            results[index] = {"index": index, "error": _validation_error(exc)}
        except TasklaneError as exc:
            results[index] = {"index": index, "error": error_body(exc)}
    sweep = {i: _pending_sweep_at(backend, now, t.delay_seconds) for i, t in accepted}
    items = [backend.store.new_item(t, owner, correlation_id, sweep[i], sequence=i) for i, t in accepted]
    unwritten = set(backend.store.put_many(items))
    by_lane: dict[Lane, list[tuple[TaskMessage, int]]] = {}
    submitted: Counter[tuple[Lane, str]] = Counter()
    for index, task in accepted:
        if task.task_id in unwritten:
            results[index] = {
                "index": index,
                "error": {
                    "code": "not_stored",
                    "message": "the task could not be stored; submit it again",
                    "details": None,
                },
            }
            continue
        results[index] = {"index": index, "task": task.public()}
        by_lane.setdefault(task.priority, []).append((_message(task, owner, correlation_id), task.delay_seconds))
        submitted[(task.priority, task.task_type)] += 1
    for (lane, task_type), n in submitted.items():
        count(lane, task_type, "TaskSubmitted", n)
    for lane, messages in by_lane.items():
        try:
            unsent = backend.queues.send_many(lane, messages)
        except (ClientError, BotoCoreError):
            unsent = [m.task_id for m, _ in messages]
        if unsent:
            logger.warning("sends failed; the reconciler will queue these tasks", extra={"task_ids": unsent})
            _note_unsent(backend, unsent)
    return results


def _note_unsent(backend: Backend, task_ids: list[str]) -> None:
    """Best effort: tell the reconciler these tasks have no message, so it sends them on its next run."""
    now = clock.epoch(clock.now())
    for task_id in task_ids:
        try:
            backend.store.mark_unsent(task_id, now)
        except (ClientError, BotoCoreError, TransitionRejected):
            logger.warning(
                "could not note the failed send; the reconciler finds the task later", extra={"task_id": task_id}
            )


def _validation_error(exc: ValidationError) -> dict[str, Any]:
    details = [
        {"field": ".".join(map(str, err["loc"])) or "task", "message": err["msg"]}
        for err in exc.errors(include_url=False)
    ]
    return {"code": ValidationFailed.code, "message": "the task is not valid", "details": details}


def error_body(exc: TasklaneError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "details": exc.details}


def get_task(task_id: str, owner: str, backend: Backend) -> Task:
    return _owned(backend, owner, task_id).task


def get_result(task_id: str, owner: str, backend: Backend) -> TaskResult:
    task = _owned(backend, owner, task_id).task
    if task.status is TaskStatus.COMPLETED:
        return TaskResult(task_id=task_id, result=task.result)
    details = {"task_id": task_id, "status": task.status.value}
    if task.status is TaskStatus.FAILED:
        error = task.error.model_dump() if task.error else None
        raise TaskFailed(f"task {task_id} failed", {**details, "error": error})
    raise ResultNotReady(f"task {task_id} is {task.status.value}; it has no result yet", details)


def list_tasks(
    owner: str,
    backend: Backend,
    *,
    limit: int,
    cursor_text: str | None,
    status: TaskStatus | None,
    task_type: str | None,
) -> TaskPage:
    before = cursor.decode(cursor_text)
    found, position = backend.store.list_by_owner(owner, limit=limit, before=before, status=status, task_type=task_type)
    return TaskPage(items=[s.task for s in found], next_cursor=cursor.encode(position))


def _rejected(task_id: str, owner: str, exc: TransitionRejected, action: str) -> TasklaneError:
    if exc.current is None or exc.owner != owner:
        return TaskNotFound(task_id)
    return InvalidTransition(task_id, exc.current.status.value, action)


def cancel_task(task_id: str, owner: str, backend: Backend) -> Task:
    """pending → cancelled; a task already picked up cannot be cancelled."""
    _require_id(task_id)
    try:
        stored = backend.store.cancel(task_id, owner, clock.now())
    except TransitionRejected as exc:
        raise _rejected(task_id, owner, exc, "cancel") from None
    count(stored.task.priority, stored.task.task_type, "TaskCancelled")
    return stored.task


def retry_task(task_id: str, owner: str, backend: Backend, correlation_id: str) -> Accepted:
    """failed | cancelled → pending, with a fresh budget of attempts, and queue it again."""
    _require_id(task_id)
    now = clock.now()
    try:
        stored = backend.store.requeue(task_id, owner, now, _pending_sweep_at(backend, now, 0), correlation_id)
    except TransitionRejected as exc:
        raise _rejected(task_id, owner, exc, "retry") from None
    task = stored.task
    queued = True
    try:
        backend.queues.send(task.priority, _message(task, owner, correlation_id))
    except (ClientError, BotoCoreError):
        logger.exception("send failed; the reconciler will queue the task", extra={"task_id": task_id})
        queued = False
        _note_unsent(backend, [task_id])
    count(task.priority, task.task_type, "TaskRetried")
    return Accepted(task, queued)
