"""The two backstops: dead-lettered messages fail their task; the reconciler finds tasks left behind."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

from tasklane.data.queues import QueueUnavailable
from tasklane.data.services import HasIndexes, HasSettings
from tasklane.data.tasks.codec import StoredTask
from tasklane.data.tasks.table import TransitionRejected
from tasklane.logic import workflows
from tasklane.logic.queueing import Queueing, note_unsent
from tasklane.model import clock
from tasklane.model.errors import ServiceUnavailable
from tasklane.model.lanes import Lane
from tasklane.model.message import TaskMessage, parse_message
from tasklane.model.task import DEAD_LETTERED, TaskError, TaskStatus
from tasklane.observability import count, logger

# Only the reconciler reads the sweep index (through services.indexes); the dead-letter function does not.
if TYPE_CHECKING:
    from tasklane.data.tasks.indexes import SweepEntry

MIN_RESEND_INTERVAL_SECONDS = 60
# A pending task older than this is re-sent even while its lane is busy: its message may be lost.
LOST_AFTER_SECONDS = 3600
# How many times a dead-lettered task that never ran is given a fresh message before it is failed.
MAX_REDRIVES = 3


class DeadLettering(Queueing, HasSettings, Protocol):
    """What settling a dead letter touches: the tasks table, the lane queues (a redrive), the settings."""


class Reconciling(DeadLettering, HasIndexes, Protocol):
    """What the reconciler touches: the Sweep index, the tasks table, the lane queues, the settings."""


class StillRunning(Exception):
    """A dead-lettered task is running right now; its dead letter is looked at again later."""


def handle_dead_letter(body: str, services: DeadLettering) -> None:
    """Settle the task of a dead-lettered message.

    A task that never ran (still pending: its deliveries were deferred or expired unclaimed) is queued
    again on a fresh message, at most MAX_REDRIVES times. A task whose runs kept dying (processing,
    lease over) is failed with the reason. A task running right now is looked at again later, and a
    finished one is left as it is.
    """
    message = parse_message(body)
    if message is None:
        logger.error("malformed dead letter dropped", extra={"body_prefix": body[:200]})
        return
    logger.set_correlation_id(message.correlation_id)
    logger.append_keys(task_id=message.task_id)
    try:
        stored = services.store.redrive(message.task_id, message.owner, clock.now(), MAX_REDRIVES)
    except TransitionRejected as exc:
        _settle(exc.stored, message, services)
        return
    task = stored.task
    services.queues.send(task.priority, TaskMessage.for_task(task, stored.owner, message.correlation_id))
    count(task.priority, task.task_type, "TaskRedriven")
    logger.warning("dead-lettered before it ever ran: queued again on a fresh message")


def _settle(stored: StoredTask | None, message: TaskMessage, services: DeadLettering) -> None:
    if stored is None or not stored.belongs_to(message.owner):
        logger.error("dead letter for an unknown task dropped")
        return
    status = stored.task.status
    if status.finished or status is TaskStatus.SCHEDULED:
        # A scheduled task has no message until it is promoted: this one is stale, and the task's
        # own time stands.
        logger.info("dead letter of a finished or scheduled task acknowledged", extra={"status": status.value})
        return
    if status is TaskStatus.PROCESSING and (stored.lease_until or 0) >= clock.epoch(clock.now()):
        # A run holds a live lease: let it finish; this record returns after the DLQ's visibility timeout.
        raise StillRunning(message.task_id)
    receives = services.settings.max_receive_count
    task = stored.task
    reason = (
        f"the processor stopped without an outcome (a crash or the Lambda timeout): its lane gave up on the "
        f"task's message after {receives} deliveries, which started {task.attempts} of its {task.max_attempts} "
        f"attempts (a delivery that finds a run still holding the task starts none)"
        if status is TaskStatus.PROCESSING
        else f"delivered {receives} times on each of {MAX_REDRIVES + 1} messages without ever being claimed"
    )
    fan_in = workflows.fan_in(stored, stored.task.attempts, failed=True)
    try:
        failed = services.store.mark_failed(
            message.task_id, TaskError(type=DEAD_LETTERED, message=reason), clock.now(), fan_in=fan_in
        )
    except TransitionRejected as exc:
        _settle(exc.stored, message, services)
        return
    count(failed.task.priority, failed.task.task_type, "TaskDeadLettered")
    logger.warning("task failed from its dead-letter queue", extra={"reason": reason})
    if fan_in is not None:
        workflows.moves_on(failed, services, failed=True)


@dataclass
class SweepReport:
    """What one reconciler run did, in counts."""

    requeued: int = 0
    failed: int = 0
    skipped: int = 0
    waiting: int = 0  # due, but their lane is busy: most likely still queued
    errors: int = 0  # an AWS call failed for this task; it is looked at again on the next run


def reconcile(services: Reconciling) -> SweepReport:
    """Re-send tasks left pending past their due time; fail tasks stuck processing past their deadline.

    Each action first wins a conditional write, so concurrent or repeated runs act once per task.
    """
    report = SweepReport()
    now = clock.now()
    now_epoch = clock.epoch(now)
    backlog: dict[Lane, int] = {}
    for shard in range(services.indexes.sweep_shards):
        try:
            due = services.indexes.due_for_sweep(str(shard), now_epoch)
        except ServiceUnavailable:
            logger.exception("reading a shard of due tasks failed; the next run reads it", extra={"shard": shard})
            report.errors += 1
            continue
        for entry in due:
            # One task's failed call must not stop the run: the others are as overdue.
            try:
                if entry.status is TaskStatus.PENDING:
                    if entry.priority not in backlog:
                        backlog[entry.priority] = services.queues.waiting(entry.priority)
                    _resend(entry, services, now_epoch, backlog[entry.priority], report)
                elif entry.status is TaskStatus.PROCESSING:
                    _check_running(entry, services, now_epoch, report)
            except ServiceUnavailable:
                logger.exception("reconciling a task failed; it stays due", extra={"task_id": entry.task_id})
                report.errors += 1
    from tasklane.logic.workflows.repair import repair_workflows

    logger.info("reconciled", extra=asdict(report) | {"workflows": asdict(repair_workflows(services))})
    return report


def _resend(entry: SweepEntry, services: Reconciling, now: int, lane_backlog: int, report: SweepReport) -> None:
    age = now - clock.epoch(entry.created_at)
    # A task whose send is known to have failed goes at once. Otherwise, while its lane has messages
    # waiting, its own message is most likely among them: re-sending would only duplicate a backlog,
    # so it waits, up to an hour.
    resend = entry.unsent or lane_backlog == 0 or age >= LOST_AFTER_SECONDS
    # Look again after as long as the task has waited: a deep backlog is not looked at every run.
    claimed = services.store.claim_sweep(
        entry, now + max(MIN_RESEND_INTERVAL_SECONDS, services.settings.pending_grace_seconds, age)
    )
    if claimed is None:
        report.skipped += 1
        return
    if not resend:
        report.waiting += 1
        return
    try:
        services.queues.send(entry.priority, TaskMessage.for_task(claimed.task, claimed.owner, entry.correlation_id))
    except QueueUnavailable:
        note_unsent(services, [entry.task_id])  # due again now: the next run sends it
        raise
    count(entry.priority, entry.task_type, "TaskRequeued")
    logger.info("pending task queued again", extra={"task_id": entry.task_id})
    report.requeued += 1


def _check_running(entry: SweepEntry, services: Reconciling, now: int, report: SweepReport) -> None:
    """A running task is stuck once its lease and one more visibility timeout (the redelivery that
    would have taken it over) have passed; until then its sweep time moves to that deadline. An async
    attempt (accepted by its target, no Lambda holds it) is settled once its lease ends: its deadline
    or a missed heartbeat (tasklane.logic.async_tasks)."""
    if (entry.lease_until or 0) < now:
        from tasklane.logic import async_tasks

        held = services.store.get(entry.task_id)
        if held is not None and async_tasks.sweep(held, services):
            report.failed += 1
            return
    deadline = (entry.lease_until or 0) + services.settings.visibility_timeout_seconds
    if deadline > now:
        if services.store.claim_sweep(entry, deadline) is None:
            report.skipped += 1
        return
    error = TaskError(type="TaskStuck", message="no result by the deadline and no redelivery: the run was lost")
    # A workflow's task counts down its barrier as it fails: read it for its workflow (a rare path).
    stored = services.store.get(entry.task_id)
    fan_in = workflows.fan_in(stored, entry.attempts, failed=True) if stored is not None else None
    try:
        failed = services.store.mark_failed(entry.task_id, error, clock.now(), attempt=entry.attempts, fan_in=fan_in)
    except TransitionRejected:
        report.skipped += 1
        return
    report.failed += 1
    if fan_in is not None:
        workflows.moves_on(failed, services, failed=True)
