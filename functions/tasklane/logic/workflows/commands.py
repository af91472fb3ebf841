"""What a caller can change of a workflow: cancel it."""

from __future__ import annotations

from typing import Any

from tasklane.logic.queries import TaskReads
from tasklane.logic.workflows.progress import cancel_unstarted
from tasklane.logic.workflows.views import owned_workflow, workflow_view
from tasklane.model import clock
from tasklane.model.errors import WorkflowFinished
from tasklane.model.workflow import WorkflowStatus
from tasklane.observability import logger


def cancel_workflow(workflow_id: str, owner: str, services: TaskReads) -> dict[str, Any]:
    """running → cancelled: its tasks not started are cancelled and the rest never start; a task
    running now finishes and keeps its result. 409 once the workflow has ended."""
    workflow = owned_workflow(workflow_id, owner, services)
    store = services.store.workflows()
    if not store.move(workflow.workflow_id, WorkflowStatus.CANCELLED, clock.now()):
        current = owned_workflow(workflow_id, owner, services)
        raise WorkflowFinished(current.workflow_id, current.status.value)
    cancelled = cancel_unstarted(workflow, store)
    logger.info("workflow cancelled", extra={"workflow_id": workflow.workflow_id, "tasks_cancelled": cancelled})
    return workflow_view(owned_workflow(workflow_id, owner, services), services)
