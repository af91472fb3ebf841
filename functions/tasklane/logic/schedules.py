"""Recurring schedules: create, list, read, edit (pause and resume included), and delete a caller's
schedules.

The record in the schedules table is the source of truth (listing, pause, the task each firing
submits); the EventBridge Scheduler schedule is the clock. A record is written first, so that a
schedule never fires without one; a firing whose record is gone or paused submits nothing.

An edit is written over the version of the record it was made from (two edits at once are applied one
after the other, never mixed), then Scheduler is set to the record and the record read again: whoever
set Scheduler last sets it again when a later edit was stored meanwhile, so Scheduler ends on the
latest record. When Scheduler refuses or does not answer, the record goes back to what it was (as a
new version) and Scheduler is set to that too, in case the refused update was applied with its
answer lost.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import uuid
from typing import Any, Protocol

from pydantic import ValidationError

from tasklane.data.services import HasScheduler, HasSchedules
from tasklane.limits import INLINE_VALUE_BYTES
from tasklane.logic import submission
from tasklane.model import clock
from tasklane.model.errors import (
    PayloadTooLarge,
    ScheduleChanged,
    ScheduleNotFound,
    TasklaneError,
    ValidationFailed,
    field_details,
)
from tasklane.model.schedule import Schedule
from tasklane.model.schedule_requests import ScheduledSubmission, SchedulePatch, ScheduleRequest
from tasklane.settings.scheduler import scheduler_settings

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Fire times shown: the next five on one schedule, the next one in a listing.
SHOWN_FIRES, LISTED_FIRES = 5, 1
# An edit read again and applied again when another write came between its read and its write; and
# the rounds of setting Scheduler to a record that other edits keep changing.
EDIT_ATTEMPTS, SYNC_ROUNDS = 3, 3


class ScheduleChanges(HasSchedules, HasScheduler, Protocol):
    """What changing a schedule touches: its record (schedules table) and EventBridge Scheduler."""


class Scheduling(ScheduleChanges, submission.Preparing, Protocol):
    """What creating a schedule touches: its task checked as a submission, its record and Scheduler."""


def _check_task(task_request: ScheduledSubmission, owner: str, services: submission.Preparing) -> dict[str, Any]:
    """The schedule's task checked as a submission now (its type and payload), so that a firing
    cannot fail on it later; errors name `task.<field>`. Its payload stays inline in the record."""
    try:
        new = submission.prepare(task_request, owner, services, clock.now())
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
    task: dict[str, Any] = task_request.model_dump(mode="json", exclude_unset=True)
    return task


def create_schedule(request: ScheduleRequest, owner: str, services: Scheduling) -> dict[str, Any]:
    """Store the schedule (its name unused by the caller, under the stack's limit), then create its
    EventBridge schedule; when that fails, the record goes again."""
    task = _check_task(request.task, owner, services)
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
        version=1,
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


def _edited_task(
    current: dict[str, Any], changes: dict[str, Any], owner: str, services: submission.Preparing
) -> dict[str, Any]:
    """The task with `changes` merged in (a null removes a field), checked as on create."""
    merged = {k: v for k, v in {**current, **changes}.items() if v is not None}
    try:
        task_request = ScheduledSubmission.model_validate(merged)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise ValidationFailed("the request is not valid", field_details(errors, ("task",))) from None
    return _check_task(task_request, owner, services)


def _edited(schedule: Schedule, patch: SchedulePatch, services: submission.Preparing, now: str) -> Schedule:
    """`schedule` with the patch's fields; the fire times of a new cron or rate are counted from now."""
    changes: dict[str, Any] = {"version": schedule.version + 1, "updated_at": now}
    if patch.cron is not None and patch.cron != schedule.cron:
        changes.update(cron=patch.cron, rate=None, recurrence_from=now)
    if patch.rate is not None and patch.rate != schedule.rate:
        changes.update(rate=patch.rate, cron=None, recurrence_from=now)
    if patch.timezone is not None:
        changes["timezone"] = patch.timezone
    if patch.paused is not None:
        changes["paused"] = patch.paused
    if patch.task is not None:
        changes["task"] = _edited_task(schedule.task, patch.task, schedule.owner, services)
    return dataclasses.replace(schedule, **changes)


def _sync(schedule: Schedule, services: ScheduleChanges) -> None:
    """Set Scheduler to `schedule`, then to each later version of the record stored meanwhile (past a
    few rounds, the writers of those versions still set it: each reads the record after its own)."""
    for _ in range(SYNC_ROUNDS):
        services.scheduler.put(schedule, create=False)
        latest = services.schedules.get(schedule.owner, schedule.name)
        if latest is None or latest.version <= schedule.version:
            return  # deleted (the delete removes Scheduler's too), or Scheduler holds the latest
        schedule = latest


def _undo(before: Schedule, edited: Schedule, services: ScheduleChanges, now: str) -> None:
    """Put the record back as it was before `edited`, unless a later edit or a delete came (its own
    sync then sets Scheduler), and Scheduler to the record: best effort, the edit's error is answered."""
    restored = dataclasses.replace(before, version=edited.version + 1, updated_at=now)
    with contextlib.suppress(TasklaneError):
        services.schedules.replace(restored, edited.version)
    with contextlib.suppress(TasklaneError):
        latest = services.schedules.get(before.owner, before.name)
        if latest is not None:
            _sync(latest, services)


def edit_schedule(owner: str, name: str, patch: SchedulePatch, services: Scheduling) -> dict[str, Any]:
    """Change what the patch gives, each field checked as on create; a paused schedule stays paused
    unless the patch resumes it. All or nothing: see the module's docstring."""
    for _ in range(EDIT_ATTEMPTS):
        before = _owned(owner, name, services)
        now = clock.now()
        edited = _edited(before, patch, services, clock.iso(now))
        try:
            services.schedules.replace(edited, before.version)
            break
        except ScheduleChanged:
            continue  # another write came between: read it and apply the patch over it
    else:
        raise ScheduleChanged(name)
    try:
        _sync(edited, services)
    except TasklaneError:
        _undo(before, edited, services, clock.iso(now))
        raise
    return edited.public(now, SHOWN_FIRES)


def delete_schedule(owner: str, name: str, services: ScheduleChanges) -> None:
    """The EventBridge schedule first, then the record: a failure between leaves a record to delete again."""
    _owned(owner, name, services)
    services.scheduler.delete(owner, name)
    services.schedules.remove(owner, name)
