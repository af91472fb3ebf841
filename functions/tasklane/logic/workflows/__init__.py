"""Workflows: chain, group and chord over tasks. What the task paths (a run's end, a dead letter, the
reconciler) call, loading the rest only for a workflow's task: a lone task imports nothing more."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tasklane.data.tasks.codec import StoredTask
    from tasklane.data.tasks.workflow_tasks import FanIn
    from tasklane.logic.queries import TaskReads
    from tasklane.logic.queueing import Queueing


def fan_in(stored: StoredTask, attempt: int, *, failed: bool) -> FanIn | None:
    """The barrier countdown a task's end carries; None for a lone task."""
    if stored.task.workflow_id is None:
        return None
    from tasklane.logic.workflows.progress import fan_in_of

    return fan_in_of(stored, attempt, failed=failed)


def moves_on(stored: StoredTask, services: Queueing, *, failed: bool) -> None:
    """After a workflow task's end was stored with its countdown: the workflow's next step."""
    from tasklane.logic.workflows.progress import after_end

    after_end(stored, services, failed=failed)


def inputs_of(stored: StoredTask, services: TaskReads) -> list[Any]:
    """What a task waited for, in order (see workflows.inputs); [] for a lone task."""
    if stored.task.workflow_id is None:
        return []
    from tasklane.logic.workflows.inputs import read_inputs

    return read_inputs(stored, services)
