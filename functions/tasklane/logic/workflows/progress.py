"""How a workflow moves on: a task's end counts down its barrier (in the task's own terminal
transaction, see tasklane.data.tasks.workflows), and whoever finds a barrier at zero does what follows it.

Every step here may run twice, or be cut short and run again by the reconciler: releasing a task is
a conditional waiting → pending (a second release finds it pending and skips it), a lane message sent
twice is claimed once, and the workflow's own end is a conditional write.
"""

from __future__ import annotations

from typing import Any

from tasklane.data.services import HasStore
from tasklane.data.tasks.codec import StoredTask
from tasklane.data.tasks.workflow_tasks import FanIn
from tasklane.data.tasks.workflows import WorkflowStore
from tasklane.logic.queueing import Queueing, send_by_lane
from tasklane.model import clock
from tasklane.model.lanes import Lane
from tasklane.model.message import TaskMessage
from tasklane.model.workflow import (
    OnFailure,
    Workflow,
    WorkflowStatus,
    barrier_key,
    task_id_of,
    transition_token,
)
from tasklane.observability import logger


def fan_in_of(stored: StoredTask, attempt: int, *, failed: bool) -> FanIn | None:
    """The countdown a task's end carries; None for a task outside any workflow."""
    if stored.task.workflow_id is None or stored.workflow_before is None:
        return None
    outcome = "failed" if failed else "completed"
    return FanIn(
        barrier=barrier_key(stored.task.workflow_id, stored.workflow_before),
        failed=failed,
        token=transition_token(stored.task.task_id, attempt, outcome),
    )


def after_end(stored: StoredTask, services: Queueing, *, failed: bool) -> None:
    """After a workflow task's end was recorded with its countdown: fail the workflow (policy fail),
    or do what follows its barrier when the count is zero. A failure here is logged and left to the
    reconciler, which finds the barrier at zero (or the failed input) and finishes the step."""
    workflow_id, index = stored.task.workflow_id, stored.workflow_before
    if workflow_id is None or index is None:
        return
    try:
        store = services.store.workflows()
        barrier = store.barrier(workflow_id, index)
        if barrier is None:
            return
        if not failed and barrier.remaining != 0:
            return
        workflow = store.get_workflow(workflow_id)
        if workflow is not None and failed and workflow.on_failure is OnFailure.FAIL:
            fail(workflow, stored, services)
            workflow = store.get_workflow(workflow_id)
        if workflow is not None and barrier.remaining == 0:
            advance(workflow, index, services)
    except Exception:
        logger.exception("workflow step left to the reconciler", extra={"workflow_id": workflow_id})


def advance(workflow: Workflow, index: int, services: Queueing) -> None:
    """Do what follows barrier `index`, which is at zero: start its tasks, or end the workflow."""
    store = services.store.workflows()
    state = store.barrier(workflow.workflow_id, index)
    if state is None or state.remaining != 0:
        return
    if workflow.status is WorkflowStatus.RUNNING:
        if state.failed and workflow.on_failure is OnFailure.FAIL:
            fail(workflow, None, services)
        elif index == workflow.plan.end.index:
            status = WorkflowStatus.FAILED if state.failed else WorkflowStatus.COMPLETED
            error = {"type": "InputFailed", "message": "a task of the last node failed"} if state.failed else None
            if store.move(workflow.workflow_id, status, clock.now(), error=error):
                logger.info("workflow ended", extra={"workflow_id": workflow.workflow_id, "status": status.value})
        else:
            start(workflow, index, store, services)
    store.mark_fired(workflow.workflow_id, index)


def start(workflow: Workflow, index: int, store: WorkflowStore, services: Queueing) -> list[str]:
    """Move the tasks that follow barrier `index` from waiting to pending and send their messages;
    a send that fails is left to the reconciler's task sweep (the task is pending and due)."""
    barrier = workflow.plan.barriers[index]
    ids = [task_id_of(workflow.workflow_id, i) for i in barrier.starts]
    now = clock.now()
    moved = store.release(workflow.workflow_id, ids, now, token=barrier_key(workflow.workflow_id, index))
    by_lane: dict[Lane, list[tuple[TaskMessage, int]]] = {}
    for start_at in range(0, len(moved), 100):
        for stored in store.get_many(moved[start_at : start_at + 100]).values():
            message = TaskMessage.for_task(stored.task, stored.owner, None)
            by_lane.setdefault(stored.task.priority, []).append((message, 0))
    send_by_lane(services, by_lane)
    return moved


def fail(workflow: Workflow, failed: StoredTask | None, services: HasStore) -> None:
    """Policy fail: the workflow fails (once), and none of its tasks that has not started ever will."""
    error: dict[str, Any] = {"type": "TaskFailed", "message": "a task of the workflow failed after its retries"}
    if failed is not None:
        error["task_id"] = failed.task.task_id
        if failed.task.error is not None:
            error["task_error"] = {"type": failed.task.error.type, "message": failed.task.error.message}
    store = services.store.workflows()
    if store.move(workflow.workflow_id, WorkflowStatus.FAILED, clock.now(), error=error):
        logger.info("workflow failed", extra={"workflow_id": workflow.workflow_id})
    cancel_unstarted(workflow, store)


def cancel_unstarted(workflow: Workflow, store: WorkflowStore) -> int:
    """Cancel every task of an ended workflow that has not started; how many were cancelled. The
    release of a task checks in its transaction that the workflow runs, so once the workflow has
    ended no task moves to pending after this reads it."""
    now = clock.now()
    cancelled = 0
    for task_id, stored in store.tasks_of(workflow).items():
        if not stored.task.status.finished and stored.task.status.value != "processing":
            cancelled += store.cancel_unstarted(task_id, now)
    return cancelled
