"""The promoter: scheduled tasks coming due are queued, each after winning one conditional write.

A task due later than a lane message can wait (SQS's 15 minutes) is stored `scheduled` in a sparse,
sharded due-time index. Every minute the promoter reads what falls due before its next run, moves each
task to `pending` (a conditional write: a cancelled task, or one another run promoted, is left alone)
and sends its message with the delay that remains, so the task starts at its time, not up to a minute
late. The claim still checks the task's not-before time: no delivery, duplicate or early, starts it sooner.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from math import ceil
from typing import Protocol

from tasklane.data.services import HasIndexes, HasLayout
from tasklane.data.tasks.indexes import DueEntry
from tasklane.limits import MAX_QUEUE_DELAY_SECONDS
from tasklane.logic.queueing import Queueing, send_by_lane
from tasklane.model import clock
from tasklane.model.errors import ServiceUnavailable
from tasklane.model.lanes import Lane
from tasklane.model.message import TaskMessage
from tasklane.observability import count, logger

# The promoter runs every minute: what falls due before its next run is queued now, with a delay.
PROMOTION_LEAD_SECONDS = 60
# Shards are read side by side; each thread makes one conditional write at a time.
MAX_PARALLEL_SHARDS = 32


class Promoting(HasLayout, HasIndexes, Queueing, Protocol):
    """What the promoter touches: the Due index's shards, the tasks table, the lane queues."""


@dataclass
class PromotionReport:
    """What one promoter run did, in counts."""

    promoted: int = 0
    skipped: int = 0  # no longer scheduled at that time: cancelled, or promoted by another run
    unsent: int = 0  # promoted, but the send failed: the reconciler sends them
    errors: int = 0  # an AWS call failed; the task stays scheduled and due, for the next run
    by_type: Counter[tuple[Lane, str]] = field(default_factory=Counter)  # promoted, per lane and task type

    def add(self, other: PromotionReport) -> None:
        self.promoted += other.promoted
        self.skipped += other.skipped
        self.unsent += other.unsent
        self.errors += other.errors
        self.by_type.update(other.by_type)

    def summary(self) -> dict[str, int]:
        return {"promoted": self.promoted, "skipped": self.skipped, "unsent": self.unsent, "errors": self.errors}


def promote_due(services: Promoting, group: int = 0, groups: int = 1, budget_seconds: float = 45.0) -> PromotionReport:
    """Queue every scheduled task due within the lead time from this run's `group` of the shards (shard
    n belongs to group n mod `groups`: each group is its own invocation, side by side), shard by shard
    in parallel; stop starting new pages once `budget_seconds` have passed (the next run goes on)."""
    deadline = time.monotonic() + budget_seconds
    shards = [str(shard) for shard in range(services.layout.due_shards) if shard % groups == group]
    report = PromotionReport()
    with ThreadPoolExecutor(max_workers=min(len(shards), MAX_PARALLEL_SHARDS)) as pool:
        for part in pool.map(lambda shard: _promote_shard(services, shard, deadline), shards):
            report.add(part)
    # Metrics are written here, in one thread: the metric buffers are not shared across threads.
    for (lane, task_type), n in report.by_type.items():
        count(lane, task_type, "TaskPromoted", n)
    logger.info("promoted", extra=report.summary())
    return report


def _promote_shard(services: Promoting, shard: str, deadline: float) -> PromotionReport:
    report = PromotionReport()
    start = None
    while time.monotonic() < deadline:
        horizon = clock.epoch(clock.now()) + PROMOTION_LEAD_SECONDS
        try:
            entries, start = services.indexes.due_by(shard, horizon, start)
        except ServiceUnavailable:
            logger.exception("reading due tasks failed; the next run reads them", extra={"shard": shard})
            report.errors += 1
            break
        _promote(entries, services, report)
        if not start:
            break
    return report


def _promote(entries: list[DueEntry], services: Queueing, report: PromotionReport) -> None:
    by_lane: dict[Lane, list[tuple[TaskMessage, int]]] = {}
    for entry in entries:
        now = clock.now()
        delay = min(max(0, ceil((entry.run_at - now).total_seconds())), MAX_QUEUE_DELAY_SECONDS)
        try:
            promoted = services.store.promote(entry, now, delay)
        except ServiceUnavailable:
            logger.exception("promoting a task failed; it stays due", extra={"task_id": entry.task_id})
            report.errors += 1
            continue
        if not promoted:
            report.skipped += 1
            continue
        message = TaskMessage(
            entry.task_id, entry.owner, 1, entry.correlation_id, entry.timeout_seconds, entry.task_type
        )
        by_lane.setdefault(entry.priority, []).append((message, delay))
        report.by_type[(entry.priority, entry.task_type)] += 1
        report.promoted += 1
    report.unsent += len(send_by_lane(services, by_lane))
