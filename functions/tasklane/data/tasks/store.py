"""The task lifecycle in the table: every transition is one conditional UpdateItem.

A rejected change returns the item as it was (ReturnValuesOnConditionCheckFailure), so callers learn
why without a second read; a change the SDK retried after its answer was lost is recognised as done.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tasklane.data.attributes import n_attr, s_attr
from tasklane.data.claims import claim_change
from tasklane.data.tasks.async_changes import AsyncChanges
from tasklane.data.tasks.caller_changes import CallerChanges
from tasklane.data.tasks.codec import StoredTask, StoredValue, attempt_slot, error_value, outcome_value, sweep_shard
from tasklane.data.tasks.table import Change, TransitionRejected
from tasklane.limits import MAX_PROGRESS_MESSAGE_CHARS
from tasklane.model import clock
from tasklane.model.task import AttemptOutcome, Progress, TaskError, TaskStatus

# The index entries are read by the reconciler and the promoter only: the other functions never load them.
if TYPE_CHECKING:
    from tasklane.data.tasks.indexes import DueEntry, SweepEntry
    from tasklane.data.tasks.workflow_tasks import FanIn
    from tasklane.data.tasks.workflows import WorkflowStore


class TaskStore(CallerChanges, AsyncChanges):
    """The lifecycle transitions of task items (a caller's cancel and retry: tasklane.data.tasks.caller_changes)."""

    def mark_processing(
        self, task_id: str, owner: str, now: datetime, lease_until: int, timeout_seconds: int | None = None
    ) -> StoredTask:
        """The claim of a task whose type has no rate (tasklane.data.claims.claim_change)."""
        stored = self._write(task_id, claim_change(owner, now, lease_until, timeout_seconds), returns=True)
        assert stored is not None
        return stored

    def _running(self, attempt: int) -> dict[str, Any]:
        return {":processing": s_attr(TaskStatus.PROCESSING), ":attempt": n_attr(attempt)}

    def record_progress(self, task_id: str, attempt: int, progress: Progress, now: datetime) -> None:
        value: dict[str, Any] = {"percent": n_attr(round(progress.percent, 2))}
        if progress.message:
            value["message"] = s_attr(progress.message[:MAX_PROGRESS_MESSAGE_CHARS])
        self._record(
            task_id,
            condition="#status = :processing AND attempts = :attempt",
            update="SET progress = :progress, updated_at = :now",
            values={**self._running(attempt), ":progress": {"M": value}, ":now": s_attr(clock.iso(now))},
        )

    def mark_completed(
        self, task_id: str, attempt: int, result: StoredValue, now: datetime, *, fan_in: FanIn | None = None
    ) -> None:
        """processing → completed, the result inline or its object's key (`fan_in`: with its barrier's countdown)."""
        attributes = result.attributes("result")
        held, held_values = self.lease_condition(now)
        names = {f"#v{i}": name for i, name in enumerate(attributes)}
        sets = ", ".join(f"#v{i} = :v{i}" for i in range(len(attributes)))
        change = Change(
            condition="#status = :processing AND attempts = :attempt" + held,
            update=f"SET #status = :completed, {sets}, finished_at = :finished, updated_at = :finished, "
            "expires_at = :expires, #slot = :outcome "
            "REMOVE lease_until, sweep_shard, sweep_at, #error, not_before_ms, deadline, next_attempt_at",
            values={
                **self._running(attempt),
                **held_values,
                **self._finished(now),
                ":completed": s_attr(TaskStatus.COMPLETED),
                **{f":v{i}": value for i, value in enumerate(attributes.values())},
                ":outcome": outcome_value(AttemptOutcome(attempt, "completed", clock.iso(now))),
            },
            names={**names, "#error": "error", "#slot": attempt_slot(attempt)},
            applied=lambda t: t.task.status is TaskStatus.COMPLETED and t.task.attempts == attempt,
        )
        if fan_in is not None:
            self.workflows().finish(task_id, change, fan_in)
        else:
            self._write(task_id, change, returns=False)

    def workflows(self) -> WorkflowStore:
        """The workflow writes on this store's client and table (loaded only where a workflow's task ends)."""
        from tasklane.data.tasks.workflows import WorkflowStore

        return WorkflowStore(self._db, self.layout)

    def mark_retrying(self, task_id: str, attempt: int, error: TaskError, now: datetime, delay: int) -> StoredTask:
        """processing → pending after a failed attempt; the queue redelivers after the backoff `delay`,
        and no delivery starts it before then."""
        held, held_values = self.lease_condition(now)
        return self._update(
            task_id,
            condition="#status = :processing AND attempts = :attempt" + held,
            update="SET #status = :pending, #error = :error, updated_at = :now, sweep_at = :sweep, "
            "not_before_ms = :not_before, next_attempt_at = :next, #slot = :outcome REMOVE lease_until, deadline",
            values={
                **self._running(attempt),
                **held_values,
                ":pending": s_attr(TaskStatus.PENDING),
                ":error": error_value(error),
                ":now": s_attr(clock.iso(now)),
                ":sweep": n_attr(self.layout.pending_sweep_at(now, delay)),
                ":not_before": n_attr(clock.epoch_ms(now) + delay * 1000),
                ":next": s_attr(clock.iso(now + timedelta(seconds=delay))),
                ":outcome": outcome_value(AttemptOutcome(attempt, "failed", clock.iso(now), error)),
            },
            names={"#error": "error", "#slot": attempt_slot(attempt)},
            applied=lambda t: (
                t.task.status is TaskStatus.PENDING and t.task.attempts == attempt and t.task.error == error
            ),
        )

    def mark_failed(
        self, task_id: str, error: TaskError, now: datetime, *, attempt: int | None = None, fan_in: FanIn | None = None
    ) -> StoredTask:
        """→ failed: from the attempt that ran (attempt given), or from pending or a run whose lease
        ran out (a task running right now records its own outcome); a workflow's task counts down its
        barrier in the same transaction (`fan_in`)."""
        if attempt is None:
            condition = "#status = :pending OR (#status = :processing AND lease_until < :now_epoch)"
            values = {
                ":pending": s_attr(TaskStatus.PENDING),
                ":processing": s_attr(TaskStatus.PROCESSING),
                ":now_epoch": n_attr(clock.epoch(now)),
            }
        else:
            held, held_values = self.lease_condition(now)
            condition = "#status = :processing AND attempts = :attempt" + held
            values = {**self._running(attempt), **held_values}
        # The attempt that ran keeps its outcome; a failure from outside a run (dead letter) has none.
        outcome = (
            {}
            if attempt is None
            else {":outcome": outcome_value(AttemptOutcome(attempt, "failed", clock.iso(now), error))}
        )
        change = Change(
            condition=condition,
            update="SET #status = :failed, #error = :error, finished_at = :finished, updated_at = :finished, "
            f"expires_at = :expires{', #slot = :outcome' if outcome else ''} "
            "REMOVE lease_until, sweep_shard, sweep_at, not_before_ms, waiting_for, deadline, next_attempt_at",
            values={
                **values,
                **self._finished(now),
                ":failed": s_attr(TaskStatus.FAILED),
                ":error": error_value(error),
                **outcome,
            },
            names={"#error": "error", **({"#slot": attempt_slot(attempt)} if attempt is not None else {})},
            applied=lambda t: (
                t.task.status is TaskStatus.FAILED and t.task.error == error and t.task.finished_at == clock.iso(now)
            ),
        )
        if fan_in is not None:
            self.workflows().finish(task_id, change, fan_in)
        stored = self.get(task_id) if fan_in is not None else self._write(task_id, change, returns=True)
        if stored is None:
            raise TransitionRejected(None)
        return stored

    def redrive(self, task_id: str, owner: str, now: datetime, max_redrives: int) -> StoredTask:
        """Count one more fresh message for a pending task whose message was dead-lettered unclaimed."""
        return self._update(
            task_id,
            condition="#owner = :owner AND #status = :pending AND (attribute_not_exists(redrives) OR redrives < :max)",
            update="SET redrives = if_not_exists(redrives, :zero) + :one, updated_at = :now, sweep_at = :sweep",
            values={
                ":owner": s_attr(owner),
                ":pending": s_attr(TaskStatus.PENDING),
                ":max": n_attr(max_redrives),
                ":zero": n_attr(0),
                ":one": n_attr(1),
                ":now": s_attr(clock.iso(now)),
                ":sweep": n_attr(self.layout.pending_sweep_at(now)),
            },
            names={"#owner": "owner"},
            applied=lambda t: t.task.status is TaskStatus.PENDING and t.task.updated_at == clock.iso(now),
        )

    def mark_waiting(self, task_id: str, reason: str) -> None:
        """Show why a pending task is held back (written only when the reason changes; a pending task
        showing it already is left as it is). TransitionRejected, with the task as it is, when the task
        is not pending (finished, running elsewhere; unknown: None inside)."""
        try:
            self._record(
                task_id,
                condition="#status = :pending AND (attribute_not_exists(waiting_for) OR waiting_for <> :reason)",
                update="SET waiting_for = :reason",
                values={":pending": s_attr(TaskStatus.PENDING), ":reason": s_attr(reason)},
            )
        except TransitionRejected as exc:
            if exc.stored is None or exc.stored.task.status is not TaskStatus.PENDING:
                raise

    def mark_unsent(self, task_id: str, now: datetime) -> None:
        """Note that a pending task's message was never sent, and make it due for the reconciler now."""
        self._record(
            task_id,
            condition="#status = :pending",
            update="SET unsent = :yes, sweep_at = :now",
            values={":pending": s_attr(TaskStatus.PENDING), ":yes": {"BOOL": True}, ":now": n_attr(clock.epoch(now))},
        )

    def claim_sweep(self, entry: SweepEntry, next_sweep_at: int) -> StoredTask | None:
        """Move a task's next sweep time forward; the task as it now is, or None when another
        sweeper got there first."""
        token = uuid.uuid4().hex
        try:
            return self._update(
                entry.task_id,
                condition="#status = :status AND sweep_at = :seen",
                update="SET sweep_at = :next, sweep_token = :token REMOVE unsent",
                values={
                    ":status": s_attr(entry.status),
                    ":seen": n_attr(entry.sweep_at),
                    ":next": n_attr(next_sweep_at),
                    ":token": s_attr(token),
                },
                # Two reconcilers in the same second would move it to the same time: the token is ours.
                applied=lambda t: t.sweep_token == token,
            )
        except TransitionRejected:
            return None

    def promote(self, entry: DueEntry, now: datetime, delay: int) -> bool:
        """scheduled → pending as its message is sent (delivered after `delay` s); the task joins the
        reconciler's index in case that send is lost. False when it is no longer scheduled at that
        due time (cancelled, or promoted by another run). A write the SDK retried after its answer
        was lost is recognised by the moment it wrote, so that its message is still sent now."""
        try:
            self._record(
                entry.task_id,
                condition="#status = :scheduled AND due_at = :seen",
                update="SET #status = :pending, updated_at = :now, sweep_shard = :shard, sweep_at = :sweep "
                "REMOVE due_shard, due_at",
                values={
                    ":scheduled": s_attr(TaskStatus.SCHEDULED),
                    ":pending": s_attr(TaskStatus.PENDING),
                    ":seen": n_attr(entry.due_at),
                    ":now": s_attr(clock.iso(now)),
                    ":shard": s_attr(sweep_shard(entry.task_id, self.layout.sweep_shards)),
                    ":sweep": n_attr(self.layout.pending_sweep_at(now, delay)),
                },
                applied=lambda t: t.task.status is TaskStatus.PENDING and t.task.updated_at == clock.iso(now),
            )
        except TransitionRejected as exc:
            if exc.stored is not None and exc.stored.task.status is not TaskStatus.SCHEDULED:
                self._drop_due(entry.task_id)
            return False
        return True

    def _drop_due(self, task_id: str) -> None:
        """Take a task that is no longer scheduled out of the due-time index (best effort)."""
        with contextlib.suppress(TransitionRejected):
            self._record(
                task_id,
                condition="#status <> :scheduled AND attribute_exists(due_at)",
                update="REMOVE due_shard, due_at",
                values={":scheduled": s_attr(TaskStatus.SCHEDULED)},
            )
