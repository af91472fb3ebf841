"""What a running task gets: its context (identity, progress), its time limit, and the backoff of a retry."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tasklane.data.services import HasStore
from tasklane.data.tasks.table import TransitionRejected
from tasklane.model import clock
from tasklane.model.task import Progress
from tasklane.observability import logger

BACKOFF_BASE_SECONDS = 2
BACKOFF_CAP_SECONDS = 900
PROGRESS_INTERVAL_SECONDS = 1.0


class TaskTimedOut(Exception):
    """The task ran past its timeout_seconds."""


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
    services: HasStore  # progress is written to the tasks table
    deadline: float
    inputs: list[Any] = field(default_factory=list)  # a workflow's task: the results it waited for, in order
    _last_write: float = field(default=0.0)

    def report_progress(self, percent: float, message: str | None = None) -> None:
        now = time.monotonic()
        if percent < 100 and now - self._last_write < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_write = now
        progress = Progress(percent=max(0.0, min(100.0, percent)), message=message)
        try:
            self.services.store.record_progress(self.task_id, self.attempt, progress, clock.now())
        except TransitionRejected:
            logger.warning("progress not recorded: the task is no longer running this attempt")

    def remaining_seconds(self) -> float:
        return self.deadline - time.monotonic()
