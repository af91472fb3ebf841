"""A recurring schedule: a name of its owner's, when it fires, and the task each firing submits."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tasklane.model import clock
from tasklane.records import record

if TYPE_CHECKING:
    from tasklane.model.recurrence import Recurrence


@record(slots=True, kw_only=True)
class Schedule:
    """A recurring schedule as stored: its owner's name for it, its recurrence and the task it submits."""

    owner: str
    name: str
    schedule_id: str  # new for every creation: a firing of a deleted namesake is recognised
    cron: str | None = None
    rate: str | None = None
    timezone: str
    task: dict[str, Any]  # the submission each firing makes, as the caller gave it (checked)
    paused: bool = False
    created_at: str
    updated_at: str
    # Bumped by every write of the record: an edit is stored only over the version it was made from.
    version: int = 0
    # When a rate's count starts: the creation, or the last edit of the cron or rate (None: created_at).
    recurrence_from: str | None = None

    @property
    def recurrence(self) -> Recurrence:
        # Imported here: a firing needs the cron library only where Scheduler left its time unfilled.
        from tasklane.model.recurrence import Recurrence

        start = datetime.fromisoformat(self.recurrence_from or self.created_at)
        return Recurrence(self.cron, self.rate, self.timezone, start)

    def public(self, now: datetime | None = None, count: int = 5) -> dict[str, Any]:
        """The schedule as the API shows it; with `now`, its next fire times (none while paused)."""
        shown: dict[str, Any] = {
            "name": self.name,
            "cron": self.cron,
            "rate": self.rate,
            "timezone": self.timezone,
            "task": self.task,
            "paused": self.paused,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if now is not None:
            fires = [] if self.paused else self.recurrence.next_fires(now, count)
            shown["next_fire_times"] = [clock.iso(t) for t in fires]  # UTC
            # the same moments as the schedule's zone reads them, with its offset (daylight saving shows)
            zone = ZoneInfo(self.timezone)
            shown["next_fire_times_local"] = [t.astimezone(zone).isoformat(timespec="seconds") for t in fires]
        return shown


def scheduler_name(owner: str, name: str) -> str:
    """The EventBridge Scheduler schedule of (owner, name): a digest, so that owners' names never
    collide, no owner's identity shows in it, and it fits Scheduler's 64 characters."""
    return "tl-" + hashlib.sha256(f"{owner}\n{name}".encode()).hexdigest()[:56]


def firing_task_id(schedule_id: str, scheduled_time: datetime) -> str:
    """The id of the task one firing submits: the same schedule and scheduled time always give the
    same id, so a firing delivered twice submits one task. Shaped as the random (version 4) ids of
    every other task, which the API and the lanes check."""
    digest = hashlib.sha256(f"{schedule_id}@{clock.iso(scheduled_time)}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))
