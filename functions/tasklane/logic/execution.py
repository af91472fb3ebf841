"""Running one lane message: claim the task, run its function under a time limit, record the outcome.
The claim (pending → processing) is a conditional write, so a duplicate or late delivery never runs
a task twice at once, never starts a cancelled task and never touches a finished one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from tasklane.data.tasks.codec import StoredTask
from tasklane.data.tasks.table import TransitionRejected
from tasklane.logic import claims, throttling, workflows
from tasklane.logic.redelivery import Redeliveries
from tasklane.logic.running import BACKOFF_CAP_SECONDS, RunningTask, backoff_seconds, time_limit
from tasklane.logic.target_outcomes import TargetUnavailable
from tasklane.logic.targets import Processing, runnable_type
from tasklane.logic.task_values import Unfinishable, keep_result, read_payload
from tasklane.model import clock
from tasklane.model.async_answers import ACCEPTED
from tasklane.model.errors import ServiceUnavailable, TasklaneError
from tasklane.model.lanes import Lane
from tasklane.model.message import TaskMessage, parse_message
from tasklane.model.task import TaskError, TaskStatus
from tasklane.observability import count, logger, task_metrics, throttled
from tasklane.records import record

# Time kept back from the Lambda timeout to record the outcome after a task's own limit fires.
SAFETY_MARGIN_SECONDS = 10
# A run's lease lasts as long as the invocation that holds it can live (Lambda stops it at the
# processor's timeout), whatever its task does: a task that ignores its time limit (a C loop, code
# that swallows the alarm) and a run still recording its outcome are never taken over by a duplicate.
# These seconds more allow for processors' clocks that differ a little.
LEASE_SKEW_SECONDS = 5
# An outcome write that the table refuses for a moment (throttled, 5xx past the SDK's own retries) is
# tried again within the invocation for up to this long, and never past the run's lease (after it,
# another delivery may take the task over): giving up would run finished work again.
OUTCOME_RETRY_SECONDS = 60


class Deferred(Exception):
    """The message goes back to the lane to be delivered again later (a partial batch failure)."""


@record
class Delivery:
    """One received lane message, with what the processor needs to steer it."""

    body: str
    receipt_handle: str
    receive_count: int
    remaining_seconds: Callable[[], float]


@record
class Attempt:
    """One delivery being handled: its message, where it came from, and what handles it."""

    message: TaskMessage
    delivery: Delivery
    lane: Lane
    services: Processing
    later: Redeliveries  # the invocation's messages to deliver again later
    lease_until: int = 0  # epoch seconds; set once the claim is tried

    def requeue(self, delay: int, *, reason: str, spare_receives: bool = True) -> None:
        deliver_later(self, self.message, delay, reason=reason, spare_receives=spare_receives)


def process(delivery: Delivery, lane: Lane, services: Processing, later: Redeliveries) -> None:
    """Handle one delivery of this processor's lane; raise Deferred to leave the message on it (its
    visibility change then collected in `later`)."""
    message = parse_message(delivery.body)
    if message is None:
        logger.error("malformed lane message dropped", extra={"body_prefix": delivery.body[:200]})
        return
    logger.set_correlation_id(message.correlation_id)
    logger.append_keys(task_id=message.task_id, attempt=message.attempt)
    needed = min(message.timeout_seconds or 0, services.settings.max_task_timeout_seconds) + SAFETY_MARGIN_SECONDS
    if delivery.remaining_seconds() < needed:
        Attempt(message, delivery, lane, services, later).requeue(0, reason="not enough time left in this invocation")
        return
    now = clock.now()
    handling = Attempt(message, delivery, lane, services, later, lease_until=_lease_until(now, delivery))
    slot = throttling.slot_for(lane, message, handling.lease_until)
    hold = throttling.admit(slot, services, delivery.receive_count)
    if hold is not None:
        _hold(handling, hold, now)
        return
    # The messages sent back before this one go now: a hold must not wait for a task to run.
    later.flush()
    try:
        # The run begins with its claim (after a wait in place for its type's start), its lease with it.
        # The sweep time stays where submit put it (moving it costs two index writes; the reconciler reads the lease).
        claimed = claims.claim(message, services, lambda moment: _lease_until(moment, delivery))
    except TransitionRejected as exc:
        throttling.release(slot, services)  # the claim did not happen: the slot goes back with it
        _not_claimed(handling, exc.stored, clock.now())
        return
    except Exception:
        throttling.release(slot, services)
        raise
    if isinstance(claimed, throttling.Hold):
        throttling.release(slot, services)
        _hold(handling, claimed, clock.now())
        return
    try:
        _run(replace(handling, lease_until=claimed.lease_until), claimed.stored, claimed.now)
    finally:
        throttling.release(slot, services)


def _lease_until(now: datetime, delivery: Delivery) -> int:
    """When this invocation's hold on a task ends: once the invocation can no longer be alive."""
    return clock.epoch(now) + math.ceil(delivery.remaining_seconds()) + LEASE_SKEW_SECONDS


def _hold(attempt: Attempt, hold: throttling.Hold, now: datetime) -> None:
    """The task may not start yet (its type's rate, its owner's share): it keeps its attempts, says
    why it waits, and its message comes back when a start may be due. A delivery of a task that is
    not pending (finished, running elsewhere) is handled as any unclaimed one."""
    message = attempt.message
    # A claim clears the reason: it is remembered per attempt.
    shown_key = f"{message.task_id}/{message.attempt}"
    if not throttling.already_shown(shown_key, hold.reason):
        try:
            attempt.services.store.mark_waiting(message.task_id, hold.reason)
        except TransitionRejected as exc:
            _not_claimed(attempt, exc.stored, now)
            return
        throttling.shown(shown_key, hold.reason)
    throttled(message.task_type or "", message.owner)
    logger.info("task held back", extra={"waiting_for": hold.reason, "seconds": hold.seconds})
    attempt.requeue(hold.seconds, reason=hold.reason)


def _not_claimed(attempt: Attempt, stored: StoredTask | None, now: datetime) -> None:
    if stored is None:
        logger.error("lane message for an unknown task dropped")
        return
    if not stored.belongs_to(attempt.message.owner):
        logger.error("lane message with the wrong owner dropped")
        return
    task = stored.task
    if task.status.finished:
        logger.info("duplicate delivery of a finished task acknowledged", extra={"status": task.status.value})
        return
    early_ms = (stored.not_before_ms or 0) - clock.epoch_ms(now)
    if task.status is TaskStatus.PENDING and early_ms > 0:
        # A duplicate (or a clock a little ahead of the queue's): the task's time has not come.
        logger.info("delivery before the task's not-before time deferred", extra={"early_ms": early_ms})
        attempt.requeue(math.ceil(early_ms / 1000), reason="not due yet")
        return
    lease_left = (stored.lease_until or 0) - clock.epoch(now)
    if task.status is TaskStatus.PROCESSING and lease_left >= 0 and stored.async_until is None:
        logger.info("task is running elsewhere; delivery deferred until its lease ends")
        # Counts toward the DLQ on purpose: a run that keeps crashing shows up as repeated deferrals.
        attempt.requeue(lease_left + 1, reason="running elsewhere", spare_receives=False)
        return
    if task.status is TaskStatus.PROCESSING and lease_left < 0 and task.attempts >= task.max_attempts:
        error = TaskError(type="TaskTimedOut", message=f"attempt {task.attempts} stopped without finishing")
        _fail(attempt, stored, task.attempts, error)
        return
    # (An async attempt its target holds needs no message: it ends through the API or the reconciler.)
    logger.warning("lane message not claimed", extra={"status": task.status.value, "attempts": task.attempts})


def _run(attempt: Attempt, stored: StoredTask, now: datetime) -> None:
    task, number = stored.task, stored.task.attempts
    logger.debug("task started", extra={"task_type": task.task_type, "lane": attempt.lane.value})
    started = time.monotonic()
    running = RunningTask(task.task_id, number, attempt.services, deadline=started + task.timeout_seconds)
    metrics = task_metrics(attempt.lane, task.task_type)
    metrics.add_count("TaskStarted")
    if number == 1:
        waited = (now - datetime.fromisoformat(task.created_at)).total_seconds() - task.delay_seconds
        metrics.add_milliseconds("QueueWait", max(0.0, waited * 1000))
    try:
        task_type = runnable_type(stored, attempt.message, attempt.services)
        raw = read_payload(stored, attempt.services)
        logger.debug("task payload", extra={"payload": raw})  # payloads may be personal data: debug only
        payload = task_type.parse_payload(raw)
        running.inputs = workflows.inputs_of(stored, attempt.services)
        with time_limit(task.timeout_seconds):
            result = task_type.run(payload, running)
    except (TargetUnavailable, ServiceUnavailable) as exc:
        # Failed for now, retried with backoff: the payload could not be read, or a registered type's
        # target failed this attempt (it may ask for a later retry: Retry-After).
        target = exc if isinstance(exc, TargetUnavailable) else None
        error = TaskError(type=target.type if target else type(exc).__name__, message=exc.message)
        _after_error(attempt, stored, number, error, target.retry_after if target else None)
        return
    except TasklaneError as exc:
        # The task cannot succeed on another attempt (unknown type, bad payload, an Unfinishable's type).
        kind = exc.type if isinstance(exc, Unfinishable) else type(exc).__name__
        _fail(attempt, stored, number, TaskError(type=kind, message=exc.message))
        return
    except Exception as exc:
        error = TaskError(type=type(exc).__name__, message=str(exc) or type(exc).__name__)
        logger.warning("task attempt failed", extra={"error": asdict(error), "task_type": task.task_type})
        _after_error(attempt, stored, number, error)
        return
    finally:
        duration_ms = (time.monotonic() - started) * 1000
        metrics.add_milliseconds("TaskDuration", duration_ms)
    if result is ACCEPTED:  # an async target finishes it later (tasklane.logic.async_tasks)
        return
    fan_in = workflows.fan_in(stored, number, failed=False)
    finished = clock.now()  # one moment for every try of the write: its transaction token stays valid
    try:
        value = _persist(attempt, lambda: keep_result(stored, number, result, attempt.services))
        _persist(
            attempt,
            lambda: attempt.services.store.mark_completed(task.task_id, number, value, finished, fan_in=fan_in),
        )
    except Unfinishable as exc:
        _fail(attempt, stored, number, TaskError(type=exc.type, message=exc.message))
        return
    except TransitionRejected:
        logger.warning("result not recorded: another delivery took this task over")
        return
    metrics.add_count("TaskCompleted")
    if fan_in is not None:
        workflows.moves_on(stored, attempt.services, failed=False)
    logger.info(
        "task completed",
        extra={"task_type": task.task_type, "lane": attempt.lane.value, "duration_ms": round(duration_ms, 1)},
    )


def _persist(attempt: Attempt, write: Callable[[], Any]) -> Any:
    """An outcome write, tried again while the table or the bucket refuses it for a moment and time
    allows: the work is done, and giving up would only have it run again later."""
    lease_left = attempt.lease_until - clock.epoch(clock.now()) - 2
    deadline = time.monotonic() + min(OUTCOME_RETRY_SECONDS, attempt.delivery.remaining_seconds() - 3, lease_left)
    pause = 0.2
    while True:
        try:
            return write()
        except ServiceUnavailable:
            if time.monotonic() + pause > deadline:
                raise
            logger.warning("outcome write refused; trying again", extra={"pause_s": pause})
            time.sleep(pause)
            pause = min(5.0, pause * 2)


def _after_error(attempt: Attempt, stored: StoredTask, number: int, error: TaskError, asked: int | None = None) -> None:
    """Fail the attempt: retry after the backoff (or after `asked` seconds, a target's Retry-After,
    up to the backoff ceiling), or fail the task when its attempts are spent."""
    task = stored.task
    if number >= task.max_attempts:
        _fail(attempt, stored, number, error)
        return
    delay = backoff_seconds(number) if asked is None else min(asked, BACKOFF_CAP_SECONDS)
    try:
        _persist(attempt, lambda: attempt.services.store.mark_retrying(task.task_id, number, error, clock.now(), delay))
    except TransitionRejected:
        logger.warning("retry not recorded: the task changed meanwhile")
        return
    count(attempt.lane, task.task_type, "TaskRetried")
    deliver_later(attempt, attempt.message.next_attempt(number + 1), delay, reason="retry")


def _fail(attempt: Attempt, stored: StoredTask, number: int, error: TaskError) -> None:
    now = clock.now()
    fan_in = workflows.fan_in(stored, number, failed=True)
    store = attempt.services.store
    try:
        failed = _persist(
            attempt, lambda: store.mark_failed(stored.task.task_id, error, now, attempt=number, fan_in=fan_in)
        )
    except TransitionRejected:
        logger.warning("failure not recorded: the task changed meanwhile")
        return
    count(attempt.lane, stored.task.task_type, "TaskFailed")
    logger.info("task failed", extra={"error": asdict(error)})
    if fan_in is not None:
        workflows.moves_on(failed, attempt.services, failed=True)  # the task as it failed, with its error


def deliver_later(
    attempt: Attempt, message: TaskMessage, delay: int, *, reason: str, spare_receives: bool = True
) -> None:
    """Deliver `message` again after `delay` seconds.

    Normally the record is reported as a batch item failure and its visibility set to the delay with
    the batch's other deferrals, before its next claim or at its end (Redeliveries). With
    spare_receives, when one more receive would send it to the DLQ (whose receive budget is for
    crashes, not retries), a fresh message carries the task on and this one is acknowledged.
    """
    services, delivery = attempt.services, attempt.delivery
    if not spare_receives or delivery.receive_count < services.settings.max_receive_count - 1:
        attempt.later.add(message.task_id, delivery.receipt_handle, delay)
        raise Deferred(reason)
    services.queues.send(attempt.lane, message, delay)
