"""Running one lane message: claim the task, run its function under a time limit, record the outcome.

The claim (pending → processing) is a conditional write, so a duplicate or late delivery never runs
a task twice at once, never starts a cancelled task and never touches a finished one.
"""

from __future__ import annotations

import json
import random
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from tasklane import clock
from tasklane.backend import Backend
from tasklane.domain import MAX_PAYLOAD_BYTES, Progress, TaskError, TaskMessage
from tasklane.errors import TasklaneError
from tasklane.ids import is_task_id
from tasklane.lanes import Lane
from tasklane.observability import count, logger, task_metrics
from tasklane.registry import get_task_type
from tasklane.store import StoredTask, TransitionRejected

# Time kept back from the Lambda timeout to record the outcome after a task's own limit fires.
SAFETY_MARGIN_SECONDS = 10
# Seconds past a task's timeout before another delivery may take it over as crashed.
LEASE_GRACE_SECONDS = 10
BACKOFF_BASE_SECONDS = 2
BACKOFF_CAP_SECONDS = 900
PROGRESS_INTERVAL_SECONDS = 1.0


class TaskTimedOut(Exception):
    """The task ran past its timeout_seconds."""


class Deferred(Exception):
    """The message goes back to the lane to be delivered again later (a partial batch failure)."""


def backoff_seconds(attempt: int, rng: random.Random | None = None) -> int:
    """Exponential backoff with equal jitter: the floor doubles with every attempt."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    return int(ceiling / 2 + (rng or random).uniform(0, ceiling / 2))


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TaskTimedOut in the running task after `seconds` (main thread only, as in Lambda)."""

    def expire(signum: int, frame: Any) -> None:
        raise TaskTimedOut(f"the task ran longer than its {seconds:g}s timeout")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class RunningTask:
    """The TaskContext a task function receives: progress writes are throttled to one a second."""

    task_id: str
    attempt: int
    backend: Backend
    deadline: float
    _last_write: float = field(default=0.0)

    def report_progress(self, percent: float, message: str | None = None) -> None:
        now = time.monotonic()
        if percent < 100 and now - self._last_write < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_write = now
        progress = Progress(percent=max(0.0, min(100.0, percent)), message=message)
        try:
            self.backend.store.record_progress(self.task_id, self.attempt, progress, clock.now())
        except TransitionRejected:
            logger.warning("progress not recorded: the task is no longer running this attempt")

    def remaining_seconds(self) -> float:
        return self.deadline - time.monotonic()


@dataclass(frozen=True)
class Delivery:
    """One received lane message, with what the processor needs to steer it."""

    body: str
    receipt_handle: str
    receive_count: int
    remaining_seconds: Callable[[], float]


def parse_message(body: str) -> TaskMessage | None:
    message = TaskMessage.from_json(body)
    return message if message is not None and is_task_id(message.task_id) else None


def process(delivery: Delivery, lane: Lane, backend: Backend) -> None:
    """Handle one delivery; raise Deferred to leave the message on the lane."""
    message = parse_message(delivery.body)
    if message is None:
        logger.error("malformed lane message dropped", extra={"body_prefix": delivery.body[:200]})
        return
    logger.set_correlation_id(message.correlation_id)
    logger.append_keys(task_id=message.task_id, attempt=message.attempt)
    needed = (message.timeout_seconds or 0) + SAFETY_MARGIN_SECONDS
    if delivery.remaining_seconds() < needed:
        requeue(delivery, message, lane, backend, 0, reason="not enough time left in this invocation")
        return
    now = clock.now()
    timeout = message.timeout_seconds or backend.settings.max_task_timeout_seconds
    lease_until = clock.epoch(now) + timeout + LEASE_GRACE_SECONDS
    try:
        # The sweep time is left where submit put it: moving it would cost two index writes per task,
        # and the reconciler looks at the lease of a running task when the time comes.
        stored = backend.store.mark_processing(message.task_id, message.owner, now, lease_until)
    except TransitionRejected as exc:
        _not_claimed(exc.stored, message, delivery, lane, backend, now)
        return
    _run(stored, message, delivery, lane, backend, now)


def _not_claimed(
    stored: StoredTask | None, message: TaskMessage, delivery: Delivery, lane: Lane, backend: Backend, now: datetime
) -> None:
    if stored is None:
        logger.error("lane message for an unknown task dropped")
        return
    if stored.owner != message.owner:
        logger.error("lane message with the wrong owner dropped")
        return
    task = stored.task
    if task.status.finished:
        logger.info("duplicate delivery of a finished task acknowledged", extra={"status": task.status.value})
        return
    lease_left = (stored.lease_until or 0) - clock.epoch(now)
    if task.status == "processing" and lease_left >= 0:
        logger.info("task is running elsewhere; delivery deferred until its lease ends")
        # Counts toward the DLQ on purpose: a run that keeps crashing shows up as repeated deferrals.
        requeue(delivery, message, lane, backend, lease_left + 1, reason="running elsewhere", spare_receives=False)
        return
    if task.status == "processing" and task.attempts >= task.max_attempts:
        error = TaskError(type="TaskTimedOut", message=f"attempt {task.attempts} stopped without finishing")
        _fail(backend, stored, task.attempts, error, now)
        return
    logger.warning("lane message not claimed", extra={"status": task.status.value, "attempts": task.attempts})


def _run(
    stored: StoredTask, message: TaskMessage, delivery: Delivery, lane: Lane, backend: Backend, now: datetime
) -> None:
    task = stored.task
    attempt = task.attempts
    logger.debug("task started", extra={"task_type": task.task_type, "lane": lane.value})
    logger.debug("task payload", extra={"payload": task.payload})  # payloads may be personal data: debug only
    started = time.monotonic()
    running = RunningTask(task.task_id, attempt, backend, deadline=started + task.timeout_seconds)
    metrics = task_metrics(lane, task.task_type)
    metrics.add_count("TaskStarted")
    if attempt == 1:
        waited = (now - datetime.fromisoformat(task.created_at)).total_seconds() - task.delay_seconds
        metrics.add_milliseconds("QueueWait", max(0.0, waited * 1000))
    try:
        task_type = get_task_type(task.task_type)
        payload = task_type.parse_payload(task.payload or {})
        with time_limit(task.timeout_seconds):
            result = task_type.run(payload, running)
        result_json = json.dumps(result, separators=(",", ":"), default=str)
        if len(result_json.encode()) > MAX_PAYLOAD_BYTES:
            raise TasklaneError(f"the result is larger than {MAX_PAYLOAD_BYTES} bytes")
    except TasklaneError as exc:
        # The task cannot succeed on another attempt (unknown type, bad payload, oversized result).
        _fail(backend, stored, attempt, TaskError(type=type(exc).__name__, message=exc.message), clock.now())
        return
    except Exception as exc:
        error = TaskError(type=type(exc).__name__, message=str(exc) or type(exc).__name__)
        logger.warning("task attempt failed", extra={"error": asdict(error), "task_type": task.task_type})
        _after_error(stored, message, delivery, lane, backend, attempt, error)
        return
    finally:
        duration_ms = (time.monotonic() - started) * 1000
        metrics.add_milliseconds("TaskDuration", duration_ms)
    try:
        backend.store.mark_completed(task.task_id, attempt, result_json, clock.now())
    except TransitionRejected:
        logger.warning("result not recorded: another delivery took this task over")
        return
    metrics.add_count("TaskCompleted")
    logger.info(
        "task completed",
        extra={"task_type": task.task_type, "lane": lane.value, "duration_ms": round(duration_ms, 1)},
    )


def _after_error(
    stored: StoredTask,
    message: TaskMessage,
    delivery: Delivery,
    lane: Lane,
    backend: Backend,
    attempt: int,
    error: TaskError,
) -> None:
    task = stored.task
    if attempt >= task.max_attempts:
        _fail(backend, stored, attempt, error, clock.now())
        return
    delay = backoff_seconds(attempt)
    now = clock.now()
    try:
        backend.store.mark_retrying(
            task.task_id, attempt, error, now, clock.epoch(now) + delay + backend.settings.pending_grace_seconds
        )
    except TransitionRejected:
        logger.warning("retry not recorded: the task changed meanwhile")
        return
    count(lane, task.task_type, "TaskRetried")
    requeue(delivery, message.next_attempt(attempt + 1), lane, backend, delay, reason="retry")


def _fail(backend: Backend, stored: StoredTask, attempt: int, error: TaskError, now: datetime) -> None:
    try:
        backend.store.mark_failed(stored.task.task_id, error, now, attempt=attempt)
    except TransitionRejected:
        logger.warning("failure not recorded: the task changed meanwhile")
        return
    count(stored.task.priority, stored.task.task_type, "TaskFailed")
    logger.info("task failed", extra={"error": asdict(error)})


def requeue(
    delivery: Delivery,
    message: TaskMessage,
    lane: Lane,
    backend: Backend,
    delay: int,
    *,
    reason: str,
    spare_receives: bool = True,
) -> None:
    """Deliver this message again after `delay` seconds.

    Normally the message's visibility timeout is set to the delay and the record reported as a batch
    item failure. With spare_receives, when one more receive would send it to the DLQ (whose receive
    budget is for crashes, not for retries), a fresh message carries the task on instead and this
    one is acknowledged.
    """
    if not spare_receives or delivery.receive_count < backend.settings.max_receive_count - 1:
        backend.queues.set_visibility(lane, delivery.receipt_handle, delay)
        raise Deferred(reason)
    backend.queues.send(lane, message, min(delay, 900))
