"""The message a lane carries: small, the payload stays in the table (or the values bucket)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeGuard

from tasklane.model.ids import is_task_id
from tasklane.records import record

if TYPE_CHECKING:
    from tasklane.model.task import Task


@record(slots=True)
class TaskMessage:
    """The small SQS message of a lane: the payload stays in DynamoDB."""

    task_id: str
    owner: str
    attempt: int
    correlation_id: str | None = None
    # Lets the processor see, before it starts a task, whether the time left in its invocation is enough.
    timeout_seconds: int | None = None
    # Lets the processor hold a task to its type's rate before it claims it.
    task_type: str | None = None

    @classmethod
    def for_task(cls, task: Task, owner: str, correlation_id: str | None) -> TaskMessage:
        """The message that queues the next attempt of a task: the one constructor submit, retry,
        redrive and the reconciler use."""
        return cls(task.task_id, owner, task.attempts + 1, correlation_id, task.timeout_seconds, task.task_type)

    def to_json(self) -> str:
        fields: dict[str, Any] = {"task_id": self.task_id, "owner": self.owner, "attempt": self.attempt}
        if self.correlation_id is not None:
            fields["correlation_id"] = self.correlation_id
        if self.timeout_seconds is not None:
            fields["timeout_seconds"] = self.timeout_seconds
        if self.task_type is not None:
            fields["task_type"] = self.task_type
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
        if not (isinstance(task_id, str) and isinstance(owner, str) and _is_int(attempt)):
            return None
        optional = {
            "correlation_id": (data.get("correlation_id"), str),
            "timeout_seconds": (data.get("timeout_seconds"), int),
            "task_type": (data.get("task_type"), str),
        }
        for value, kind in optional.values():
            if value is not None and not (_is_int(value) if kind is int else isinstance(value, kind)):
                return None
        return cls(task_id, owner, attempt, **{name: value for name, (value, _) in optional.items()})


def parse_message(body: str) -> TaskMessage | None:
    """The message in a lane body, or None when it is not one (including a task id that is not one)."""
    message = TaskMessage.from_json(body)
    return message if message is not None and is_task_id(message.task_id) else None


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
