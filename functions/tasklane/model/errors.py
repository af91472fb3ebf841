"""Typed domain errors. routes/http.py maps each to its HTTP answer in one place."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tasklane.limits import MAX_ERROR_DETAILS, MAX_ERROR_TEXT


class TasklaneError(Exception):
    """Base of every error a caller can see; carries a stable code and details."""

    code = "internal_error"
    status = 500

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(TasklaneError):
    code, status = "bad_request", 400


class Unauthenticated(TasklaneError):
    code, status = "unauthenticated", 403


class TaskNotFound(TasklaneError):
    code, status = "task_not_found", 404

    def __init__(self, task_id: str) -> None:
        super().__init__(f"task {task_id} not found", {"task_id": task_id})


# The status InvalidTransition is given when an async attempt's token no longer names the current attempt.
STALE = "stale"


class InvalidTransition(TasklaneError):
    """A lifecycle change the task's current status does not allow."""

    code, status = "invalid_transition", 409

    def __init__(self, task_id: str, status: str, action: str) -> None:
        super().__init__(
            f"cannot {action} task {task_id}: this token's attempt is over "
            "(a later attempt or a retry has its own token)"
            if status == STALE
            else f"cannot {action} task {task_id}: it is {status}",
            {"task_id": task_id, "status": status},
        )


class AttemptOver(TasklaneError):
    """An async attempt whose lease (its deadline, or its next heartbeat) has passed: its token is spent."""

    code, status = "attempt_over", 409

    def __init__(self, task_id: str, attempt: int, missed: str, at: str, retried: bool) -> None:
        then = "tasklane retries the task with a new token" if retried else "tasklane fails the task"
        super().__init__(
            f"attempt {attempt} of task {task_id} is over: its {missed} at {at}; {then}",
            {"task_id": task_id, "attempt": attempt, "status": "over", "missed": missed, "at": at},
        )


class ScheduleNotFound(TasklaneError):
    code, status = "schedule_not_found", 404

    def __init__(self, name: str) -> None:
        super().__init__(f"schedule {name!r} not found", {"name": name})


class ScheduleExists(TasklaneError):
    code, status = "schedule_exists", 409

    def __init__(self, name: str) -> None:
        super().__init__(f"you have a schedule named {name!r} already", {"name": name})


class ScheduleLimitReached(TasklaneError):
    code, status = "schedule_limit_reached", 409

    def __init__(self, limit: int) -> None:
        super().__init__(f"you have {limit} schedules, the most this stack allows: delete one first", {"limit": limit})


class ScheduleChanged(TasklaneError):
    """The schedule was written by someone else between the read and the write of an edit."""

    code, status = "schedule_changed", 409

    def __init__(self, name: str) -> None:
        super().__init__(
            f"schedule {name!r} is being changed by another request: read it and try again", {"name": name}
        )


class BulkNotFound(TasklaneError):
    code, status = "bulk_not_found", 404

    def __init__(self, bulk_id: str) -> None:
        super().__init__(f"bulk action {bulk_id} not found", {"bulk_id": bulk_id})


class WorkflowNotFound(TasklaneError):
    code, status = "workflow_not_found", 404

    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"workflow {workflow_id} not found", {"workflow_id": workflow_id})


class WorkflowTaskLocked(TasklaneError):
    """A task of a workflow is moved by its workflow only: cancel or resubmit the workflow instead."""

    code, status = "workflow_task", 409

    def __init__(self, task_id: str, workflow_id: str, action: str) -> None:
        super().__init__(
            f"cannot {action} task {task_id} on its own: it is a node of workflow {workflow_id}; "
            + ("cancel the workflow instead" if action == "cancel" else "submit the workflow again"),
            {"task_id": task_id, "workflow_id": workflow_id},
        )


class WorkflowFinished(TasklaneError):
    code, status = "workflow_finished", 409

    def __init__(self, workflow_id: str, status: str) -> None:
        super().__init__(f"cannot cancel workflow {workflow_id}: it is {status}", {"workflow_id": workflow_id})


class ResultNotReady(TasklaneError):
    code, status = "result_not_ready", 409


class TaskFailed(TasklaneError):
    code, status = "task_failed", 409


class IdempotencyConflict(TasklaneError):
    code, status = "idempotency_conflict", 409


class PayloadTooLarge(TasklaneError):
    code, status = "payload_too_large", 413


class UnsupportedMediaType(TasklaneError):
    code, status = "unsupported_media_type", 415


class ValidationFailed(TasklaneError):
    """Details are a list of {field, message}, the field as a dotted path."""

    code, status = "validation_error", 422


class UnknownTaskType(ValidationFailed):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(
            f"unknown task_type {name!r}",
            [{"field": "task_type", "message": f"unknown task type; known types: {', '.join(known)}"}],
        )


class ServiceUnavailable(TasklaneError):
    """An AWS service tasklane depends on did not answer, after the SDK's own retries: try again.

    What AWS said (its text names roles, the account and tables) is kept for the log, as `str(exc)`
    and `reason`; a caller, a task's error and an answer see only `message`, which names no resource.
    """

    code, status = "service_unavailable", 503
    # What a caller is told; a subclass names the part of tasklane that did not answer.
    public_message = "a service tasklane depends on did not answer; try again shortly"

    def __init__(self, reason: str, details: Any = None) -> None:
        super().__init__(reason, None)
        self.reason = reason
        self.message = self.public_message


# Every request problem in tasklane's words, whatever library found it: by pydantic's error type, then its
# message's library phrasing turned into ours ("Input should be 'high'..." reads "must be 'high'...").
_OBJECT = "must be a JSON object"
_BY_TYPE = {
    "missing": "is required",
    "extra_forbidden": "is not a field tasklane knows",
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dict_type": _OBJECT,
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "list_type": "must be a JSON array",
}
_PREFIXES = ("Value error, ", "Assertion failed, ")
_PHRASES = (
    ("Input should be", "must be"),
    ("String should have", "must have"),
    ("List should have", "must have"),
    ("Dictionary should have", "must have"),
    ("Value should have", "must have"),
    ("Input should", "must"),
    ("Field required", "is required"),
)


def plain_message(err: Mapping[str, Any]) -> str:
    """One validation problem's message as tasklane says it: no library prefix, class name or jargon."""
    kind, message = err.get("type"), str(err.get("msg", ""))
    if kind in _BY_TYPE:
        message = _BY_TYPE[str(kind)]
        if isinstance(err.get("input"), bool) and "number" in message:
            message += ", not true or false"  # JSON's booleans are not numbers
        return message
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    for library, ours in _PHRASES:
        if message.startswith(library):
            message = ours + message[len(library) :]
    return message


def field_details(errors: Iterable[Mapping[str, Any]], prefix: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """pydantic-style errors as [{field, message}], the field a dotted path; at most MAX_ERROR_DETAILS
    of them (then one line counting the rest), each bounded, so that every answer stays small. A value
    that cannot be stored (tasklane.model.values) names each of its own places (`payload.n`)."""
    found: list[tuple[str, str]] = []
    for err in errors:
        problems = (err.get("ctx") or {}).get("problems") if err.get("type") == "value_not_storable" else None
        if problems:
            found += [(".".join([*prefix, p["field"]]), p["message"]) for p in problems]
            continue
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        found.append((".".join([*prefix, *loc]) or "body", plain_message(err)))
    details = [
        {"field": field[:MAX_ERROR_TEXT], "message": message[:MAX_ERROR_TEXT]}
        for field, message in found[:MAX_ERROR_DETAILS]
    ]
    if len(found) > MAX_ERROR_DETAILS:
        details.append({"field": "", "message": f"and {len(found) - MAX_ERROR_DETAILS} more problems"})
    return details


class TaskTypeNotFound(TasklaneError):
    code, status = "task_type_not_found", 404

    def __init__(self, name: str) -> None:
        super().__init__(f"task type {name!r} not found", {"name": name})


class BuiltinTaskType(TasklaneError):
    code, status = "builtin_task_type", 409

    def __init__(self, name: str) -> None:
        super().__init__(f"{name!r} is a built-in task type: choose another name", {"name": name})


class TaskTypeLimitReached(TasklaneError):
    code, status = "task_type_limit_reached", 409

    def __init__(self, limit: int) -> None:
        super().__init__(f"you have {limit} task types, the most this stack allows: delete one first", {"limit": limit})
