"""The messages one processor invocation sends back to its lane for later (a hold, a retry's backoff,
any other deferral): their visibility changes are collected while the batch's records are handled
and made together, ten to a ChangeMessageVisibilityBatch request, before the next task of the batch
is claimed and when the batch is done, instead of one request per message. A processor passing over
an owner's flood would otherwise spend a request on every message it holds back, and a held message
never waits for a task that runs after it."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

from tasklane.data.services import HasQueues
from tasklane.model import clock
from tasklane.model.lanes import Lane
from tasklane.observability import logger
from tasklane.records import record


@record
class _Change:
    task_id: str
    receipt_handle: str
    due_ms: int  # epoch ms at which the message should be visible again


class Redeliveries:
    """The visibility changes of one invocation's deferred messages, made together."""

    def __init__(self, services: HasQueues, lane: Lane) -> None:
        self._services = services
        self._lane = lane  # the processor's lane, whose messages these are
        self._changes: list[_Change] = []

    def add(self, task_id: str, receipt_handle: str, delay: int) -> None:
        """Have this received message come back `delay` seconds from now (once flushed); its record
        must be reported as a batch item failure."""
        self._changes.append(_Change(task_id, receipt_handle, clock.epoch_ms(clock.now()) + delay * 1000))

    def flush(self) -> None:
        """Make the collected visibility changes, each counted from when it was added, not from now.

        A change SQS refuses, or a request that fails, loses no task: its record is reported as a
        batch item failure all the same, so the message comes back after the lane's visibility
        timeout (six times ProcessorTimeout) instead, later than meant. So does every change still
        collected when an invocation dies. Nothing here is raised: an invocation that failed would
        have its acknowledged records delivered again, and a flush before a claim would lose its task."""
        changes, self._changes = self._changes, []
        if not changes:
            return  # the SQS client is made only when a batch defers something
        now_ms = clock.epoch_ms(clock.now())
        seconds = [max(0, math.ceil((c.due_ms - now_ms) / 1000)) for c in changes]
        entries = [(change.receipt_handle, delay) for change, delay in zip(changes, seconds, strict=True)]
        try:
            failed = self._services.queues.set_visibility_many(self._lane, entries)
        except Exception as exc:  # every change is then simply not made (see above)
            failed = dict.fromkeys(range(len(changes)), f"{type(exc).__name__}: {exc}")
        for index, reason in failed.items():
            logger.warning(
                "visibility not changed: the message comes back after the lane's visibility timeout",
                extra={"task_id": changes[index].task_id, "reason": reason, "seconds": seconds[index]},
            )


@contextmanager
def redeliveries(services: HasQueues, lane: Lane) -> Iterator[Redeliveries]:
    """One invocation's redeliveries on `lane`, flushed (also) when the block ends, however it ends."""
    later = Redeliveries(services, lane)
    try:
        yield later
    finally:
        later.flush()
