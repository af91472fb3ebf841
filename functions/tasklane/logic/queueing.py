"""Queueing a stored task: send its lane message, or leave it to the reconciler when the send fails."""

from __future__ import annotations

from dataclasses import dataclass

from tasklane.data.items import StoredTask
from tasklane.data.queues import QueueUnavailable
from tasklane.data.services import Services
from tasklane.data.table import StoreUnavailable, TransitionRejected
from tasklane.model import clock
from tasklane.model.message import TaskMessage
from tasklane.model.task import Task
from tasklane.observability import logger


@dataclass(frozen=True)
class Accepted:
    """A queued task; `queued` is False when the send failed and the reconciler will send it."""

    task: Task
    queued: bool


def queue(services: Services, stored: StoredTask, correlation_id: str | None, delay: int = 0) -> bool:
    """Send the task's next message; when the send fails, leave it to the reconciler (False)."""
    message = TaskMessage.for_task(stored.task, stored.owner, correlation_id)
    try:
        services.queues.send(stored.task.priority, message, delay)
    except QueueUnavailable:
        logger.exception("send failed; the reconciler will queue the task", extra={"task_id": stored.task.task_id})
        note_unsent(services, [stored.task.task_id])
        return False
    return True


def note_unsent(services: Services, task_ids: list[str]) -> None:
    """Best effort: tell the reconciler these tasks have no message, so it sends them on its next run."""
    now = clock.epoch(clock.now())
    for task_id in task_ids:
        try:
            services.store.mark_unsent(task_id, now)
        except (StoreUnavailable, TransitionRejected):
            logger.warning(
                "could not note the failed send; the reconciler finds the task later", extra={"task_id": task_id}
            )
