"""Status changes as the tasks table's stream carries them (both images, DynamoDB JSON)."""

from __future__ import annotations

from typing import Any

from tasklane.data.tasks.codec import task_fields, to_stored
from tasklane.model.task import TASK_FIELDS, Task, role, shown
from tasklane.model.workflow import WORKFLOW_KIND
from tasklane.records import record

# The fields a status-change event tells, as Task declares them (never the payload or the result).
EVENT_FIELDS = tuple(f.name for f in TASK_FIELDS if role(f).in_event)

TERMINAL = ("completed", "failed", "cancelled")


@record
class StatusChange:
    """One task's move from `previous` (None for a new task) to its new status."""

    event_id: str  # the stream record's id: the same on every retry of this record
    sequence: str
    image: dict[str, Any]  # the task item after the change
    previous: str | None

    def text(self, name: str) -> str | None:
        value = self.image.get(name, {})
        return value.get("S")

    @property
    def status(self) -> str:
        return self.image["status"]["S"]

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def told(self) -> dict[str, Any]:
        """The task fields its event tells, as the API shows them (None where the item has none)."""
        read = task_fields(self.image, EVENT_FIELDS)
        return {name: shown(read.get(name)) for name in EVENT_FIELDS}

    def task(self) -> Task:
        """The task after the change, as its owner reads it."""
        return to_stored(self.image).task


def status_change(record: dict[str, Any]) -> StatusChange | None:
    """The status change a stream record carries; None for any other write (progress, deliveries, a
    lease, TTL removal), which the event source mapping's filter should have kept away already."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    stream = record.get("dynamodb", {})
    new, old = stream.get("NewImage") or {}, stream.get("OldImage") or {}
    if "status" not in new or "task_id" not in new or "kind" in new:  # a workflow's record: workflow_change
        return None
    previous = old["status"]["S"] if "status" in old else None
    if previous == new["status"]["S"]:
        return None
    return StatusChange(record["eventID"], stream["SequenceNumber"], new, previous)


@record
class WorkflowChange:
    """A workflow record's move from `previous` to its new status (tasklane.data.tasks.workflows)."""

    event_id: str
    sequence: str
    image: dict[str, Any]
    previous: str | None

    def text(self, name: str) -> str | None:
        return self.image.get(name, {}).get("S")

    @property
    def status(self) -> str:
        return self.image["status"]["S"]

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def workflow_change(record: dict[str, Any]) -> WorkflowChange | None:
    """The status change of a workflow record a stream record carries; None for any other write."""
    if record.get("eventName") != "MODIFY":
        return None
    stream = record.get("dynamodb", {})
    new, old = stream.get("NewImage") or {}, stream.get("OldImage") or {}
    if new.get("kind", {}).get("S") != WORKFLOW_KIND or "status" not in new:
        return None
    previous = old["status"]["S"] if "status" in old else None
    if previous == new["status"]["S"]:
        return None
    return WorkflowChange(record["eventID"], stream["SequenceNumber"], new, previous)
