"""Completion events: every status change of a task, read from the tasks table's stream (no dual
write: a change that is stored is published, whatever happens to the function that made it), put on
the stack's EventBridge bus; a terminal change of a task with a callback queued for its webhook.

A record is acknowledged only when its event was taken (and its webhook queued): a failed PutEvents
entry fails that record alone, and the stream delivers it again. Events are at least once; `event_id`
tells a repeat.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tasklane.data.notifications import HasBus, HasWebhookQueue
from tasklane.data.tasks.changes import StatusChange, WorkflowChange, status_change, workflow_change
from tasklane.model.webhook_message import WebhookMessage, detail_type
from tasklane.observability import count, logger

SOURCE = "tasklane"


class EventNotPublished(Exception):
    """The bus did not take this record's event; the stream delivers the record again."""


def detail(change: StatusChange) -> dict[str, Any]:
    """What an event tells: ids, type, owner, status and its previous one, error and timings; never
    the payload or the result."""
    return {
        "event_id": change.event_id,
        **change.told(),
        "owner": change.text("owner"),
        "previous_status": change.previous,
        "correlation_id": change.text("correlation_id"),
        "has_callback": "callback_url" in change.image,
    }


def event_entry(change: StatusChange) -> dict[str, Any]:
    """The PutEvents entry of a change, timed when the change was made (not when it is published)."""
    updated = change.text("updated_at")
    entry: dict[str, Any] = {
        "Source": SOURCE,
        "DetailType": detail_type(change.status),
        "Detail": json.dumps(detail(change), separators=(",", ":")),
    }
    if updated:
        entry["Time"] = datetime.fromisoformat(updated)
    return entry


@dataclass
class Publication:
    """The changes of one batch of stream records, by sequence number, and those not published."""

    changes: dict[str, StatusChange] = field(default_factory=dict)
    unpublished: set[str] = field(default_factory=set)
    workflows: dict[str, WorkflowChange] = field(default_factory=dict)  # workflow records' ends


def publish(records: list[dict[str, Any]], notifications: HasBus) -> Publication:
    """Put the events of a batch's status changes on the bus, ten to a request."""
    publication = Publication()
    for record in records:
        if (change := status_change(record)) is not None:
            publication.changes[change.sequence] = change
        elif (ended := workflow_change(record)) is not None and ended.terminal:
            publication.workflows[ended.sequence] = ended
    ordered = list(publication.changes.values())
    entries = [event_entry(c) for c in ordered]
    if publication.workflows:
        from tasklane.logic.workflows import events as workflow_events

        entries += [workflow_events.event_entry(w, SOURCE) for w in publication.workflows.values()]
    failed = notifications.bus.publish(entries) if entries else set()
    sequences = [c.sequence for c in ordered] + list(publication.workflows)
    publication.unpublished = {sequences[i] for i in failed}
    failed = {i for i in failed if i < len(ordered)}
    logger.info("status changes published", extra={"records": len(records), "events": len(ordered) - len(failed)})
    for index, change in enumerate(ordered):
        if index not in failed:
            count(change.text("priority") or "", change.text("task_type") or "", "TaskEventPublished")
    return publication


def settle(record: dict[str, Any], publication: Publication, notifications: HasWebhookQueue) -> None:
    """One record's outcome: failed if its event was not taken; its webhook queued if it ends a task
    that has a callback (a failed send fails the record, and both are done again)."""
    sequence = record.get("dynamodb", {}).get("SequenceNumber", "")
    change = publication.changes.get(sequence)
    if change is None:
        _settle_workflow(sequence, publication, notifications)
        return
    if sequence in publication.unpublished:
        raise EventNotPublished(f"the event of task {change.text('task_id')} was not taken by the bus")
    if change.terminal and (url := change.text("callback_url")):
        notifications.webhook_queue.send(webhook_message(change, url).to_json())


def webhook_message(change: StatusChange, url: str) -> WebhookMessage:
    """What the webhook queue carries for a terminal change: the receiver and the body every attempt posts."""
    return WebhookMessage.for_change(
        change.task(),
        event_id=change.event_id,
        owner=change.text("owner") or "",
        url=url,
        changed_at=change.text("updated_at") or "",
    )


def _settle_workflow(sequence: str, publication: Publication, notifications: HasWebhookQueue) -> None:
    """A workflow's end: failed if its event was not taken; its callback's webhook queued."""
    ended = publication.workflows.get(sequence)
    if ended is None:
        return
    if sequence in publication.unpublished:
        raise EventNotPublished(f"the event of workflow {ended.text('workflow_id')} was not taken by the bus")
    if url := ended.text("callback_url"):
        from tasklane.logic.workflows import events as workflow_events

        notifications.webhook_queue.send(workflow_events.webhook_message(ended, url).to_json())
