"""The console's overview: each lane's figures, throughput per minute over the last hour, and the
caller's tasks of the last hour by status. Reads only; nothing is written to feed it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Protocol

from tasklane.data.services import HasDepths, HasIndexes, HasMetrics
from tasklane.data.tasks.indexes import RecentTask
from tasklane.model import clock
from tasklane.model.lanes import Lane
from tasklane.model.stats import THROUGHPUT_MINUTES, LaneFigures, Overview, Throughput
from tasklane.model.task import TaskStatus
from tasklane.settings.stats import StatsSettings

# The most of a caller's recent tasks one overview reads from the listing index (about 8 reads of
# 1 MB at most): past it, counts say they are incomplete rather than slowing every refresh.
RECENT_TASKS_CAP = 5000
# Tasks finishing within the hour may have been created before it: the listing is read this far back.
LOOKBACK = timedelta(hours=2)


class StatsSources(HasIndexes, HasDepths, HasMetrics, Protocol):
    """What the overview reads: the owner's recent tasks, the lanes' depths, the stack's metrics."""


def overview(owner: str, services: StatsSources, stats: StatsSettings, now: datetime | None = None) -> Overview:
    """The overview as the caller sees it at `now`."""
    now = now or clock.now()
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    minutes = [clock.epoch(end - timedelta(minutes=THROUGHPUT_MINUTES - i)) for i in range(THROUGHPUT_MINUTES)]
    recent, complete = services.indexes.recent_by_owner(owner, clock.iso(now - LOOKBACK), RECENT_TASKS_CAP)
    hour_ago = clock.iso(now - timedelta(minutes=THROUGHPUT_MINUTES))
    counts = Counter(t.status.value for t in recent if t.created_at >= hour_ago)
    dead_lettered = Counter(t.priority for t in recent if t.dead_lettered and (t.finished_at or "") >= hour_ago)

    oldest_age: dict[Lane, int | None]
    if stats.throughput_source == "cloudwatch":
        names = {lane: services.depths.queue_name(lane) for lane in Lane}
        series = services.metrics.read(end - timedelta(minutes=THROUGHPUT_MINUTES), end, names)
        throughput = Throughput(
            "cloudwatch",
            minutes,
            [series.completed.get(m, 0) for m in minutes],
            [series.failed.get(m, 0) for m in minutes],
        )
        oldest_age = series.oldest_age
    else:
        throughput = _from_tasks(recent, minutes)
        oldest_age = _oldest_waiting(recent, now)

    lanes = []
    for lane in Lane:
        depth = services.depths.read(lane)
        lanes.append(
            LaneFigures(
                lane=lane,
                queued=depth.queued,
                in_flight=depth.in_flight,
                delayed=depth.delayed,
                dead_letters=depth.dead_letters,
                concurrency=stats.lane_concurrency[lane],
                oldest_age_seconds=oldest_age.get(lane),
                dead_lettered_last_hour=dead_lettered.get(lane, 0),
            )
        )
    return Overview(
        lanes=lanes,
        throughput=throughput,
        counts={status.value: counts.get(status.value, 0) for status in TaskStatus},
        counts_complete=complete,
        generated_at=clock.iso(now),
    )


def _from_tasks(recent: list[RecentTask], minutes: list[int]) -> Throughput:
    """Finished tasks counted by the minute of their finished_at (the local stack has no metrics)."""
    first = minutes[0]
    completed, failed = [0] * len(minutes), [0] * len(minutes)
    for task in recent:
        if task.finished_at is None or task.status not in (TaskStatus.COMPLETED, TaskStatus.FAILED):
            continue
        index = (clock.epoch(datetime.fromisoformat(task.finished_at)) - first) // 60
        if 0 <= index < len(minutes):
            (completed if task.status is TaskStatus.COMPLETED else failed)[index] += 1
    return Throughput("tasks", minutes, completed, failed)


def _oldest_waiting(recent: list[RecentTask], now: datetime) -> dict[Lane, int | None]:
    """The age of the caller's oldest pending task per lane: the local stand-in for SQS's metric."""
    oldest: dict[Lane, int | None] = {}
    for task in recent:
        if task.status is TaskStatus.PENDING:
            age = int((now - datetime.fromisoformat(task.created_at)).total_seconds())
            oldest[task.priority] = max(age, oldest.get(task.priority) or 0)
    return oldest
