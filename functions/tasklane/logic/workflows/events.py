"""A workflow's end as an event on the bus (`Workflow Completed | Failed | Cancelled`) and as the
body of its callback's webhook: read from the tasks table's stream, as a task's are."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tasklane.data.tasks.changes import WorkflowChange
from tasklane.model.webhook_message import WebhookMessage
from tasklane.model.workflow import record_key


def detail_type(status: str) -> str:
    return f"Workflow {status.capitalize()}"


def detail(change: WorkflowChange) -> dict[str, Any]:
    """What the event tells: ids, owner, status and its previous one, error and timings; no result."""
    error = change.text("wf_error")  # the record's own error (a task's is `error`)
    return {
        "event_id": change.event_id,
        "workflow_id": change.text("workflow_id"),
        "owner": change.text("owner"),
        "status": change.status,
        "previous_status": change.previous,
        "on_failure": change.text("on_failure"),
        "total": int(change.image.get("total", {}).get("N", "0")),
        "error": json.loads(error) if error else None,
        "created_at": change.text("created_at"),
        "finished_at": change.text("finished_at"),
        "updated_at": change.text("updated_at"),
        "has_callback": "callback_url" in change.image,
    }


def event_entry(change: WorkflowChange, source: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Source": source,
        "DetailType": detail_type(change.status),
        "Detail": json.dumps(detail(change), separators=(",", ":")),
    }
    if updated := change.text("updated_at"):
        entry["Time"] = datetime.fromisoformat(updated)
    return entry


def webhook_message(change: WorkflowChange, url: str) -> WebhookMessage:
    """What the webhook queue carries for a workflow's end: the deliveries are recorded on its record,
    and counted under the workflow's own names."""
    workflow = {k: v for k, v in detail(change).items() if k not in ("owner", "event_id", "has_callback")}
    body = {"event": detail_type(change.status), "event_id": change.event_id, "workflow": workflow}
    return WebhookMessage(
        event_id=change.event_id,
        task_id=record_key(workflow["workflow_id"] or ""),
        owner=change.text("owner") or "",
        status=change.status,
        priority="workflow",
        task_type="workflow",
        url=url,
        changed_at=change.text("updated_at") or "",
        body=json.dumps(body, separators=(",", ":")),
    )
