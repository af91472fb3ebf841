"""Bulk actions: which of a caller's tasks one applies to, the job that records its progress, and
the message that carries it from one page of tasks to the next (the bulk queue's message)."""

from __future__ import annotations

import json
from dataclasses import field
from enum import StrEnum
from typing import Any

from tasklane.model.lanes import Lane
from tasklane.model.task import TaskStatus
from tasklane.records import record


class BulkAction(StrEnum):
    CANCEL = "cancel"
    RETRY = "retry"

    @property
    def applies_to(self) -> tuple[TaskStatus, ...]:
        """The statuses the action's transition starts from (the single-task routes' own)."""
        if self is BulkAction.CANCEL:
            return (TaskStatus.PENDING, TaskStatus.SCHEDULED)
        return (TaskStatus.FAILED, TaskStatus.CANCELLED)


class BulkState(StrEnum):
    RUNNING = "running"
    DONE = "done"


@record(slots=True)
class BulkFilter:
    """Which tasks: each field narrows; created_after is inclusive, created_before exclusive (ISO
    text at tasklane's millisecond precision, UTC)."""

    status: TaskStatus | None = None
    task_type: str | None = None
    priority: Lane | None = None
    created_after: str | None = None
    created_before: str | None = None

    def public(self) -> dict[str, str]:
        fields = {
            "status": self.status,
            "task_type": self.task_type,
            "priority": self.priority,
            "created_after": self.created_after,
            "created_before": self.created_before,
        }
        return {name: str(value) for name, value in fields.items() if value is not None}

    @classmethod
    def parse(cls, fields: dict[str, Any]) -> BulkFilter:
        return cls(
            status=TaskStatus(fields["status"]) if fields.get("status") else None,
            task_type=fields.get("task_type"),
            priority=Lane(fields["priority"]) if fields.get("priority") else None,
            created_after=fields.get("created_after"),
            created_before=fields.get("created_before"),
        )


@record(slots=True)
class BulkOrder:
    """What a caller asks: an action, the filter of the tasks it applies to, and whether only to count."""

    action: BulkAction
    filter: BulkFilter
    dry_run: bool = False


@record(slots=True)
class BulkCounts:
    """matched: tasks of the filter in a status the action applies to; changed: moved by it;
    skipped: matched but moved by something else first (or, for a retry, whose payload expired)."""

    matched: int = 0
    changed: int = 0
    skipped: int = 0

    def __add__(self, other: BulkCounts) -> BulkCounts:
        return BulkCounts(self.matched + other.matched, self.changed + other.changed, self.skipped + other.skipped)


@record(slots=True)
class BulkJob:
    """A bulk action as stored: `page` is the number of the next page to apply, `position` where
    it starts in the owner's listing (None: from the newest, or the created_before bound)."""

    bulk_id: str
    owner: str
    action: BulkAction
    filter: BulkFilter
    dry_run: bool
    created_at: str
    state: BulkState = BulkState.RUNNING
    counts: BulkCounts = field(default_factory=BulkCounts)
    page: int = 0
    position: str | None = None
    finished_at: str | None = None

    def public(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "bulk_id": self.bulk_id,
            "action": self.action.value,
            "filter": self.filter.public(),
            "dry_run": self.dry_run,
            "status": self.state.value,
            "matched": self.counts.matched,
            "changed": self.counts.changed,
            "skipped": self.counts.skipped,
            "created_at": self.created_at,
        }
        if self.finished_at:
            answer["finished_at"] = self.finished_at
        return answer


@record(slots=True)
class BulkPage:
    """The bulk queue's message: apply page `page` of job `bulk_id`, starting at `position`."""

    bulk_id: str
    page: int
    position: str | None

    @classmethod
    def next_of(cls, job: BulkJob) -> BulkPage:
        """The message for the job's next page, as its record says: the one constructor."""
        return cls(job.bulk_id, job.page, job.position)

    def to_json(self) -> str:
        return json.dumps({"bulk_id": self.bulk_id, "page": self.page, "position": self.position})

    @classmethod
    def from_json(cls, body: str) -> BulkPage:
        """The message a body carries; ValueError for anything else."""
        try:
            fields = json.loads(body)
            bulk_id, page, position = fields["bulk_id"], fields["page"], fields["position"]
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"not a bulk page message: {body[:200]!r}") from None
        if not isinstance(bulk_id, str) or not isinstance(page, int) or not isinstance(position, (str, type(None))):
            raise ValueError(f"not a bulk page message: {body[:200]!r}")
        return cls(bulk_id, page, position)
