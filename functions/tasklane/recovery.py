"""The two backstops: dead-lettered messages fail their task; the reconciler finds tasks left behind."""

from __future__ import annotations

from dataclasses import dataclass

from tasklane import clock
from tasklane.backend import Backend
from tasklane.execution import parse_message
from tasklane.models import TaskError, TaskMessage, TaskStatus
from tasklane.observability import logger, metrics_for
from tasklane.store import SweepEntry, TransitionRejected

MIN_RESEND_INTERVAL_SECONDS = 60


class StillRunning(Exception):
    """A dead-lettered task is running right now; its dead letter is looked at again later."""


def fail_dead_letter(body: str, backend: Backend) -> None:
    """Mark the task of a dead-lettered message failed, unless it already finished."""
    message = parse_message(body)
    if message is None:
        logger.error("malformed dead letter dropped", extra={"body_prefix": body[:200]})
        return
    logger.set_correlation_id(message.correlation_id)
    logger.append_keys(task_id=message.task_id)
    error = TaskError(
        type="DeadLettered",
        message=f"the lane delivered this task {backend.settings.max_receive_count} times without it finishing: "
        "the processor crashed or hit its Lambda timeout",
    )
    try:
        stored = backend.store.mark_failed(message.task_id, error, clock.now())
    except TransitionRejected as exc:
        if exc.stored is None or exc.stored.owner != message.owner:
            logger.error("dead letter for an unknown task dropped")
        elif exc.stored.task.status is TaskStatus.PROCESSING:
            # A run holds a live lease: let it finish; this record returns after the DLQ's visibility timeout.
            raise StillRunning(message.task_id) from None
        else:
            logger.info("dead letter of a finished task acknowledged", extra={"status": exc.stored.task.status.value})
        return
    metrics_for(stored.task.priority, stored.task.task_type).add_count("TaskDeadLettered")
    logger.warning("task failed from its dead-letter queue")


@dataclass
class SweepReport:
    requeued: int = 0
    failed: int = 0
    skipped: int = 0


def reconcile(backend: Backend) -> SweepReport:
    """Re-send tasks left pending past their due time; fail tasks stuck processing past their deadline.

    Each action first wins a conditional write, so concurrent or repeated runs act once per task.
    """
    report = SweepReport()
    now = clock.now()
    now_epoch = clock.epoch(now)
    for shard in range(backend.store.sweep_shards):
        for entry in backend.store.due_for_sweep(str(shard), now_epoch):
            if entry.status is TaskStatus.PENDING:
                _requeue(entry, backend, now_epoch, report)
            elif entry.status is TaskStatus.PROCESSING:
                _fail_stuck(entry, backend, report)
    logger.info("reconciled", extra={"requeued": report.requeued, "failed": report.failed, "skipped": report.skipped})
    return report


def _requeue(entry: SweepEntry, backend: Backend, now: int, report: SweepReport) -> None:
    # Look again after as long as the task has waited: a deep backlog is not re-sent every run.
    age = now - clock.epoch(entry.created_at)
    if not backend.store.claim_sweep(
        entry, now + max(MIN_RESEND_INTERVAL_SECONDS, backend.settings.pending_grace_seconds, age)
    ):
        report.skipped += 1
        return
    message = TaskMessage(
        task_id=entry.task_id, owner=entry.owner, attempt=entry.attempts + 1, correlation_id=entry.correlation_id
    )
    backend.queues.send(entry.priority, message)
    metrics_for(entry.priority, entry.task_type).add_count("TaskRequeued")
    logger.info("pending task queued again", extra={"task_id": entry.task_id})
    report.requeued += 1


def _fail_stuck(entry: SweepEntry, backend: Backend, report: SweepReport) -> None:
    error = TaskError(type="TaskStuck", message="no result by the deadline and no redelivery: the run was lost")
    try:
        backend.store.mark_failed(entry.task_id, error, clock.now(), attempt=entry.attempts)
    except TransitionRejected:
        report.skipped += 1
        return
    report.failed += 1
