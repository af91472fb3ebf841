"""Typed errors carrying the API's error code, message and details."""

from __future__ import annotations

from typing import Any


class TasklaneError(Exception):
    """An error answer from the API (or none at all): `status`, `code`, `message`, `details`."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str | None = None, details: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details

    def __str__(self) -> str:
        prefix = f"{self.status} {self.code}: " if self.status else ""
        return prefix + self.message


class InvalidRequest(TasklaneError):
    """400, 413, 415 or 422: the request itself is wrong; `details` names the fields."""


class AuthError(TasklaneError):
    """401 or 403: missing or wrong credentials or API key."""


class NotFound(TasklaneError):
    """404: no such task for this caller."""


class Conflict(TasklaneError):
    """409: the task's status does not allow it (see `details["status"]`), or an idempotency conflict."""


class Throttled(TasklaneError):
    """429 after every retry: the caller's rate or quota is exhausted."""


class ServerError(TasklaneError):
    """5xx after every retry."""


class EndpointError(TasklaneError):
    """The endpoint could not be reached or found."""


class LargeValueUnavailable(TasklaneError):
    """A large payload or result could not be read from its presigned URL (expired, refused or gone).

    The URL is short-lived: ask the API again (`Client.result`, `Client.get`) for a fresh one.
    `status` is the storage's HTTP status, `details` its error code and message and the URL's
    location without its signature.
    """


class TaskFailed(TasklaneError):
    """The task waited on ended `failed`; `task` holds it, `details` its error."""

    def __init__(self, task: dict[str, Any]) -> None:
        error = task.get("error") or {}
        super().__init__(
            f"task {task['task_id']} failed: {error.get('type')}: {error.get('message')}",
            code="task_failed",
            details=error,
        )
        self.task = task


class TaskCancelled(TasklaneError):
    def __init__(self, task: dict[str, Any]) -> None:
        super().__init__(f"task {task['task_id']} was cancelled", code="task_cancelled")
        self.task = task


class WaitTimeout(TasklaneError):
    def __init__(self, task: dict[str, Any], timeout: float) -> None:
        super().__init__(f"task {task['task_id']} still {task['status']} after {timeout:g}s", code="wait_timeout")
        self.task = task


# API Gateway's default answers (a stack deployed before its gateway responses, or an emulator that ignores
# them): {"message": ...} only. Each is given the code and actionable message the stack's own answers carry.
_GATEWAY_DEFAULTS = {
    "Missing Authentication Token": (
        "no_route_or_unsigned",
        "no route for this method and path, or the request is not signed: the routes are listed by GET /openapi.json",
    ),
    "Forbidden": (
        "invalid_api_key",
        "API key missing or not valid for this stage: pass --api-key or set TASKLANE_API_KEY",
    ),
    "Too Many Requests": ("throttled", "too many requests for this API key or stage: retry after a pause"),
    "Limit Exceeded": ("quota_exceeded", "this API key has used its quota: it renews at the start of its period"),
    "Endpoint request timed out": ("timeout", "the API did not answer within 29 s: retry"),
    "Request Too Long": ("request_too_large", "the request is larger than API Gateway accepts (10 MB)"),
}


def from_answer(status: int, body: Any) -> TasklaneError:
    """The typed error of an error answer with the API's body {"error": {code, message, details}}; an answer
    without it (API Gateway's defaults, a proxy's page) gets a code and a message that say what happened."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code, message, details = error.get("code"), str(error.get("message")), error.get("details")
    else:
        said = (body.get("message") or body.get("Message")) if isinstance(body, dict) else body
        text = "" if said is None else str(said).strip()
        code, message = _GATEWAY_DEFAULTS.get(text, (None, text or f"HTTP {status} with no message"))
        details = None
    code = code or f"http_{status}"
    kind: type[TasklaneError]
    if status in (400, 413, 415, 422):
        kind = InvalidRequest
    elif status in (401, 403):
        kind = AuthError
    elif status == 404:
        kind = NotFound
    elif status == 409:
        kind = Conflict
    elif status == 429:
        kind = Throttled
    elif status >= 500:
        kind = ServerError
    else:
        kind = TasklaneError
    return kind(message, status=status, code=code, details=details)


class UsageError(Exception):
    """What a command of `tasklane` was given cannot be used (exit 2)."""
