"""Recurring schedules: create, list, read, pause or resume, and delete a caller's schedules.

The record in the schedules table is the source of truth (listing, pause, the task each firing
submits); the EventBridge Scheduler schedule is the clock. A record is written first, so that a
schedule never fires without one; a firing whose record is gone or paused submits nothing.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from typing import Any, Protocol

from tasklane.data.services import HasScheduler, HasSchedules
from tasklane.limits import INLINE_VALUE_BYTES
from tasklane.logic import submission
from tasklane.model import clock
from tasklane.model.errors import PayloadTooLarge, ScheduleNotFound, TasklaneError, ValidationFailed
from tasklane.model.schedule import Schedule
from tasklane.model.schedule_requests import ScheduleRequest
from tasklane.settings.scheduler import scheduler_settings

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Fire times shown: the next five on one schedule, the next one in a listing.
SHOWN_FIRES, LISTED_FIRES = 5, 1


class ScheduleChanges(HasSchedules, HasScheduler, Protocol):
    """What changing a schedule touches: its record (schedules table) and EventBridge Scheduler."""


class Scheduling(ScheduleChanges, submission.Preparing, Protocol):
    """What creating a schedule touches: its task checked as a submission, its record and Scheduler."""


def _check_task(request: ScheduleRequest, owner: str, services: submission.Preparing) -> dict[str, Any]:
    """The schedule's task checked as a submission now (its type and payload), so that a firing
    cannot fail on it later; errors name `task.<field>`. Its payload stays inline in the record."""
    try:
        new = submission.prepare(request.task, owner, services, clock.now())
    except ValidationFailed as exc:
        details = [{**d, "field": f"task.{d['field']}"} for d in exc.details or []]
        raise ValidationFailed(f"the schedule's task is not valid: {exc.message}", details) from None
    except PayloadTooLarge as exc:
        raise PayloadTooLarge(exc.message, {**(exc.details or {}), "field": "task.payload"}) from None
    if len(new.payload_json) > INLINE_VALUE_BYTES:
        raise PayloadTooLarge(
            f"a schedule's task payload is at most {INLINE_VALUE_BYTES} bytes of JSON",
            {"field": "task.payload", "size": len(new.payload_json), "limit": INLINE_VALUE_BYTES},
        )
    task: dict[str, Any] = request.task.model_dump(mode="json", exclude_unset=True)
    return task


def create_schedule(request: ScheduleRequest, owner: str, services: Scheduling) -> dict[str, Any]:
    """Store the schedule (its name unused by the caller, under the stack's limit), then create its
    EventBridge schedule; when that fails, the record goes again."""
    task = _check_task(request, owner, services)
    now = clock.now()
    schedule = Schedule(
        owner=owner,
        name=request.name,
        schedule_id=str(uuid.uuid4()),
        cron=request.cron,
        rate=request.rate,
        timezone=request.timezone,
        task=task,
        created_at=clock.iso(now),
        updated_at=clock.iso(now),
    )
    services.schedules.add(schedule, scheduler_settings().max_schedules_per_owner)
    try:
        services.scheduler.put(schedule, create=True)
    except TasklaneError:
        # The create may have happened with its answer lost: no schedule may fire without its record.
        with contextlib.suppress(TasklaneError):
            services.scheduler.delete(owner, request.name)
        services.schedules.remove(owner, request.name)
        raise
    return schedule.public(now, SHOWN_FIRES)


def _owned(owner: str, name: str, services: HasSchedules) -> Schedule:
    schedule = services.schedules.get(owner, name) if _NAME.match(name) else None
    if schedule is None:
        raise ScheduleNotFound(name)
    return schedule


def list_schedules(owner: str, services: HasSchedules) -> dict[str, Any]:
    now = clock.now()
    return {"items": [s.public(now, LISTED_FIRES) for s in services.schedules.list(owner)]}


def get_schedule(owner: str, name: str, services: HasSchedules) -> dict[str, Any]:
    """One of the caller's schedules with its next fire times; anyone else's is not found."""
    return _owned(owner, name, services).public(clock.now(), SHOWN_FIRES)


def set_paused(owner: str, name: str, paused: bool, services: ScheduleChanges) -> dict[str, Any]:
    """Pause or resume: the record first (a paused record stops firings even before Scheduler knows)."""
    _owned(owner, name, services)
    now = clock.now()
    schedule = services.schedules.set_paused(owner, name, paused, clock.iso(now))
    services.scheduler.put(schedule, create=False)
    return schedule.public(now, SHOWN_FIRES)


def delete_schedule(owner: str, name: str, services: ScheduleChanges) -> None:
    """The EventBridge schedule first, then the record: a failure between leaves a record to delete again."""
    _owned(owner, name, services)
    services.scheduler.delete(owner, name)
    services.schedules.remove(owner, name)
