"""The message the webhook queue carries: one delivery to make, with the exact body every attempt posts."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from tasklane.model.task import Task, summary
from tasklane.records import record


def detail_type(status: str) -> str:
    """`Task Completed` for completed: every status, present and future, in one name (an event's
    DetailType and a webhook's `event`)."""
    return f"Task {status.capitalize()}"


@record(slots=True)
class WebhookMessage:
    """One webhook to deliver: the receiver, the task's facts the deliverer records and counts by, and
    the body (the task's summary at its change: no payload, no result, no deliveries)."""

    event_id: str  # the stream record's id: the same on every retry of the change
    task_id: str
    owner: str
    status: str
    priority: str
    task_type: str
    url: str
    changed_at: str  # the change's updated_at: deliveries are retried for a day from it
    body: str

    @classmethod
    def for_change(cls, task: Task, *, event_id: str, owner: str, url: str, changed_at: str) -> WebhookMessage:
        """The message of a task's terminal change (`task` as its owner reads it after the change): the
        one constructor the events function uses."""
        public = summary(task).public()
        del public["callback"]  # the receiver is the callback
        status = task.status.value
        posted = {"event": detail_type(status), "event_id": event_id, "task": public}
        return cls(
            event_id=event_id,
            task_id=task.task_id,
            owner=owner,
            status=status,
            priority=task.priority.value,
            task_type=task.task_type,
            url=url,
            changed_at=changed_at,
            body=json.dumps(posted, separators=(",", ":")),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> WebhookMessage | None:
        """The message in a queue body, or None when the body is not one (wrong JSON, a field missing
        or not a string). A message queued before priority and task_type were carried takes them from
        its body."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        if "priority" not in data or "task_type" not in data:
            data = {**_task_facts(data.get("body")), **data}
        fields: dict[str, Any] = {name: data.get(name) for name in cls.__dataclass_fields__}
        if not all(isinstance(value, str) for value in fields.values()):
            return None
        return cls(**fields)


def _task_facts(body: Any) -> dict[str, Any]:
    """priority and task_type from a posted body (messages of an earlier version)."""
    try:
        task = json.loads(body)["task"] if isinstance(body, str) else {}
    except (ValueError, KeyError, TypeError):
        return {}
    return {k: task.get(k) for k in ("priority", "task_type")} if isinstance(task, dict) else {}
