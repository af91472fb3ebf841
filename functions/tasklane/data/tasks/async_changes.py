"""The writes of an async attempt: its token's hash before the target is called, its acceptance (the
task then holds no Lambda, and its lease is its deadline or its next heartbeat), and its heartbeats.
Its end is the run's own: mark_completed, mark_retrying, mark_failed (tasklane.data.tasks.store)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Self

from tasklane.data.attributes import n_attr, s_attr
from tasklane.data.tasks.codec import StoredTask
from tasklane.data.tasks.table import Table
from tasklane.limits import MAX_PROGRESS_MESSAGE_CHARS
from tasklane.model import clock
from tasklane.model.task import Progress, TaskStatus

_RUNNING = "#status = :processing AND attempts = :attempt"


def lease_holds(at: datetime) -> tuple[str, dict[str, Any]]:
    """The condition (and its value) that an accepted attempt's lease has not ended at `at`, to the
    millisecond: an attempt is over from the second its lease (deadline or next heartbeat) names."""
    return " AND lease_until > :alive_at", {":alive_at": {"N": f"{at.timestamp():.3f}"}}


def token_attribute(attempt: int) -> str:
    """The attribute that keeps the hash of an attempt's completion token."""
    return f"token_{attempt}"


class AsyncChanges(Table):
    """The attempts that a target finishes later through the API."""

    leased = False  # set on the view within_lease() gives

    def within_lease(self) -> Self:
        """This store, its ends of a run (mark_completed, mark_retrying, mark_failed of an attempt)
        written only while the accepted attempt's lease holds at their `now`: a target's late call
        loses to the lease in the very write that would have finished the task."""
        view = copy.copy(self)
        view.leased = True
        return view

    def lease_condition(self, now: datetime) -> tuple[str, dict[str, Any]]:
        """The lease's part of an end's condition: none outside within_lease()."""
        return lease_holds(now) if self.leased else ("", {})

    def arm_token(self, task_id: str, attempt: int, token_hash: str) -> None:
        """Keep the hash of this attempt's token (never the token), before the target sees it."""
        self._record(
            task_id,
            condition=_RUNNING,
            update="SET #token = :hash",
            values={
                ":processing": s_attr(TaskStatus.PROCESSING),
                ":attempt": n_attr(attempt),
                ":hash": s_attr(token_hash),
            },
            names={"#token": token_attribute(attempt)},
        )

    def mark_accepted(
        self, task_id: str, attempt: int, now: datetime, until: int, heartbeat_seconds: int | None
    ) -> StoredTask:
        """The target took the attempt: the task holds no Lambda; its lease (and sweep time) becomes
        its deadline `until`, or its next heartbeat when sooner."""
        lease = min(until, clock.epoch(now) + heartbeat_seconds) if heartbeat_seconds else until
        hb = ", heartbeat_seconds = :hb" if heartbeat_seconds else ""
        return self._update(
            task_id,
            condition=_RUNNING + " AND attribute_exists(#token)",
            update=f"SET lease_until = :lease, sweep_at = :lease, async_until = :until, updated_at = :now{hb}",
            values={
                ":processing": s_attr(TaskStatus.PROCESSING),
                ":attempt": n_attr(attempt),
                ":lease": n_attr(lease),
                ":until": n_attr(until),
                ":now": s_attr(clock.iso(now)),
                **({":hb": n_attr(heartbeat_seconds)} if heartbeat_seconds else {}),
            },
            names={"#token": token_attribute(attempt)},
        )

    def beat(self, task_id: str, attempt: int, lease: int, now: datetime, progress: Progress | None) -> None:
        """A heartbeat of the accepted attempt: its lease (and sweep time) moves to `lease`."""
        shown = ", progress = :progress" if progress is not None else ""
        values: dict[str, Any] = {":processing": s_attr(TaskStatus.PROCESSING), ":attempt": n_attr(attempt)}
        values[":lease"] = n_attr(lease)
        if progress is not None:
            kept = {"percent": n_attr(round(progress.percent, 2))}
            if progress.message:
                kept["message"] = s_attr(progress.message[:MAX_PROGRESS_MESSAGE_CHARS])
            values[":progress"] = {"M": kept}
        alive, alive_values = lease_holds(now)
        self._record(
            task_id,
            condition=_RUNNING + " AND attribute_exists(async_until)" + alive,
            update=f"SET lease_until = :lease, sweep_at = :lease, updated_at = :now{shown}",
            values={**values, ":now": s_attr(clock.iso(now)), **alive_values},
        )
