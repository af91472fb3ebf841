"""Submission: check new tasks against their type and the limits, store them, and queue them.

The one part of the task logic that needs pydantic (the request and payload models), so it lives
apart from reads, cancel and retry, which the status function runs without it.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from tasklane import clock
from tasklane.backend import Backend
from tasklane.domain import MAX_PAYLOAD_BYTES, Task, TaskMessage, TaskStatus
from tasklane.errors import PayloadTooLarge, TasklaneError, ValidationFailed
from tasklane.ids import new_task_id
from tasklane.lanes import Lane
from tasklane.models import SubmitRequest
from tasklane.observability import count, logger
from tasklane.registry import get_task_type
from tasklane.tasks import Accepted, error_body, lane_message, note_unsent, pending_sweep_at


def prepare(request: SubmitRequest, backend: Backend, now: datetime) -> Task:
    """Check a submission against its task type and limits; the pending Task it becomes."""
    size = len(json.dumps(request.payload, separators=(",", ":")).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}",
            {"field": "payload", "limit": MAX_PAYLOAD_BYTES},
        )
    task_type = get_task_type(request.task_type)
    payload = task_type.parse_payload(request.payload)
    limit = backend.settings.max_task_timeout_seconds
    # A type's default is capped by this deployment's limit; an explicit request above it is an error.
    timeout = request.timeout_seconds or min(task_type.timeout_seconds, limit)
    if timeout > limit:
        raise ValidationFailed(
            "timeout_seconds is above the processor's limit",
            [{"field": "timeout_seconds", "message": f"must be at most {limit}"}],
        )
    return Task(
        task_id=new_task_id(),
        task_type=task_type.name,
        priority=request.priority,
        status=TaskStatus.PENDING,
        payload=payload.model_dump(mode="json"),
        max_attempts=request.max_attempts or task_type.max_attempts,
        timeout_seconds=timeout,
        delay_seconds=request.delay_seconds,
        created_at=clock.iso(now),
        updated_at=clock.iso(now),
    )


def submit_task(request: SubmitRequest, owner: str, backend: Backend, correlation_id: str | None) -> Accepted:
    """Store the task, then queue its message; a failed send is left to the reconciler."""
    now = clock.now()
    task = prepare(request, backend, now)
    item = backend.store.new_item(task, owner, correlation_id, pending_sweep_at(backend, now, task.delay_seconds))
    backend.store.put_new(item)
    queued = True
    try:
        backend.queues.send(task.priority, lane_message(task, owner, correlation_id), task.delay_seconds)
    except (ClientError, BotoCoreError):
        logger.exception("send failed; the reconciler will queue the task", extra={"task_id": task.task_id})
        queued = False
        note_unsent(backend, [task.task_id])
    count(task.priority, task.task_type, "TaskSubmitted")
    return Accepted(task, queued)


def submit_batch(items: list[Any], owner: str, backend: Backend, correlation_id: str | None) -> list[dict[str, Any]]:
    """Accept the valid items of a batch in bulk writes; answer per item, in order."""
    now = clock.now()
    results: list[dict[str, Any]] = [{} for _ in items]
    accepted: list[tuple[int, Task]] = []
    for index, raw in enumerate(items):
        try:
            accepted.append((index, prepare(SubmitRequest.model_validate(raw), backend, now)))
        except ValidationError as exc:
            results[index] = {"index": index, "error": _validation_error(exc)}
        except TasklaneError as exc:
            results[index] = {"index": index, "error": error_body(exc)}
    sweep = {i: pending_sweep_at(backend, now, t.delay_seconds) for i, t in accepted}
    items = [backend.store.new_item(t, owner, correlation_id, sweep[i], sequence=i) for i, t in accepted]
    unwritten = set(backend.store.put_many(items))
    by_lane: dict[Lane, list[tuple[TaskMessage, int]]] = {}
    submitted: Counter[tuple[Lane, str]] = Counter()
    for index, task in accepted:
        if task.task_id in unwritten:
            results[index] = {
                "index": index,
                "error": {
                    "code": "not_stored",
                    "message": "the task could not be stored; submit it again",
                    "details": None,
                },
            }
            continue
        results[index] = {"index": index, "task": task.public()}
        by_lane.setdefault(task.priority, []).append((lane_message(task, owner, correlation_id), task.delay_seconds))
        submitted[(task.priority, task.task_type)] += 1
    for (lane, task_type), n in submitted.items():
        count(lane, task_type, "TaskSubmitted", n)
    for lane, messages in by_lane.items():
        try:
            unsent = backend.queues.send_many(lane, messages)
        except (ClientError, BotoCoreError):
            unsent = [m.task_id for m, _ in messages]
        if unsent:
            logger.warning("sends failed; the reconciler will queue these tasks", extra={"task_ids": unsent})
            note_unsent(backend, unsent)
    return results


def _validation_error(exc: ValidationError) -> dict[str, Any]:
    details = [
        {"field": ".".join(map(str, err["loc"])) or "task", "message": err["msg"]}
        for err in exc.errors(include_url=False)
    ]
    return {"code": ValidationFailed.code, "message": "the task is not valid", "details": details}
