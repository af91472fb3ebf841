"""The task, its lifecycle and the message a lane carries.

Plain dataclasses, not pydantic: the functions that only move tasks (processors, dead letters,
reconciler, status) never import pydantic, which alone costs a quarter of a cold start. The API
still validates requests with pydantic models (tasklane.models), and these dataclasses are what it
documents as its responses. Timestamps are kept as the ISO 8601 UTC text tasklane stores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, TypeGuard

from tasklane.lanes import Lane

Timestamp = str  # ISO 8601 UTC with milliseconds, e.g. 2026-11-23T10:15:00.123Z (see tasklane.clock)


class TaskStatus(StrEnum):
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
    # A value above the inline threshold lives in the values bucket (see tasklane.limits): the task then
    # shows its size and a short-lived URL instead of the value.
    payload_size: int | None = None
    payload_url: str | None = None
    result_size: int | None = None
    result_url: str | None = None
    error: TaskError | None = None
    progress: Progress | None = None
    attempts: int = 0
    max_attempts: int
    timeout_seconds: int
    delay_seconds: int = 0
    created_at: Timestamp
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    updated_at: Timestamp

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
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "timeout_seconds": self.timeout_seconds,
            "delay_seconds": self.delay_seconds,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "updated_at": self.updated_at,
        }


def summary(task: Task) -> Task:
    """The task without its payload and result (what batch answers carry: bounded in size)."""
    return replace(task, payload=None, result=None, payload_url=None, result_url=None)


@dataclass(frozen=True, slots=True)
class TaskResult:
    task_id: str
    result: Any


@dataclass(frozen=True, slots=True)
class TaskPage:
    items: list[Task]
    next_cursor: str | None = None

    def public(self) -> dict[str, Any]:
        return {"items": [task.public() for task in self.items], "next_cursor": self.next_cursor}


@dataclass(frozen=True, slots=True)
class TaskMessage:
    """The small SQS message of a lane: the payload stays in DynamoDB."""

    task_id: str
    owner: str
    attempt: int
    correlation_id: str | None = None
    # Lets the processor see, before it starts a task, whether the time left in its invocation is enough.
    timeout_seconds: int | None = None

    @classmethod
    def for_task(cls, task: Task, owner: str, correlation_id: str | None) -> TaskMessage:
        """The message that queues the next attempt of a task: the one constructor submit, retry,
        redrive and the reconciler use."""
        return cls(task.task_id, owner, task.attempts + 1, correlation_id, task.timeout_seconds)

    def to_json(self) -> str:
        fields: dict[str, Any] = {"task_id": self.task_id, "owner": self.owner, "attempt": self.attempt}
        if self.correlation_id is not None:
            fields["correlation_id"] = self.correlation_id
        if self.timeout_seconds is not None:
            fields["timeout_seconds"] = self.timeout_seconds
        return json.dumps(fields, separators=(",", ":"))

    def next_attempt(self, attempt: int) -> TaskMessage:
        return replace(self, attempt=attempt)

    @classmethod
    def from_json(cls, body: str) -> TaskMessage | None:
        """The message in a lane body, or None when the body is not one (wrong JSON or wrong types)."""
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        task_id, owner, attempt = data.get("task_id"), data.get("owner"), data.get("attempt")
        correlation_id, timeout = data.get("correlation_id"), data.get("timeout_seconds")
        if not (isinstance(task_id, str) and isinstance(owner, str) and _is_int(attempt)):
            return None
        if not (correlation_id is None or isinstance(correlation_id, str)):
            return None
        if not (timeout is None or _is_int(timeout)):
            return None
        return cls(task_id, owner, attempt, correlation_id, timeout)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
