"""The changes a caller asks for: cancel a pending or scheduled task, retry a failed or cancelled one.
One conditional UpdateItem each, as every transition (tasklane.data.tasks.store)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tasklane.data.attributes import n_attr, s_attr
from tasklane.data.tasks.codec import StoredTask, due_shard, sweep_shard
from tasklane.data.tasks.table import Table
from tasklane.model import clock
from tasklane.model.task import TaskStatus
from tasklane.records import record


@record
class LaterStart:
    """When a retried task may start, if later than now, and whether that is beyond the lanes' horizon."""

    at: datetime
    scheduled: bool


class CallerChanges(Table):
    """Cancel and retry, as their callers ask."""

    def cancel(self, task_id: str, owner: str, now: datetime) -> StoredTask:
        """pending | scheduled → cancelled."""
        return self._update(
            task_id,
            # A workflow's task is cancelled with its workflow only (tasklane.data.tasks.workflows).
            condition="#owner = :owner AND #status IN (:pending, :scheduled) AND attribute_not_exists(workflow_id)",
            update="SET #status = :cancelled, finished_at = :finished, updated_at = :finished, expires_at = :expires "
            "REMOVE sweep_shard, sweep_at, due_shard, due_at, not_before_ms, waiting_for, next_attempt_at",
            values={
                ":owner": s_attr(owner),
                ":pending": s_attr(TaskStatus.PENDING),
                ":scheduled": s_attr(TaskStatus.SCHEDULED),
                ":cancelled": s_attr(TaskStatus.CANCELLED),
                **self._finished(now),
            },
            names={"#owner": "owner"},
            applied=lambda t: t.task.status is TaskStatus.CANCELLED and t.task.finished_at == clock.iso(now),
        )

    def reopen(
        self, task_id: str, owner: str, now: datetime, correlation_id: str, later: LaterStart | None = None
    ) -> StoredTask:
        """failed | cancelled → pending for an explicit retry. Attempts keep counting (a late outcome
        of an earlier run can never pass for the new run's); max_attempts grows by the task's budget.
        A cancelled task whose run_at is still ahead (`later`) keeps it: scheduled again when it is
        beyond the lanes' delay horizon (the promoter queues it), else pending with its delay."""
        start_at = later.at if later else None
        scheduled = later is not None and later.scheduled
        delay = max(0, int((start_at - now).total_seconds())) if start_at else 0
        timing: dict[str, Any]
        if scheduled and start_at is not None:
            status, sets = TaskStatus.SCHEDULED, "due_shard = :shard, due_at = :due"
            timing = {
                ":shard": s_attr(due_shard(task_id, self.layout.due_shards)),
                ":due": n_attr(clock.epoch(start_at)),
            }
        else:
            status, sets = TaskStatus.PENDING, "sweep_shard = :shard, sweep_at = :sweep"
            timing = {
                ":shard": s_attr(sweep_shard(task_id, self.layout.sweep_shards)),
                ":sweep": n_attr(self.layout.pending_sweep_at(now, delay)),
            }
        kept_start = "" if start_at else ", run_at, not_before_ms"
        return self._update(
            task_id,
            condition="#owner = :owner AND #status IN (:failed, :cancelled) AND attribute_not_exists(workflow_id)",
            update="SET #status = :reopened, max_attempts = attempts + if_not_exists(attempt_budget, max_attempts), "
            f"updated_at = :now, {sets}, correlation_id = :cid "
            "REMOVE #error, #result, result_key, result_size, started_at, finished_at, progress, expires_at, "
            f"lease_until, claim, unsent, waiting_for, redrives, next_attempt_at, deadline{kept_start}",
            values={
                ":owner": s_attr(owner),
                ":failed": s_attr(TaskStatus.FAILED),
                ":cancelled": s_attr(TaskStatus.CANCELLED),
                ":reopened": s_attr(status),
                ":now": s_attr(clock.iso(now)),
                **timing,
                ":cid": s_attr(correlation_id),
            },
            names={"#owner": "owner", "#error": "error", "#result": "result"},
            applied=lambda t: t.task.status is status and t.task.updated_at == clock.iso(now),
        )
