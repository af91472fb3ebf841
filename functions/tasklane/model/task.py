"""The task and its lifecycle.

Plain dataclasses, not pydantic: the functions that only move tasks (processors, dead letters,
reconciler, status) never import pydantic, which alone costs a quarter of a cold start. The API
still validates requests with pydantic models (tasklane.model.requests), and these dataclasses are
what it documents as its responses. Timestamps are kept as the ISO 8601 UTC text tasklane stores.
"""

from __future__ import annotations

import hashlib
from dataclasses import Field, field, fields, replace
from enum import Enum, StrEnum
from typing import Annotated, Any

from tasklane.limits import MAX_ERROR_MESSAGE_CHARS, MAX_ERROR_TYPE_CHARS
from tasklane.model.callbacks import Callback
from tasklane.model.lanes import Lane
from tasklane.records import record


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


# The error type of a task failed by its lane's dead-letter queue (stats count them by it).
DEAD_LETTERED = "DeadLettered"


@record(slots=True)
class TaskError:
    type: str
    message: str

    def public(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message}

    def __post_init__(self) -> None:
        # Bounded once, here: what is stored, compared and answered is the same text.
        if len(self.type) > MAX_ERROR_TYPE_CHARS or len(self.message) > MAX_ERROR_MESSAGE_CHARS:
            object.__setattr__(self, "type", self.type[:MAX_ERROR_TYPE_CHARS])
            object.__setattr__(self, "message", self.message[:MAX_ERROR_MESSAGE_CHARS])


@record(slots=True)
class Progress:
    percent: float  # 0 to 100
    message: str | None = None

    def public(self) -> dict[str, Any]:
        return {"percent": self.percent, "message": self.message}


@record(slots=True)
class AttemptOutcome:
    """How one attempt ended: `completed`, or `failed` with its error (retried at the task's
    next_attempt_at while attempts remain). A task keeps the last ATTEMPTS_KEPT of them."""

    attempt: int
    outcome: str
    at: str  # when it ended (ISO 8601 UTC)
    error: TaskError | None = None

    def public(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "outcome": self.outcome,
            "at": self.at,
            "error": self.error.public() if self.error else None,
        }


ATTEMPTS_KEPT = 10


class Kept(StrEnum):
    """How the tasks table keeps a field (tasklane.data.tasks.codec turns each kind into its attribute)."""

    TEXT = "text"
    NUMBER = "number"  # a whole number
    LANE = "lane"
    STATUS = "status"
    VALUE = "value"  # JSON text inline, or an object in the values bucket: written by its own code
    ERROR = "error"
    PROGRESS = "progress"
    CALLBACK = "callback"  # callback_url, with the deliveries kept beside it
    HISTORY = "history"  # one attribute per attempt slot, written by each attempt's outcome
    NOT_KEPT = "not_kept"  # made when the task is read (the values' URLs)


@record(slots=True)
class FieldRole:
    """Where a task field goes besides the API's answer: the table, a listing's read, the bus event."""

    kept: Kept
    listed: bool  # read back for a listing (GET /tasks)
    in_event: bool  # told by the task's status-change event on the bus


def declared(kept: Kept, *, listed: bool = True, in_event: bool = False) -> dict[str, FieldRole]:
    """A Task field's metadata: where it goes besides the answer (its item attribute, the listing's read,
    the event). Each field is declared once; every mapping is derived from these declarations."""
    return {"role": FieldRole(kept, listed, in_event)}


def role(f: Field[Any]) -> FieldRole:
    """The declared role of a Task field."""
    return f.metadata["role"]


def shown(value: Any) -> Any:
    """A field's value as the API answers it (JSON-ready): enums as their value, parts as their public form."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, TaskError | Progress | Callback | AttemptOutcome):
        return value.public()
    if isinstance(value, tuple):
        return [shown(v) for v in value]
    return value


@record(slots=True, kw_only=True)
class Task:
    """A task as its owner sees it. Each field is declared once, here, with where else it goes: to add one,
    add its line (and a test); the answer, the table item, the listing and the event follow."""

    task_id: str = field(metadata=declared(Kept.TEXT, in_event=True))
    task_type: str = field(metadata=declared(Kept.TEXT, in_event=True))
    priority: Lane = field(metadata=declared(Kept.LANE, in_event=True))
    status: TaskStatus = field(metadata=declared(Kept.STATUS, in_event=True))
    payload: dict[str, Any] | None = field(
        default=None, metadata=declared(Kept.VALUE, listed=False)
    )  # None when large or listed
    # A value above the inline threshold lives in the values bucket (see tasklane.limits): the task then
    # shows its size and a short-lived URL instead of the value.
    payload_size: int | None = field(default=None, metadata=declared(Kept.NUMBER, listed=False))
    payload_url: str | None = field(default=None, metadata=declared(Kept.NOT_KEPT))
    result: Any = field(default=None, metadata=declared(Kept.VALUE, listed=False))
    result_size: int | None = field(default=None, metadata=declared(Kept.NUMBER, listed=False))
    result_url: str | None = field(default=None, metadata=declared(Kept.NOT_KEPT))
    error: TaskError | None = field(default=None, metadata=declared(Kept.ERROR, in_event=True))
    progress: Progress | None = field(default=None, metadata=declared(Kept.PROGRESS))
    # why a pending task is held back: "rate_limit" or "owner_concurrency"
    waiting_for: str | None = field(default=None, metadata=declared(Kept.TEXT))
    attempts: int = field(default=0, metadata=declared(Kept.NUMBER, in_event=True))
    # the last ATTEMPTS_KEPT attempts' outcomes, oldest first
    attempt_history: tuple[AttemptOutcome, ...] = field(default=(), metadata=declared(Kept.HISTORY, listed=False))
    max_attempts: int = field(metadata=declared(Kept.NUMBER, in_event=True))
    timeout_seconds: int = field(metadata=declared(Kept.NUMBER))
    delay_seconds: int = field(default=0, metadata=declared(Kept.NUMBER))
    run_at: Timestamp | None = field(
        default=None, metadata=declared(Kept.TEXT)
    )  # when a delayed task may start at the earliest
    created_at: Timestamp = field(metadata=declared(Kept.TEXT, in_event=True))
    started_at: Timestamp | None = field(default=None, metadata=declared(Kept.TEXT, in_event=True))
    finished_at: Timestamp | None = field(default=None, metadata=declared(Kept.TEXT, in_event=True))
    updated_at: Timestamp = field(metadata=declared(Kept.TEXT, in_event=True))
    # while it waits after a failed attempt: when the next one may start (its last error stays shown)
    next_attempt_at: Timestamp | None = field(default=None, metadata=declared(Kept.TEXT))
    # while it runs: when the attempt's time limit (timeout_seconds) ends
    deadline: Timestamp | None = field(default=None, metadata=declared(Kept.TEXT))
    # the name of the recurring schedule whose firing submitted it (None for a task submitted directly)
    schedule: str | None = field(default=None, metadata=declared(Kept.TEXT, in_event=True))
    # the webhook of a terminal status, and its last deliveries
    callback: Callback | None = field(default=None, metadata=declared(Kept.CALLBACK, listed=False))
    # the workflow this task is a node of
    workflow_id: str | None = field(default=None, metadata=declared(Kept.TEXT))

    def etag(self) -> str:
        """A weak HTTP entity tag of what a watcher sees change: status, progress, waiting reason, and
        the webhook's deliveries."""
        progress = (self.progress.percent, self.progress.message) if self.progress else None
        deliveries = len(self.callback.deliveries) if self.callback else 0
        seen = f"{self.status.value}|{self.updated_at}|{self.attempts}|{self.waiting_for}|{progress}|{deliveries}"
        return f'W/"{hashlib.sha256(seen.encode()).hexdigest()[:16]}"'

    def public(self) -> dict[str, Any]:
        """The task as the API shows it (JSON-ready; payload and result are not copied)."""
        return {f.name: shown(getattr(self, f.name)) for f in TASK_FIELDS}


TASK_FIELDS: tuple[Field[Any], ...] = fields(Task)


def summary(task: Task) -> Task:
    """The task without its payload and result (what batch answers carry: bounded in size)."""
    return replace(task, payload=None, result=None, payload_url=None, result_url=None)
