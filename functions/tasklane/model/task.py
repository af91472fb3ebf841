"""The task and its lifecycle.

Plain dataclasses, not pydantic: the functions that only move tasks (processors, dead letters,
reconciler, status) never import pydantic, which alone costs a quarter of a cold start. The API
still validates requests with pydantic models (tasklane.model.requests), and these dataclasses are
what it documents as its responses. Timestamps are kept as the ISO 8601 UTC text tasklane stores.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Annotated, Any

from tasklane.model.callbacks import Callback
from tasklane.model.lanes import Lane
from tasklane.model.limits import MAX_ERROR_MESSAGE_CHARS, MAX_ERROR_TYPE_CHARS


class _DateTimeText:
    """Marks ISO 8601 text in the API's OpenAPI document (pydantic calls this hook when it builds
    the document; nothing here imports pydantic)."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        schema = handler(core_schema)
        schema["format"] = "date-time"
        return schema


# ISO 8601 UTC with milliseconds, e.g. 2026-11-23T10:15:00.123Z (see tasklane.model.clock).
Timestamp = Annotated[str, _DateTimeText()]


class TaskStatus(StrEnum):
    SCHEDULED = "scheduled"  # due later than a lane message can wait: promoted to pending when due
    WAITING = "waiting"  # a workflow's task whose turn has not come: pending once what it waits for ended
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class TaskError:
    type: str
    message: str

    def __post_init__(self) -> None:
        # Bounded once, here: what is stored, compared and answered is the same text.
        if len(self.type) > MAX_ERROR_TYPE_CHARS or len(self.message) > MAX_ERROR_MESSAGE_CHARS:
            object.__setattr__(self, "type", self.type[:MAX_ERROR_TYPE_CHARS])
            object.__setattr__(self, "message", self.message[:MAX_ERROR_MESSAGE_CHARS])


@dataclass(frozen=True, slots=True)
class Progress:
    percent: float  # 0 to 100
    message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    task_id: str
    task_type: str
    priority: Lane
    status: TaskStatus
    payload: dict[str, Any] | None = None  # listings leave the payload out; None when it is large
    result: Any = None  # None when it is large
    # A value above the inline threshold lives in the values bucket (see tasklane.model.limits): the task then
    # shows its size and a short-lived URL instead of the value.
    payload_size: int | None = None
    payload_url: str | None = None
    result_size: int | None = None
    result_url: str | None = None
    error: TaskError | None = None
    progress: Progress | None = None
    waiting_for: str | None = None  # why a pending task is held back: "rate_limit" or "owner_concurrency"
    attempts: int = 0
    max_attempts: int
    timeout_seconds: int
    delay_seconds: int = 0
    run_at: Timestamp | None = None  # when a delayed task may start at the earliest
    created_at: Timestamp
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    updated_at: Timestamp
    callback: Callback | None = None  # the webhook of a terminal status, and its last deliveries
    workflow_id: str | None = None  # the workflow this task is a node of

    def etag(self) -> str:
        """A weak HTTP entity tag of what a watcher sees change: status, progress, waiting reason, and
        the webhook's deliveries."""
        progress = (self.progress.percent, self.progress.message) if self.progress else None
        deliveries = len(self.callback.deliveries) if self.callback else 0
        seen = f"{self.status.value}|{self.updated_at}|{self.attempts}|{self.waiting_for}|{progress}|{deliveries}"
        return f'W/"{hashlib.sha256(seen.encode()).hexdigest()[:16]}"'

    def public(self) -> dict[str, Any]:
        """The task as the API shows it (JSON-ready; payload and result are not copied)."""
        return {
            "task_id": self.task_id,
            "task_type": self.task_type,
            "priority": self.priority.value,
            "status": self.status.value,
            "payload": self.payload,
            "payload_size": self.payload_size,
            "payload_url": self.payload_url,
            "result": self.result,
            "result_size": self.result_size,
            "result_url": self.result_url,
            "error": {"type": self.error.type, "message": self.error.message} if self.error else None,
            "progress": {"percent": self.progress.percent, "message": self.progress.message} if self.progress else None,
            "waiting_for": self.waiting_for,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "timeout_seconds": self.timeout_seconds,
            "delay_seconds": self.delay_seconds,
            "run_at": self.run_at,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "updated_at": self.updated_at,
            "callback": self.callback.public() if self.callback else None,
            "workflow_id": self.workflow_id,
        }


def summary(task: Task) -> Task:
    """The task without its payload and result (what batch answers carry: bounded in size)."""
    return replace(task, payload=None, result=None, payload_url=None, result_url=None)
