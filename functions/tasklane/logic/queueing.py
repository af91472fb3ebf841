"""Queueing a stored task: send its lane message, or leave it to the reconciler when the send fails."""

from __future__ import annotations

from typing import Protocol

from tasklane.data.queues import QueueUnavailable
from tasklane.data.services import HasQueues, HasStore
from tasklane.data.tasks.codec import StoredTask
from tasklane.data.tasks.table import StoreUnavailable, TransitionRejected
from tasklane.model import clock
from tasklane.model.lanes import Lane
from tasklane.model.message import TaskMessage
from tasklane.model.task import Task
from tasklane.observability import logger
from tasklane.records import record


class Queueing(HasQueues, HasStore, Protocol):
    """What queueing touches: the lane queues, and the tasks table to note a task whose send failed."""


@record
class Accepted:
    """A queued task; `queued` is False when the send failed and the reconciler will send it."""

    task: Task
    queued: bool


def queue(services: Queueing, stored: StoredTask, correlation_id: str | None, delay: int = 0) -> bool:
    """Send the task's next message; when the send fails, leave it to the reconciler (False)."""
    message = TaskMessage.for_task(stored.task, stored.owner, correlation_id)
    try:
        services.queues.send(stored.task.priority, message, delay)
    except QueueUnavailable:
        logger.exception("send failed; the reconciler will queue the task", extra={"task_id": stored.task.task_id})
        note_unsent(services, [stored.task.task_id])
        return False
    return True


def send_by_lane(services: Queueing, by_lane: dict[Lane, list[tuple[TaskMessage, int]]]) -> list[str]:
    """Send each lane's messages (with their delays) in batches; the ids of the tasks whose send failed,
    noted for the reconciler, which sends them on its next run."""
    unsent_all: list[str] = []
    for lane, messages in by_lane.items():
        try:
            unsent = services.queues.send_many(lane, messages)
        except QueueUnavailable:
            unsent = [m.task_id for m, _ in messages]
        if unsent:
            logger.warning("sends failed; the reconciler will queue these tasks", extra={"task_ids": unsent})
            note_unsent(services, unsent)
            unsent_all += unsent
    return unsent_all


def note_unsent(services: HasStore, task_ids: list[str]) -> None:
    """Best effort: tell the reconciler these tasks have no message, so it sends them on its next run."""
    now = clock.now()
    for task_id in task_ids:
        try:
            services.store.mark_unsent(task_id, now)
        except (StoreUnavailable, TransitionRejected):
            logger.warning(
                "could not note the failed send; the reconciler finds the task later", extra={"task_id": task_id}
            )
