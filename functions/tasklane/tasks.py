"""What callers can do with their tasks: read, list, cancel, retry. Plain functions over Backend."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from tasklane import clock, cursor
from tasklane.backend import Backend
from tasklane.domain import Task, TaskMessage, TaskPage, TaskStatus
from tasklane.errors import (
    BadRequest,
    InvalidTransition,
    ResultNotReady,
    TaskFailed,
    TasklaneError,
    TaskNotFound,
)
from tasklane.ids import is_task_id
from tasklane.limits import MAX_INLINE_ANSWER_BYTES
from tasklane.observability import count, logger
from tasklane.queue import QueueUnavailable
from tasklane.store import StoredTask, StoreUnavailable, TransitionRejected
from tasklane.value_store import ValueMissing


@dataclass(frozen=True)
class Accepted:
    """A queued task; `queued` is False when the send failed and the reconciler will send it."""

    task: Task
    queued: bool


@dataclass(frozen=True)
class ResultAnswer:
    """A completed task's result: its JSON text to answer inline, or the URL to send the caller to."""

    task_id: str
    json_text: str | None = None
    url: str | None = None
    size: int | None = None


def _require_id(task_id: str) -> None:
    if not is_task_id(task_id):
        raise BadRequest(f"malformed task id {task_id!r}: expected a UUID", {"field": "task_id"})


def owned(backend: Backend, owner: str, task_id: str) -> StoredTask:
    """The caller's task; another caller's task is as unknown as a missing one."""
    _require_id(task_id)
    stored = backend.store.get(task_id)
    if stored is None or stored.owner != owner:
        raise TaskNotFound(task_id)
    return stored


def view(stored: StoredTask, backend: Backend) -> Task:
    """The task as its owner sees it: large values as short-lived URLs."""
    task = stored.task
    if stored.payload_key:
        task = replace(task, payload_url=backend.values.url(stored.payload_key))
    if stored.result_key:
        task = replace(task, result_url=backend.values.url(stored.result_key))
    return task


def queue(backend: Backend, stored: StoredTask, correlation_id: str | None, delay: int = 0) -> bool:
    """Send the task's next message; when the send fails, leave it to the reconciler (False)."""
    message = TaskMessage.for_task(stored.task, stored.owner, correlation_id)
    try:
        backend.queues.send(stored.task.priority, message, delay)
    except QueueUnavailable:
        logger.exception("send failed; the reconciler will queue the task", extra={"task_id": stored.task.task_id})
        note_unsent(backend, [stored.task.task_id])
        return False
    return True


def note_unsent(backend: Backend, task_ids: list[str]) -> None:
    """Best effort: tell the reconciler these tasks have no message, so it sends them on its next run."""
    now = clock.epoch(clock.now())
    for task_id in task_ids:
        try:
            backend.store.mark_unsent(task_id, now)
        except (StoreUnavailable, TransitionRejected):
            logger.warning(
                "could not note the failed send; the reconciler finds the task later", extra={"task_id": task_id}
            )


def get_task(task_id: str, owner: str, backend: Backend) -> Task:
    return view(owned(backend, owner, task_id), backend)


def get_result(task_id: str, owner: str, backend: Backend) -> ResultAnswer:
    """The result inline while its answer fits in a Lambda response, else the URL of its object."""
    stored = owned(backend, owner, task_id)
    task = stored.task
    if task.status is TaskStatus.COMPLETED:
        if stored.result_key is None:
            return ResultAnswer(task_id, json_text=json.dumps(task.result, separators=(",", ":"), ensure_ascii=False))
        size = task.result_size or 0
        if size <= MAX_INLINE_ANSWER_BYTES:
            try:
                text = backend.values.get(stored.result_key).decode()
            except ValueMissing:
                raise ResultNotReady(f"the result of task {task_id} has expired", {"task_id": task_id}) from None
            # The answer's body is escaped once more inside the Lambda response (up to 3x for
            # non-ASCII text): measure it as it will travel.
            if len(json.dumps(text)) <= MAX_INLINE_ANSWER_BYTES:
                return ResultAnswer(task_id, json_text=text, size=size)
        return ResultAnswer(task_id, url=backend.values.url(stored.result_key), size=size)
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
    return view(stored, backend)


def retry_task(task_id: str, owner: str, backend: Backend, correlation_id: str) -> Accepted:
    """failed | cancelled → pending, with a fresh budget of attempts, and queue it again."""
    _require_id(task_id)
    current = owned(backend, owner, task_id)
    if current.payload_key and current.task.status in (TaskStatus.FAILED, TaskStatus.CANCELLED):
        try:
            backend.values.renew(current.payload_key)
        except ValueMissing:
            raise InvalidTransition(task_id, "expired", "retry") from None
    try:
        stored = backend.store.reopen(task_id, owner, clock.now(), correlation_id)
    except TransitionRejected as exc:
        raise _rejected(task_id, owner, exc, "retry") from None
    queued = queue(backend, stored, correlation_id)
    count(stored.task.priority, stored.task.task_type, "TaskRetried")
    return Accepted(view(stored, backend), queued)
