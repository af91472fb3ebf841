"""Submission: check new tasks against their type and the limits, store them, and queue them.

The one part of the task logic that needs pydantic (the request and payload models), so it lives
apart from reads, cancel and retry, which the status function runs without it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from tasklane import clock, values
from tasklane.backend import Backend
from tasklane.domain import Task, TaskMessage, TaskStatus, summary
from tasklane.errors import PayloadTooLarge, TasklaneError, ValidationFailed, field_details
from tasklane.ids import new_task_id
from tasklane.lanes import Lane
from tasklane.limits import INLINE_VALUE_BYTES, MAX_PAYLOAD_BYTES
from tasklane.models import SubmitRequest
from tasklane.observability import count, logger
from tasklane.queue import QueueUnavailable
from tasklane.store import StoredTask, StoredValue
from tasklane.task_types import get_task_type
from tasklane.tasks import Accepted, note_unsent, queue, view
from tasklane.value_store import ValueUnavailable, payload_key


@dataclass(frozen=True)
class NewTask:
    """A checked submission: the pending task and its payload as JSON."""

    task: Task
    payload_json: bytes


def prepare(request: SubmitRequest, backend: Backend, now: datetime) -> NewTask:
    """Check a submission against its task type and limits; the pending task it becomes."""
    task_type = get_task_type(request.task_type)
    payload = task_type.parse_payload(request.payload).model_dump(mode="json")
    try:
        encoded = values.encode(payload)
    except values.ValueNotStorable as exc:
        raise ValidationFailed("the payload has no JSON form", [{"field": "payload", "message": str(exc)}]) from None
    if len(encoded) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"payload is {len(encoded)} bytes of JSON; the limit is {MAX_PAYLOAD_BYTES}",
            {"field": "payload", "size": len(encoded), "limit": MAX_PAYLOAD_BYTES},
        )
    limit = backend.settings.max_task_timeout_seconds
    # A type's default is capped by this deployment's limit; an explicit request above it is an error.
    timeout = request.timeout_seconds or min(task_type.timeout_seconds, limit)
    if timeout > limit:
        raise ValidationFailed(
            "timeout_seconds is above the processor's limit",
            [{"field": "timeout_seconds", "message": f"must be at most {limit}"}],
        )
    task = Task(
        task_id=new_task_id(),
        task_type=task_type.name,
        priority=request.priority,
        status=TaskStatus.PENDING,
        payload=payload,
        payload_size=len(encoded),
        max_attempts=request.max_attempts or task_type.max_attempts,
        timeout_seconds=timeout,
        delay_seconds=request.delay_seconds,
        created_at=clock.iso(now),
        updated_at=clock.iso(now),
    )
    return NewTask(task, encoded)


def _keep_payload(new: NewTask, backend: Backend) -> StoredValue:
    """Inline up to the threshold; above it, in the values bucket first, then referred to by the item."""
    size = len(new.payload_json)
    if size <= INLINE_VALUE_BYTES:
        return StoredValue(size, text=new.payload_json.decode())
    key = payload_key(new.task.task_id)
    backend.values.put(key, new.payload_json)
    return StoredValue(size, key=key)


def _stored(new: NewTask, owner: str, kept: StoredValue) -> StoredTask:
    task = new.task if kept.key is None else replace(new.task, payload=None)
    return StoredTask(task, owner, payload_key=kept.key)


def submit_task(request: SubmitRequest, owner: str, backend: Backend, correlation_id: str | None) -> Accepted:
    """Store the task, then queue its message; a failed send is left to the reconciler."""
    new = prepare(request, backend, clock.now())
    kept = _keep_payload(new, backend)
    backend.store.put_new(backend.store.new_item(new.task, owner, correlation_id, kept))
    stored = _stored(new, owner, kept)
    queued = queue(backend, stored, correlation_id, new.task.delay_seconds)
    count(new.task.priority, new.task.task_type, "TaskSubmitted")
    return Accepted(view(stored, backend), queued)


def _item_error(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details}


NOT_STORED = _item_error("not_stored", "the task could not be stored; submit it again")


def submit_batch(items: list[Any], owner: str, backend: Backend, correlation_id: str | None) -> list[dict[str, Any]]:
    """Accept the valid items of a batch in bulk writes; answer per item, in order, with summaries.

    Nothing an item holds can fail another: each is checked on its own, its large payload stored on
    its own, and a chunk whose write fails is looked up before it is reported."""
    now = clock.now()
    results: list[dict[str, Any]] = [{} for _ in items]
    ready: list[tuple[int, NewTask, StoredValue]] = []
    for index, raw in enumerate(items):
        try:
            new = prepare(SubmitRequest.model_validate(raw), backend, now)
            ready.append((index, new, _keep_payload(new, backend)))
        except ValidationError as exc:
            details = field_details(exc.errors(include_url=False))
            results[index] = {
                "index": index,
                "error": _item_error(ValidationFailed.code, "the task is not valid", details),
            }
        except ValueUnavailable:
            results[index] = {"index": index, "error": NOT_STORED}
        except TasklaneError as exc:
            results[index] = {"index": index, "error": _item_error(exc.code, exc.message, exc.details)}
    rows = [backend.store.new_item(new.task, owner, correlation_id, kept, sequence=i) for i, new, kept in ready]
    unwritten = set(backend.store.put_many(rows))
    by_lane: dict[Lane, list[tuple[TaskMessage, int]]] = {}
    submitted: Counter[tuple[Lane, str]] = Counter()
    for index, new, _ in ready:
        task = new.task
        if task.task_id in unwritten:
            results[index] = {"index": index, "error": NOT_STORED}
            continue
        results[index] = {"index": index, "task": summary(task).public()}
        message = TaskMessage.for_task(task, owner, correlation_id)
        by_lane.setdefault(task.priority, []).append((message, task.delay_seconds))
        submitted[(task.priority, task.task_type)] += 1
    for (lane, task_type), n in submitted.items():
        count(lane, task_type, "TaskSubmitted", n)
    for lane, messages in by_lane.items():
        try:
            unsent = backend.queues.send_many(lane, messages)
        except QueueUnavailable:
            unsent = [m.task_id for m, _ in messages]
        if unsent:
            logger.warning("sends failed; the reconciler will queue these tasks", extra={"task_ids": unsent})
            note_unsent(backend, unsent)
    return results
