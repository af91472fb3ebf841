"""What callers can do with their tasks: read, list, cancel, retry. Plain functions over Backend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane import clock, cursor
from tasklane.backend import Backend
from tasklane.domain import Task, TaskMessage, TaskPage, TaskResult, TaskStatus
from tasklane.errors import (
    BadRequest,
    InvalidTransition,
    ResultNotReady,
    TaskFailed,
    TasklaneError,
    TaskNotFound,
)
from tasklane.ids import is_task_id
from tasklane.observability import count, logger
from tasklane.store import StoredTask, TransitionRejected


@dataclass(frozen=True)
class Accepted:
    """A queued task; `queued` is False when the send failed and the reconciler will send it."""

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


def pending_sweep_at(backend: Backend, now: datetime, delay: int) -> int:
    return clock.epoch(now) + delay + backend.settings.pending_grace_seconds


def lane_message(task: Task, owner: str, correlation_id: str | None) -> TaskMessage:
    return TaskMessage(
        task_id=task.task_id,
        owner=owner,
        attempt=task.attempts + 1,
        correlation_id=correlation_id,
        timeout_seconds=task.timeout_seconds,
    )


def note_unsent(backend: Backend, task_ids: list[str]) -> None:
    """Best effort: tell the reconciler these tasks have no message, so it sends them on its next run."""
    now = clock.epoch(clock.now())
    for task_id in task_ids:
        try:
            backend.store.mark_unsent(task_id, now)
        except (ClientError, BotoCoreError, TransitionRejected):
            logger.warning(
                "could not note the failed send; the reconciler finds the task later", extra={"task_id": task_id}
            )


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
        error = {"type": task.error.type, "message": task.error.message} if task.error else None
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
        stored = backend.store.requeue(task_id, owner, now, pending_sweep_at(backend, now, 0), correlation_id)
    except TransitionRejected as exc:
        raise _rejected(task_id, owner, exc, "retry") from None
    task = stored.task
    queued = True
    try:
        backend.queues.send(task.priority, lane_message(task, owner, correlation_id))
    except (ClientError, BotoCoreError):
        logger.exception("send failed; the reconciler will queue the task", extra={"task_id": task_id})
        queued = False
        note_unsent(backend, [task_id])
    count(task.priority, task.task_type, "TaskRetried")
    return Accepted(task, queued)
