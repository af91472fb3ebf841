"""The soak's recurring schedule: one `rate(1 minute)` schedule that fires while the soak runs, and
the check that each of its firings submitted exactly one task, and that each such task completed.

A firing's task id follows from the schedule's id and the time the firing was meant for
(tasklane.model.schedule.firing_task_id), so the tasks of the firings are looked up by id; a listing
of the schedule's task type since its creation finds any task of it that no firing time explains.
The emulator fires up to ~10 s late, so a firing due in the last FIRING_SLACK seconds before the
schedule was deleted may or may not have come.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tasklane.model.schedule import firing_task_id

PERIOD = timedelta(minutes=1)
FIRING_SLACK = timedelta(seconds=15)
TASK_TYPE = "generate_report"  # in no other kind of the mix: every task of this type is a firing's


@dataclass
class Firings:
    """The schedule's firings: those surely due, those that may have come, the tasks found."""

    lived: float = 0.0  # seconds from creation to deletion
    due: int = 0  # fire times at least FIRING_SLACK before the deletion
    tasks: dict[str, str] = field(default_factory=dict)  # the firings' task ids -> status
    missing: list[str] = field(default_factory=list)  # due fire times without a task
    unexplained: list[str] = field(default_factory=list)  # tasks of the type no fire time gives
    late: int = 0  # firings within FIRING_SLACK of the deletion that came

    def problems(self) -> list[str]:
        found = [f"no task for the firing at {t}" for t in self.missing]
        found += [f"a task of the schedule no firing explains: {t}" for t in self.unexplained[:5]]
        found += [f"the firing's task {t} ended {s}" for t, s in self.tasks.items() if s != "completed"]
        return found


class RecurringSchedule:
    """A schedule of the soak's caller, created at once, deleted by `end`."""

    def __init__(self, api: Any, session: Any, table: str) -> None:
        self.api, self.session, self.table = api, session, table
        self.name = f"soak-{uuid.uuid4().hex[:12]}"
        body = {
            "name": self.name,
            "rate": "1 minute",
            "task": {"task_type": TASK_TYPE, "payload": {"report": self.name, "rows": 500}},
        }
        answer = api.request("POST", "/schedules", json=body)
        if answer.status_code != 201:
            raise RuntimeError(f"POST /schedules answered {answer.status_code}: {answer.text}")
        self.created_at = datetime.fromisoformat(answer.json()["created_at"])
        self.ended_at: datetime | None = None
        self._owner = ""

    def age(self) -> float:
        return (datetime.now(UTC) - self.created_at).total_seconds()

    def end(self, owner: str) -> None:
        """Read the schedule's id, then delete it (once)."""
        if self.ended_at is not None:
            return
        self._owner = owner
        key = {"owner": {"S": owner}, "name": {"S": self.name}}
        item = self.session.client("dynamodb").get_item(TableName=self.table, Key=key, ConsistentRead=True)
        self.schedule_id = item["Item"]["schedule_id"]["S"]
        answer = self.api.request("DELETE", f"/schedules/{self.name}")
        if answer.status_code != 204:
            raise RuntimeError(f"DELETE /schedules/{self.name} answered {answer.status_code}: {answer.text}")
        self.ended_at = datetime.now(UTC)

    def fire_times(self) -> list[datetime]:
        """Every fire time from creation to the deletion (and one after it, which must never come)."""
        assert self.ended_at is not None
        times, moment = [], self.created_at + PERIOD
        while moment <= self.ended_at + PERIOD:
            times.append(moment)
            moment += PERIOD
        return times

    def firings(self) -> Firings:
        """What the schedule fired, and what is wrong with it."""
        assert self.ended_at is not None
        found = Firings(lived=(self.ended_at - self.created_at).total_seconds())
        expected: set[str] = set()
        for moment in self.fire_times():
            task_id = firing_task_id(self.schedule_id, moment)
            expected.add(task_id)
            answer = self.api.request("GET", f"/tasks/{task_id}")
            surely_due = moment <= self.ended_at - FIRING_SLACK
            found.due += surely_due
            if answer.status_code == 200:
                found.tasks[task_id] = answer.json()["status"]
                found.late += not surely_due
            elif surely_due:
                found.missing.append(moment.isoformat())
        found.unexplained = [t for t in self._listed() if t not in expected]
        return found

    def task_ids(self) -> list[str]:
        """The firings' tasks that exist now (ids)."""
        return [t for t in (firing_task_id(self.schedule_id, m) for m in self.fire_times()) if self._exists(t)]

    def _exists(self, task_id: str) -> bool:
        return self.api.request("GET", f"/tasks/{task_id}").status_code == 200

    def _listed(self) -> list[str]:
        """The caller's tasks of the schedule's type created since the schedule (newest first)."""
        found: list[str] = []
        cursor = None
        while True:
            params = {"task_type": TASK_TYPE, "limit": 100, **({"cursor": cursor} if cursor else {})}
            page = self.api.request("GET", "/tasks", params=params).json()
            fresh = [t for t in page["items"] if datetime.fromisoformat(t["created_at"]) >= self.created_at]
            found += [t["task_id"] for t in fresh]
            cursor = page.get("next_cursor")
            if not cursor or len(fresh) < len(page["items"]):
                return found
