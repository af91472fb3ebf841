"""The reconciler's pass over workflows: finish what a crash left half-done.

A running workflow sits in the Sweep index (its own shards) until it ends and nothing is left to
tidy. When it comes due, the pass reads its barriers: one at zero that has not done what follows it
(the task that brought it to zero stopped before) does it now; a failed input under policy `fail`
fails the workflow. An ended workflow's unstarted tasks are cancelled (again, if a cancel was cut
short) before it leaves the sweep. A `creating` record past its grace lost its submission: it is
removed with everything written after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tasklane.logic.queueing import Queueing
from tasklane.logic.workflows.progress import advance, cancel_unstarted, fail
from tasklane.model import clock
from tasklane.model.errors import ServiceUnavailable
from tasklane.model.workflow import CREATION_GRACE_SECONDS, WORKFLOW_RECHECK_SECONDS, OnFailure, WorkflowStatus
from tasklane.observability import logger


@dataclass
class WorkflowRepairs:
    """What one pass did, in counts."""

    looked_at: int = 0
    fired: int = 0  # barriers at zero whose next step was done here
    failed: int = 0
    removed: int = 0
    errors: int = 0


def repair_workflows(services: Queueing) -> WorkflowRepairs:
    report = WorkflowRepairs()
    store = services.store.workflows()
    now = clock.epoch(clock.now())
    for shard in range(services.store.layout.sweep_shards):
        try:
            due = store.due(shard, now)
        except ServiceUnavailable:
            logger.exception("reading a shard of due workflows failed", extra={"shard": f"wf#{shard}"})
            report.errors += 1
            continue
        for workflow_id, seen in due:
            try:
                repair_one(workflow_id, seen, services, report)
            except ServiceUnavailable:
                logger.exception("repairing a workflow failed; it stays due", extra={"workflow_id": workflow_id})
                report.errors += 1
    return report


def repair_one(workflow_id: str, seen: int, services: Queueing, report: WorkflowRepairs) -> None:
    store = services.store.workflows()
    workflow = store.get_workflow(workflow_id)
    if workflow is None:
        return
    report.looked_at += 1
    now = clock.epoch(clock.now())
    if workflow.status is WorkflowStatus.CREATING:
        if now - clock.epoch(datetime.fromisoformat(workflow.created_at)) >= CREATION_GRACE_SECONDS:
            store.delete_all(workflow)
            report.removed += 1
            logger.warning("unfinished creation removed", extra={"workflow_id": workflow_id})
        return
    if workflow.status is WorkflowStatus.RUNNING:
        for barrier in store.barriers(workflow):
            if barrier.failed and workflow.on_failure is OnFailure.FAIL:
                fail(workflow, None, services)
                report.failed += 1
                break
            if barrier.remaining == 0 and not barrier.fired:
                advance(workflow, barrier.index, services)
                report.fired += 1
        store.settle_sweep(workflow_id, seen, now + WORKFLOW_RECHECK_SECONDS)
        return
    # Ended: make sure nothing of it starts any more, then it leaves the sweep.
    cancel_unstarted(workflow, store)
    store.settle_sweep(workflow_id, seen, None)
