"""Bulk actions: start one, read its progress, and apply it one page of the owner's tasks at a time.

A job moves through the owner's listing (newest first) one page per message of the bulk queue, so
no request and no invocation bounds it. Each page applies the single-task transitions (conditional
writes: a task something else moved first is skipped), then records its counts and the next
position in one conditional write on the page number: a redelivered message finds its page
recorded and counts nothing twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from tasklane.data.bulk import BulkJobs, BulkQueue
from tasklane.data.services import HasIndexes
from tasklane.logic import commands
from tasklane.model import clock
from tasklane.model.bulk import BulkAction, BulkCounts, BulkJob, BulkOrder, BulkPage, BulkState
from tasklane.model.errors import BulkNotFound, InvalidTransition, TaskNotFound, WorkflowTaskLocked
from tasklane.model.ids import is_task_id, new_task_id
from tasklane.model.listing import ListQuery
from tasklane.model.task import Task
from tasklane.observability import logger

PAGE_SIZE = 100  # tasks read per message: the listing's largest page


class BulkPaging(HasIndexes, commands.Retrying, Protocol):
    """What one page of a bulk action touches: the owner's listing, then a cancel or a retry per task."""


def start_bulk(order: BulkOrder, owner: str, jobs: BulkJobs, queue: BulkQueue, days: int) -> BulkJob:
    """Record the job and queue its first page; its record expires after `days` (tasks' retention)."""
    now = clock.now()
    found = order.filter
    # created_before is where the listing starts: every created_key below it was created before it.
    job = BulkJob(
        new_task_id(), owner, order.action, found, order.dry_run, clock.iso(now), position=found.created_before
    )
    jobs.add(job, clock.epoch(now + timedelta(days=days)))
    queue.send(BulkPage.next_of(job))
    return job


def get_bulk(bulk_id: str, owner: str, jobs: BulkJobs) -> BulkJob:
    """The caller's job; another owner's is as unknown as one that never existed."""
    job = jobs.get(bulk_id.lower()) if is_task_id(bulk_id.lower()) else None
    if job is None or job.owner != owner:
        raise BulkNotFound(bulk_id)
    return job


def run_page(page: BulkPage, redelivered: bool, jobs: BulkJobs, queue: BulkQueue, services: BulkPaging) -> None:
    """Apply one page of a job, record it, and queue the next page (if any)."""
    job = jobs.get(page.bulk_id)
    if job is None or job.state is BulkState.DONE or job.page != page.page:
        if job and job.state is BulkState.RUNNING and job.page == page.page + 1 and redelivered:
            # This page was recorded by an earlier delivery that may have stopped before queueing the
            # next one; sent again, a duplicate of it finds its page recorded too and stops here.
            queue.send(BulkPage.next_of(job))
        return
    query = ListQuery(
        owner=job.owner,
        limit=PAGE_SIZE,
        before=job.position,
        status=job.filter.status,
        task_type=job.filter.task_type,
        priority=job.filter.priority,
    )
    found, position = services.indexes.list_by_owner(query)
    counts = BulkCounts()
    for task in (stored.task for stored in found):
        if matches(task, job):
            counts += BulkCounts(matched=1) + (BulkCounts() if job.dry_run else apply(task, job, services))
    after = job.filter.created_after
    finished = position is None or (after is not None and position < after)
    if not jobs.advance(job, counts, None if finished else position, clock.iso(clock.now()) if finished else None):
        logger.info("bulk page already recorded", extra={"bulk_id": job.bulk_id, "page": job.page})
        return
    if not finished:
        queue.send(BulkPage.next_of(replace(job, page=job.page + 1, position=position)))


def matches(task: Task, job: BulkJob) -> bool:
    """Whether the job's action applies to `task` (the listing filtered type, priority and status).
    A workflow's task is moved by its workflow only: a bulk action leaves it out."""
    after = job.filter.created_after
    if task.workflow_id is not None or task.status not in job.action.applies_to:
        return False
    return after is None or task.created_at >= after


def apply(task: Task, job: BulkJob, services: commands.Retrying) -> BulkCounts:
    """The single-task transition; skipped when something else moved the task first."""
    try:
        if job.action is BulkAction.CANCEL:
            commands.cancel_task(task.task_id, job.owner, services)
        else:
            commands.retry_task(task.task_id, job.owner, services, f"bulk-{job.bulk_id}")
    except (InvalidTransition, TaskNotFound, WorkflowTaskLocked):
        return BulkCounts(skipped=1)
    return BulkCounts(changed=1)
