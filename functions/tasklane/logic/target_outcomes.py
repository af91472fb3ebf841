"""How a target's answer ends an attempt: failed for good (an Unfinishable, which the processor fails
at once), or failed for now (TargetUnavailable: retried with backoff, or after the target's
Retry-After where it gave one, up to the backoff ceiling)."""

from __future__ import annotations

from tasklane.logic.task_values import Unfinishable

BODY_START_CHARS = 200


class TargetUnavailable(Exception):
    """This attempt failed and another may succeed (408, 429, 5xx, refused, timed out, function error)."""

    def __init__(self, error_type: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.type = error_type
        self.message = message
        self.retry_after = retry_after


def rejected(status: int, body: bytes) -> Unfinishable:
    """A 4xx (not 408 or 429), or a redirect: the target refuses this task; another try would too."""
    start = body[:BODY_START_CHARS].decode("utf-8", "replace")
    return Unfinishable("TargetRejected", f"the target answered {status}: {start}")


class TaskTypeRemoved(Unfinishable):
    """The task's registered type was deleted before the task ran."""

    def __init__(self, name: str) -> None:
        super().__init__("TaskTypeRemoved", f"task type {name!r} was deleted before this task ran")


def retry_after(value: str | None) -> int | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), None when absent or unread."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    from email.utils import parsedate_to_datetime

    from tasklane.model import clock

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0, int((when - clock.now()).total_seconds()))
