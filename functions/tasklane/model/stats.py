"""What the console's overview shows: each lane's figures, throughput per minute, counts by status."""

from __future__ import annotations

from typing import Any

from tasklane.model.lanes import Lane
from tasklane.records import record

# The chart covers the last hour, a point a minute.
THROUGHPUT_MINUTES = 60


@record(slots=True)
class LaneFigures:
    """One lane's figures in the overview."""

    lane: Lane
    queued: int
    in_flight: int
    delayed: int
    dead_letters: int  # messages in the lane's DLQ now (the dead-letter function empties it as it fails them)
    concurrency: int
    oldest_age_seconds: int | None = None  # None where no figure exists (e.g. no CloudWatch locally)
    dead_lettered_last_hour: int = 0  # the caller's tasks of this lane failed by the DLQ in the last hour

    def public(self) -> dict[str, Any]:
        return {
            "lane": self.lane.value,
            "queued": self.queued,
            "in_flight": self.in_flight,
            "delayed": self.delayed,
            "dlq": self.dead_letters,
            "concurrency": self.concurrency,
            "oldest_age_seconds": self.oldest_age_seconds,
            "dead_lettered_last_hour": self.dead_lettered_last_hour,
        }


@record(slots=True)
class Throughput:
    """Completed and failed tasks per minute, oldest minute first; `minutes` are epoch seconds."""

    source: str  # "cloudwatch" (the whole stack) or "tasks" (the caller's tasks)
    minutes: list[int]
    completed: list[int]
    failed: list[int]

    def public(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "scope": "stack" if self.source == "cloudwatch" else "caller",
            "period_seconds": 60,
            "minutes": self.minutes,
            "completed": self.completed,
            "failed": self.failed,
        }


@record(slots=True)
class Overview:
    """The console's overview of the stack and of the caller's tasks."""

    lanes: list[LaneFigures]
    throughput: Throughput
    counts: dict[str, int]  # the caller's tasks created in the last hour, by status
    counts_complete: bool = True  # False when the hour held more tasks than one overview reads
    generated_at: str = ""

    def public(self) -> dict[str, Any]:
        return {
            "lanes": [lane.public() for lane in self.lanes],
            "throughput": self.throughput.public(),
            "counts": self.counts,
            "counts_window_seconds": THROUGHPUT_MINUTES * 60,
            "counts_complete": self.counts_complete,
            "generated_at": self.generated_at,
        }
