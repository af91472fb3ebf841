"""The task, its lifecycle statuses and the shapes that cross the API and the queues."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tasklane.lanes import Lane

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_BATCH_SIZE = 100


class TaskStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class Model(BaseModel):
    """Schemas are built on first use, not at import: a function pays only for the models it touches."""

    model_config = ConfigDict(defer_build=True)


class TaskError(Model):
    type: str
    message: str


class Progress(Model):
    percent: float = Field(ge=0, le=100)
    message: str | None = None


class SubmitRequest(Model):
    """One task as a client submits it; the payload is checked against its type's model later."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    task_type: str = Field(min_length=1, max_length=64, examples=["compute"])
    payload: dict[str, Any] = Field(default_factory=dict, examples=[{"n": 1000000}])
    priority: Lane = Lane.NORMAL
    delay_seconds: int = Field(default=0, ge=0, le=900)
    max_attempts: int | None = Field(default=None, ge=1, le=10)
    timeout_seconds: int | None = Field(default=None, ge=1)


class BatchRequest(Model):
    """Items are validated one by one so that valid items are accepted beside invalid ones."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    tasks: list[Any] = Field(min_length=1, max_length=MAX_BATCH_SIZE)


class Task(Model):
    task_id: str
    task_type: str
    priority: Lane
    status: TaskStatus
    payload: dict[str, Any] | None = None  # listings leave the payload out
    result: Any = None
    error: TaskError | None = None
    progress: Progress | None = None
    attempts: int = 0
    max_attempts: int
    timeout_seconds: int
    delay_seconds: int = 0
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime

    def public(self) -> dict[str, Any]:
        """The task as the API shows it (timestamps ISO 8601 UTC)."""
        return self.model_dump(mode="json")


class TaskPage(Model):
    items: list[Task]
    next_cursor: str | None = None


class ErrorBody(Model):
    code: str
    message: str
    details: Any = None


class AcceptedItem(Model):
    index: int
    task: Task


class RejectedItem(Model):
    index: int
    error: ErrorBody


class BatchResponse(Model):
    """One result per submitted item, in order: the accepted task or the item's error."""

    results: list[AcceptedItem | RejectedItem]


class TaskResult(Model):
    task_id: str
    result: Any


class Health(Model):
    status: str


class TaskMessage(Model):
    """The small SQS message of a lane: the payload stays in DynamoDB."""

    task_id: str
    owner: str
    attempt: int
    correlation_id: str | None = None
    # Lets the processor see, before it starts a task, whether the time left in its invocation is enough.
    timeout_seconds: int | None = None
