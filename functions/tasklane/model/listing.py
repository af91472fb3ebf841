"""What the read routes take and answer besides a task: a listing's query and page, a result (as the
API documents it, and as the route answers it: inline or a URL).

Only the status function lists and reads results; the functions that move tasks never load these.
"""

from __future__ import annotations

from typing import Any

from tasklane.model.lanes import Lane
from tasklane.model.task import Task, TaskStatus
from tasklane.records import record


@record(slots=True)
class ListQuery:
    """Which of a caller's tasks to list: newest first, created before `before` (a listing position)."""

    owner: str
    limit: int
    before: str | None = None
    status: TaskStatus | None = None
    task_type: str | None = None
    priority: Lane | None = None
    schedule: str | None = None  # the recurring schedule whose firings submitted the tasks


@record(slots=True)
class TaskResult:
    task_id: str
    result: Any


@record(slots=True)
class TaskPage:
    items: list[Task]
    next_cursor: str | None = None

    def public(self) -> dict[str, Any]:
        return {"items": [task.public() for task in self.items], "next_cursor": self.next_cursor}


@record
class ResultAnswer:
    """A completed task's result: its JSON text to answer inline, or the URL to send the caller to."""

    task_id: str
    json_text: str | None = None
    url: str | None = None
    size: int | None = None
