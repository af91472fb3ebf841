"""Submission: check new tasks against their type and the limits, store them, and queue them.

The one part of the task logic that needs pydantic (the request and payload models), so it lives
apart from reads, cancel and retry, which the status function runs without it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from tasklane.data.bucket import ValueUnavailable, payload_key
from tasklane.data.services import HasSettings, HasTaskTypes, HasValues
from tasklane.data.tasks.codec import StoredTask, StoredValue, new_item
from tasklane.data.tasks.table import StoreUnavailable
from tasklane.limits import IDEMPOTENCY_KEY_SECONDS, INLINE_VALUE_BYTES, MAX_PAYLOAD_BYTES
from tasklane.logic.offered_types import offered
from tasklane.logic.queries import TaskReads, view
from tasklane.logic.queueing import Accepted, Queueing, queue, send_by_lane
from tasklane.model import clock, values
from tasklane.model.callbacks import Callback
from tasklane.model.errors import PayloadTooLarge, TasklaneError, ValidationFailed, field_details
from tasklane.model.ids import derived_task_id, new_task_id
from tasklane.model.lanes import Lane
from tasklane.model.message import TaskMessage
from tasklane.model.requests import SubmitRequest
from tasklane.model.task import Task, TaskStatus, summary
from tasklane.observability import count
from tasklane.records import record

# Only submissions with an Idempotency-Key load the idempotency module (and Powertools' with it).
if TYPE_CHECKING:
    from tasklane.data.idempotency import Replayable


class Preparing(HasTaskTypes, HasSettings, Protocol):
    """What checking a submission touches: the owner's task types (the settings' limits beside them)."""


class Submitting(Preparing, TaskReads, Queueing, Protocol):
    """What a submission touches: its checks, the values bucket, the tasks table and the lane queues."""


@record
class NewTask:
    """A checked submission: the pending task and its payload as JSON."""

    task: Task
    payload_json: bytes


@record
class Origin:
    """A task whose id is not random: a firing's, a workflow node's or a keyed submission's own id, and
    the name of the schedule that fired it (which the task carries)."""

    task_id: str
    schedule: str | None = None


def prepare(
    request: SubmitRequest, owner: str, services: Preparing, now: datetime, origin: Origin | None = None
) -> NewTask:
    """Check a submission against its task type (a built-in or one of the owner's) and limits; the
    task it becomes: pending, or scheduled when it is due later than a lane message can wait.
    `origin`: the task's own id (and schedule) when it is not random. A firing leaves its callback
    alone: it was checked when the schedule was made, and a receiver that cannot be reached now is its
    webhook's problem (shown on the task), not a reason to drop the task."""
    task_type = offered(request.task_type, owner, services)
    payload = task_type.check_payload(request.payload)
    try:
        encoded = values.encode(payload)
    except values.ValueNotStorable as exc:
        raise ValidationFailed("the payload has no JSON form", [{"field": "payload", "message": str(exc)}]) from None
    if len(encoded) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"payload is {len(encoded)} bytes of JSON; the limit is {MAX_PAYLOAD_BYTES}",
            {"field": "payload", "size": len(encoded), "limit": MAX_PAYLOAD_BYTES},
        )
    limit = task_type.max_timeout_seconds or services.settings.max_task_timeout_seconds
    # A type's default is capped by this deployment's limit; an explicit request above it is an error.
    timeout = request.timeout_seconds or min(task_type.timeout_seconds, limit)
    if timeout > limit:
        raise ValidationFailed(
            "timeout_seconds is above the processor's limit",
            [{"field": "timeout_seconds", "message": f"must be at most {limit}"}],
        )
    if request.callback_url is not None and (origin is None or origin.schedule is None):
        from tasklane.settings.webhooks import webhook_settings

        hooks = webhook_settings()
        check_callback(request.callback_url, allow_loopback=hooks.allow_loopback, closed_port=hooks.closed_port)
    delay = request.delay(now)
    scheduled = delay > services.settings.queue_delay_horizon_seconds
    task = Task(
        task_id=origin.task_id if origin else new_task_id(),
        schedule=origin.schedule if origin else None,
        task_type=task_type.name,
        priority=request.priority
        if task_type.priority is None or "priority" in request.model_fields_set
        else task_type.priority,
        status=TaskStatus.SCHEDULED if scheduled else TaskStatus.PENDING,
        payload=payload,
        payload_size=len(encoded),
        max_attempts=request.max_attempts or task_type.max_attempts,
        timeout_seconds=timeout,
        delay_seconds=delay,
        run_at=clock.iso(request.start_after(now)) if delay else None,
        created_at=clock.iso(now),
        updated_at=clock.iso(now),
        callback=Callback(request.callback_url) if request.callback_url is not None else None,
    )
    return NewTask(task, encoded)


def keep_payload(new: NewTask, services: HasValues) -> StoredValue:
    """Inline up to the threshold; above it, in the values bucket first, then referred to by the item."""
    size = len(new.payload_json)
    if size <= INLINE_VALUE_BYTES:
        return StoredValue(size, text=new.payload_json.decode())
    key = payload_key(new.task.task_id)
    services.values.put(key, new.payload_json)
    return StoredValue(size, key=key)


def _stored(new: NewTask, owner: str, kept: StoredValue) -> StoredTask:
    task = new.task if kept.key is None else replace(new.task, payload=None)
    return StoredTask(task, owner, payload_key=kept.key)


def submit_task(
    request: SubmitRequest, owner: str, services: Submitting, correlation_id: str | None, origin: Origin | None = None
) -> Accepted:
    """Store the task, then queue its message (a failed send is left to the reconciler); a scheduled
    task is queued by the promoter when it is due."""
    new = prepare(request, owner, services, clock.now(), origin)
    kept = keep_payload(new, services)
    services.store.put_new(new_item(StoredTask(new.task, owner), correlation_id, kept, services.store.layout))
    stored = _stored(new, owner, kept)
    scheduled = new.task.status is TaskStatus.SCHEDULED
    queued = scheduled or queue(services, stored, correlation_id, new.task.delay_seconds)
    count(new.task.priority, new.task.task_type, "TaskSubmitted")
    return Accepted(view(stored, services), queued)


def submit_keyed(request: SubmitRequest, services: Submitting, correlation_id: str | None, key: Replayable) -> Accepted:
    """submit_task under an Idempotency-Key: the task's id follows from the caller, the key and the body.
    A replay that comes after the key's in-progress window, when the first request stored the task but
    died before the key's record was saved (its function timed out), then answers with that task
    instead of making a second one. Past the key's time a new task gets a random id, as for a new key."""
    owner = key.owner
    derived = derived_task_id(f"{key.route}\n{owner}\n{key.key}\n{key.fingerprint}")
    earlier = _keyed_task(services, derived, owner)
    if earlier is not None and not _key_expired(earlier.task):
        return earlier
    task_id = derived if earlier is None else None
    try:
        return submit_task(request, owner, services, correlation_id, Origin(task_id) if task_id else None)
    except StoreUnavailable:
        # A put refused because the item is there: a replay at the same moment stored it first.
        again = _keyed_task(services, derived, owner) if task_id else None
        if again is None:
            raise
        return again


def _keyed_items(count: int, key: Replayable, services: TaskReads) -> dict[int, Origin | StoredTask]:
    """Each item's own id under the key, or the task this key's first request stored for it (one
    read for the batch). Past the key's time an item gets a random id (no entry), as for a new key."""
    ids = [derived_task_id(f"{key.route}\n{key.owner}\n{key.key}\n{key.fingerprint}\n{i}") for i in range(count)]
    found = services.store.get_many(ids)
    origins: dict[int, Origin | StoredTask] = {}
    for index, task_id in enumerate(ids):
        stored = found.get(task_id)
        if stored is None:
            origins[index] = Origin(task_id)
        elif stored.belongs_to(key.owner) and not _key_expired(stored.task):
            origins[index] = stored
    return origins


def _keyed_task(services: TaskReads, task_id: str, owner: str) -> Accepted | None:
    stored = services.store.get(task_id)
    if stored is None or not stored.belongs_to(owner):
        return None
    # Its message, if the first request died before sending it, is sent by the reconciler: the task is
    # pending in its index.
    return Accepted(view(stored, services), queued=True)


def _key_expired(task: Task) -> bool:
    created = datetime.fromisoformat(task.created_at)
    return (clock.now() - created).total_seconds() > IDEMPOTENCY_KEY_SECONDS


def _item_error(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details}


NOT_STORED = _item_error("not_stored", "the task could not be stored; submit it again")
NOT_CONFIRMED = _item_error(
    "not_confirmed", "the task may or may not be stored: read it by its id, or replay with the same Idempotency-Key"
)


ONE_TASK = "must be a JSON object (one task)"


def submit_batch(
    items: list[Any], owner: str, services: Submitting, correlation_id: str | None, key: Replayable | None = None
) -> list[dict[str, Any]]:
    """Accept the valid items of a batch in bulk writes; answer per item, in order, with summaries.

    Nothing an item holds can fail another: each is checked on its own, its large payload stored on
    its own, and a chunk whose write fails is looked up before it is reported. Under an
    Idempotency-Key (`key`) each item's id follows from the caller, the key, the body and its index:
    a replay after a first request that stored tasks and died before the key's record was saved
    answers with those tasks instead of making them again."""
    now = clock.now()
    results: list[dict[str, Any]] = [{} for _ in items]
    ready: list[tuple[int, NewTask, StoredValue]] = []
    origins = _keyed_items(len(items), key, services) if key is not None else {}
    for index, raw in enumerate(items):
        try:
            if not isinstance(raw, dict):
                raise ValidationFailed("the task is not valid", [{"field": "body", "message": ONE_TASK}])
            origin = origins.get(index)
            if isinstance(origin, StoredTask):  # stored by this key's first request
                results[index] = {"index": index, "task": summary(origin.task).public()}
                continue
            new = prepare(SubmitRequest.model_validate(raw), owner, services, now, origin)
            ready.append((index, new, keep_payload(new, services)))
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
    layout = services.store.layout
    rows = [new_item(StoredTask(new.task, owner), correlation_id, kept, layout, sequence=i) for i, new, kept in ready]
    stored = services.store.put_many(rows)
    by_lane: dict[Lane, list[tuple[TaskMessage, int]]] = {}
    submitted: Counter[tuple[Lane, str]] = Counter()
    for index, new, _ in ready:
        task = new.task
        if task.task_id in stored.unwritten:
            results[index] = {"index": index, "error": NOT_STORED}
            continue
        if task.task_id in stored.unconfirmed:
            # Stored or not, nobody can tell now; if it was, the reconciler queues it. Its id lets the
            # caller read it, or a replay with the same Idempotency-Key answer for it.
            results[index] = {"index": index, "error": {**NOT_CONFIRMED, "details": {"task_id": task.task_id}}}
            continue
        results[index] = {"index": index, "task": summary(task).public()}
        submitted[(task.priority, task.task_type)] += 1
        if task.status is TaskStatus.SCHEDULED:
            continue  # the promoter queues it when it is due
        message = TaskMessage.for_task(task, owner, correlation_id)
        by_lane.setdefault(task.priority, []).append((message, task.delay_seconds))
    for (lane, task_type), n in submitted.items():
        count(lane, task_type, "TaskSubmitted", n)
    send_by_lane(services, by_lane)
    return results


def check_callback(url: str, *, allow_loopback: bool, closed_port: int | None = None) -> None:
    """The check at submission: ValidationFailed naming callback_url when the URL may not be used. A
    URL the request model parsed (CallbackUrl) is not parsed again. A name DNS says does not exist is
    refused (almost always a typo, better told now than after a day of failed deliveries); a name that
    could not be resolved *now* (a passing DNS failure) is accepted, since every delivery checks again."""
    # Loaded with the first callback URL: the name resolution and address rules.
    from tasklane.destinations.check import CallbackRefused, addresses, destination
    from tasklane.destinations.receivers import NameNotResolved
    from tasklane.destinations.urls import CallbackUrl

    try:
        if isinstance(url, CallbackUrl):
            addresses(url.target, allow_loopback=allow_loopback, closed_port=closed_port)
        else:
            destination(url, allow_loopback=allow_loopback, closed_port=closed_port)
    except CallbackRefused as exc:
        raise ValidationFailed(
            "the callback_url is not allowed", [{"field": "callback_url", "message": str(exc)}]
        ) from None
    except NameNotResolved as exc:
        if exc.lasting:
            raise ValidationFailed(
                "the callback_url host does not resolve", [{"field": "callback_url", "message": str(exc)}]
            ) from None
