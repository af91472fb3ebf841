"""What callers can read of their tasks: one task (large values as URLs), its result, their listing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from tasklane.data.bucket import ValueMissing
from tasklane.data.services import HasIndexes, HasStore, HasValues
from tasklane.data.tasks.codec import StoredTask
from tasklane.limits import MAX_INLINE_ANSWER_BYTES
from tasklane.model import clock, cursor
from tasklane.model.errors import BadRequest, ResultNotReady, TaskFailed, TaskNotFound
from tasklane.model.ids import task_id_of
from tasklane.model.task import Task, TaskStatus

if TYPE_CHECKING:
    from tasklane.model.listing import ListQuery, ResultAnswer, TaskPage


class TaskReads(HasStore, HasValues, Protocol):
    """What reading a task touches: the tasks table, and the values bucket for a large value's URL."""


def require_id(task_id: str) -> str:
    """The task id a path names (lower case), or a 400 when it is not a UUID."""
    named = task_id_of(task_id)
    if named is None:
        raise BadRequest(f"malformed task id {task_id!r}: expected a UUID", {"field": "task_id"})
    return named


def owned(services: HasStore, owner: str, task_id: str) -> StoredTask:
    """The caller's task; another caller's task is as unknown as a missing one."""
    task_id = require_id(task_id)
    stored = services.store.get(task_id)
    if stored is None or not stored.belongs_to(owner):
        raise TaskNotFound(task_id)
    return stored


def view(stored: StoredTask, services: HasValues) -> Task:
    """The task as its owner sees it: large values as short-lived URLs."""
    task = stored.task
    if stored.payload_key:
        task = replace(task, payload_url=services.values.url(stored.payload_key))
    if stored.result_key:
        task = replace(task, result_url=services.values.url(stored.result_key))
    return task


def get_task(task_id: str, owner: str, services: TaskReads) -> Task:
    return view(owned(services, owner, task_id), services)


# A long poll reads the task again after a quarter of a second, then less and less often, up to once
# a second: most tasks finish soon after they are watched, and a long wait costs at most ~N reads.
WAIT_POLL_SECONDS = (0.25, 1.0)


def wait_for_task(task_id: str, owner: str, services: TaskReads, seconds: float, seen: str | None = None) -> Task:
    """The task as soon as it is finished, or as soon as it differs from the version `seen` (an
    entity tag), or as it is once `seconds` have passed."""
    deadline = clock.now() + timedelta(seconds=seconds)
    interval, stored = WAIT_POLL_SECONDS[0], owned(services, owner, task_id)
    while not stored.task.status.finished and (seen is None or stored.task.etag() == seen):
        left = (deadline - clock.now()).total_seconds()
        if left <= 0:
            break
        clock.sleep(min(interval, left))
        interval = min(interval * 1.5, WAIT_POLL_SECONDS[1])
        stored = owned(services, owner, task_id)
    return view(stored, services)


def get_result(task_id: str, owner: str, services: TaskReads) -> ResultAnswer:
    """The result inline while its answer fits in a Lambda response, else the URL of its object."""
    from tasklane.model.listing import ResultAnswer  # only the status function reads results

    stored = owned(services, owner, task_id)
    task, task_id = stored.task, stored.task.task_id
    if task.status is TaskStatus.COMPLETED:
        if stored.result_key is None:
            return ResultAnswer(task_id, json_text=json.dumps(task.result, separators=(",", ":"), ensure_ascii=False))
        size = task.result_size or 0
        if size <= MAX_INLINE_ANSWER_BYTES:
            try:
                text = services.values.get(stored.result_key).decode()
            except ValueMissing:
                raise ResultNotReady(f"the result of task {task_id} has expired", {"task_id": task_id}) from None
            # The answer's body is escaped once more inside the Lambda response (up to 3x for
            # non-ASCII text): measure it as it will travel.
            if len(json.dumps(text)) <= MAX_INLINE_ANSWER_BYTES:
                return ResultAnswer(task_id, json_text=text, size=size)
        return ResultAnswer(task_id, url=services.values.url(stored.result_key), size=size)
    details = {"task_id": task_id, "status": task.status.value}
    if task.status is TaskStatus.FAILED:
        error = {"type": task.error.type, "message": task.error.message} if task.error else None
        why = f"{task.error.type}: {task.error.message}" if task.error else "no error recorded"
        raise TaskFailed(f"task {task_id} failed ({why}): it has no result", {**details, "error": error})
    if task.status is TaskStatus.CANCELLED:
        raise ResultNotReady(f"task {task_id} was cancelled: it has no result (retry it to run it)", details)
    raise ResultNotReady(f"task {task_id} is {task.status.value}; it has no result yet", details)


def list_tasks(query: ListQuery, cursor_text: str | None, services: HasIndexes) -> TaskPage:
    """A page of the caller's tasks from the position a cursor stands for."""
    from tasklane.model.listing import TaskPage  # only the status function lists

    found, position = services.indexes.list_by_owner(replace(query, before=cursor.decode(cursor_text)))
    return TaskPage(items=[s.task for s in found], next_cursor=cursor.encode(position))
