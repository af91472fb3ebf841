"""What callers can change of their tasks: cancel a pending one, retry a failed or cancelled one."""

from __future__ import annotations

from datetime import datetime
from math import ceil
from typing import Protocol

from tasklane.data.bucket import ValueMissing
from tasklane.data.services import HasSettings
from tasklane.data.tasks.caller_changes import LaterStart
from tasklane.data.tasks.table import TransitionRejected
from tasklane.logic.queries import TaskReads, owned, require_id, view
from tasklane.logic.queueing import Accepted, Queueing, queue
from tasklane.model import clock
from tasklane.model.errors import InvalidTransition, TasklaneError, TaskNotFound, WorkflowTaskLocked
from tasklane.model.task import Task, TaskStatus
from tasklane.observability import count


class Retrying(TaskReads, Queueing, HasSettings, Protocol):
    """What a retry touches: the tasks table, the values bucket (a payload kept longer), the lane queues."""


def _rejected(task_id: str, owner: str, exc: TransitionRejected, action: str) -> TasklaneError:
    if exc.stored is None or not exc.stored.belongs_to(owner):
        return TaskNotFound(task_id)
    if exc.stored.task.workflow_id is not None:
        return WorkflowTaskLocked(task_id, exc.stored.task.workflow_id, action)
    return InvalidTransition(task_id, exc.stored.task.status.value, action)


def cancel_task(task_id: str, owner: str, services: TaskReads) -> Task:
    """pending or scheduled → cancelled; a task already picked up cannot be cancelled."""
    task_id = require_id(task_id)
    try:
        stored = services.store.cancel(task_id, owner, clock.now())
    except TransitionRejected as exc:
        raise _rejected(task_id, owner, exc, "cancel") from None
    count(stored.task.priority, stored.task.task_type, "TaskCancelled")
    return view(stored, services)


def _still_ahead(task: Task, now: datetime) -> datetime | None:
    """The run_at of a cancelled task that has not come yet: its retry waits for it again."""
    if task.status is not TaskStatus.CANCELLED or task.run_at is None:
        return None
    start_at = datetime.fromisoformat(task.run_at)
    return start_at if start_at > now else None


def retry_task(task_id: str, owner: str, services: Retrying, correlation_id: str) -> Accepted:
    """failed | cancelled → pending, with a fresh budget of attempts, and queue it again."""
    task_id = require_id(task_id)
    current = owned(services, owner, task_id)
    if current.task.workflow_id is not None:
        # Decided: a workflow's task is not retried on its own (its workflow has moved on without it).
        raise WorkflowTaskLocked(task_id, current.task.workflow_id, "retry")
    if current.payload_key and current.task.status in (TaskStatus.FAILED, TaskStatus.CANCELLED):
        try:
            services.values.renew(current.payload_key)
        except ValueMissing:
            raise InvalidTransition(task_id, "expired", "retry") from None
    now = clock.now()
    start_at = _still_ahead(current.task, now)
    delay = ceil((start_at - now).total_seconds()) if start_at else 0
    scheduled = delay > services.settings.queue_delay_horizon_seconds
    try:
        later = LaterStart(start_at, scheduled) if start_at else None
        stored = services.store.reopen(task_id, owner, now, correlation_id, later)
    except TransitionRejected as exc:
        raise _rejected(task_id, owner, exc, "retry") from None
    # A scheduled task has no message until the promoter queues it when it is due.
    queued = True if scheduled else queue(services, stored, correlation_id, delay)
    count(stored.task.priority, stored.task.task_type, "TaskRetried")
    return Accepted(view(stored, services), queued)
