"""A recurring schedule's firing: submit its task, once per firing, as its owner.

EventBridge Scheduler invokes the firing function with the schedule's owner, name and id and the
time the firing was meant for. The task's id is derived from the schedule's id and that time, so a
firing delivered twice (Scheduler delivers at least once, and retries) submits one task.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from tasklane.data.services import HasSchedules
from tasklane.data.tasks.table import StoreUnavailable
from tasklane.logic import submission
from tasklane.model import clock
from tasklane.model.errors import ValidationFailed
from tasklane.model.requests import SubmitRequest
from tasklane.model.schedule import Schedule, firing_task_id
from tasklane.observability import logger


class Firing(submission.Submitting, HasSchedules, Protocol):
    """What a firing touches: the schedule's record, then a submission of its task."""


def _scheduled_time(text: Any, schedule: Schedule, now: datetime) -> datetime:
    """When this firing was meant for: Scheduler's <aws.scheduler.scheduled-time>. Where it is not
    filled in (the local emulator passes the placeholder as it is), the schedule's latest fire time."""
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return schedule.recurrence.last_fire(now) or now.replace(microsecond=0)


def _problems(exc: ValidationError | ValidationFailed) -> list[dict[str, str]]:
    """Where a task is not valid and the kind of problem, without the values themselves."""
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        return [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["type"]} for e in errors[:20]]
    fields = exc.details if isinstance(exc.details, list) else []
    return [{"field": str(d.get("field", "")), "problem": exc.code} for d in fields[:20]] or [{"problem": exc.code}]


def fire(event: dict[str, Any], services: Firing, correlation_id: str | None) -> str | None:
    """Submit the task of this firing; its id, or None when nothing was submitted (the schedule is
    gone, replaced or paused, or this firing's task exists already)."""
    owner, name = str(event["owner"]), str(event["name"])
    logger.append_keys(schedule=name)
    schedule = services.schedules.get(owner, name)
    if schedule is None or schedule.schedule_id != event.get("schedule_id"):
        logger.warning("firing of a deleted schedule ignored")
        return None
    if schedule.paused:
        logger.info("firing of a paused schedule ignored")
        return None
    now = clock.now()
    task_id = firing_task_id(schedule.schedule_id, _scheduled_time(event.get("scheduled_time"), schedule, now))
    if services.store.get(task_id) is not None:
        logger.info("firing delivered again: its task exists already", extra={"task_id": task_id})
        return None
    try:
        request = SubmitRequest.model_validate(schedule.task)
        submission.submit_task(request, owner, services, correlation_id, submission.Origin(task_id, schedule.name))
    except (ValidationError, ValidationFailed) as exc:
        # Valid when the schedule was made; a later deployment dropped its type or tightened a limit.
        # Retrying cannot help: the firing is logged and dropped. Only where and why it failed is
        # logged: the error's own text quotes payload values and URLs (tokens in their queries).
        logger.error(
            "the schedule's task is no longer valid; this firing submits nothing", extra={"problems": _problems(exc)}
        )
        return None
    except StoreUnavailable:
        # Two deliveries of one firing at once: the other one's put won, and its task is this firing's.
        if services.store.get(task_id) is not None:
            logger.info("firing delivered twice at once: the other delivery submitted it", extra={"task_id": task_id})
            return None
        raise
    logger.info("schedule fired", extra={"task_id": task_id})
    return task_id
