"""The soak's checks on when tasks started, read from their views (GET /tasks/{id}): nothing before
its time (a delay or a run_at), and no rate-limited type above its rate in any sliding second."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


def due(task: dict[str, Any]) -> datetime:
    """When a task may start at the earliest: its run_at, or its creation and its delay."""
    if task.get("run_at"):
        return datetime.fromisoformat(task["run_at"])
    return datetime.fromisoformat(task["created_at"]) + timedelta(seconds=task.get("delay_seconds") or 0)


def started_early(tasks: list[dict[str, Any]]) -> list[str]:
    """The tasks whose started_at is before they were due, as text."""
    return [
        f"{t['task_id']} started {t['started_at']}, due {due(t).isoformat()}"
        for t in tasks
        if t.get("started_at") and datetime.fromisoformat(t["started_at"]) < due(t)
    ]


@dataclass(frozen=True)
class Lateness:
    """How long after their run_at scheduled tasks started (seconds): the promoter's promise is a minute."""

    started: int
    median: float
    longest: float

    @classmethod
    def of(cls, tasks: list[dict[str, Any]]) -> Lateness:
        late = [
            (datetime.fromisoformat(t["started_at"]) - due(t)).total_seconds() for t in tasks if t.get("started_at")
        ]
        return cls(len(late), statistics.median(late) if late else 0.0, max(late, default=0.0))


@dataclass(frozen=True)
class RateFigures:
    """The starts of one rate-limited type: how many, over how long, and the most in any sliding second."""

    rate: int  # starts a second
    starts: int
    span: float  # seconds from the first start to the last
    most_in_a_second: int  # the most starts within any window [t, t + 1 s)
    closest: float  # the least time spanned by rate + 1 consecutive starts (>= 1 s when the rate held)
    densest: list[str]  # the starts of the most crowded second (started_at, to the millisecond)

    @classmethod
    def of(cls, rate: int, tasks: list[dict[str, Any]]) -> RateFigures:
        starts = sorted(datetime.fromisoformat(t["started_at"]) for t in tasks if t.get("started_at"))
        second = timedelta(seconds=1)
        most, first, densest = 0, 0, (0, 0)
        for last, moment in enumerate(starts):
            while moment - starts[first] >= second:
                first += 1
            if last - first + 1 > most:
                most, densest = last - first + 1, (first, last + 1)
        spans = [(starts[i + rate] - starts[i]).total_seconds() for i in range(len(starts) - rate)]
        return cls(
            rate=rate,
            starts=len(starts),
            span=(starts[-1] - starts[0]).total_seconds() if starts else 0.0,
            most_in_a_second=most,
            closest=min(spans, default=float("inf")),
            densest=[s.strftime("%H:%M:%S.%f")[:-3] for s in starts[densest[0] : densest[1]]],
        )

    def problems(self) -> list[str]:
        if self.most_in_a_second > self.rate:
            return [f"{self.most_in_a_second} starts within one second (rate {self.rate}/s): {', '.join(self.densest)}"]
        return []
