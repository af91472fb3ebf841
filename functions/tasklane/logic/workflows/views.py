"""What a caller reads of a workflow: its status, counts, tree with each task's id and status, the
result of its last node, its tasks, and a caller's listing. Runs without pydantic (status function)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from tasklane.data.services import HasStore, HasValues
from tasklane.data.tasks.codec import LISTED_ATTRIBUTES, StoredTask, to_stored
from tasklane.logic.queries import TaskReads, view
from tasklane.model.errors import WorkflowNotFound
from tasklane.model.ids import is_task_id
from tasklane.model.task import TaskStatus, summary
from tasklane.model.workflow import Counts, Workflow, task_id_of


def owned_workflow(workflow_id: str, owner: str, services: HasStore, *, consistent: bool = True) -> Workflow:
    """The caller's workflow; any other (or none) is not found."""
    canonical = workflow_id.lower()
    if not is_task_id(canonical):
        raise WorkflowNotFound(workflow_id)
    workflow = services.store.workflows().get_workflow(canonical, consistent=consistent)
    if workflow is None or workflow.owner != owner:
        raise WorkflowNotFound(workflow_id)
    return workflow


def counts(workflow: Workflow, tasks: dict[str, StoredTask]) -> Counts:
    """How many of its tasks are in each status (not started yet, waiting or queued, count as pending)."""
    by_status: dict[str, int] = {}
    for stored in tasks.values():
        status = stored.task.status
        key = "pending" if status in (TaskStatus.WAITING, TaskStatus.SCHEDULED) else status.value
        by_status[key] = by_status.get(key, 0) + 1
    return Counts(total=len(workflow.plan.tasks), **by_status)


def _tree(shape: dict[str, Any], workflow: Workflow, tasks: dict[str, StoredTask], path: str) -> dict[str, Any]:
    if "task" in shape:
        task_id = task_id_of(workflow.workflow_id, shape["task"])
        stored = tasks.get(task_id)
        return {
            "task": {
                "path": f"{path}.task",
                "task_id": task_id,
                "task_type": stored.task.task_type if stored else None,
                "status": stored.task.status.value if stored else None,
            }
        }
    if "chain" in shape or "group" in shape:
        kind = "chain" if "chain" in shape else "group"
        return {kind: [_tree(n, workflow, tasks, f"{path}.{kind}[{i}]") for i, n in enumerate(shape[kind])]}
    chord = shape["chord"]
    group = [_tree(n, workflow, tasks, f"{path}.chord.group[{i}]") for i, n in enumerate(chord["group"])]
    return {"chord": {"group": group, "then": _tree(chord["then"], workflow, tasks, f"{path}.chord.then")}}


def ends_in_group(shape: dict[str, Any]) -> bool:
    """Whether a node's result is a list (a group's, in order) rather than one task's value."""
    if "group" in shape:
        return True
    if "chain" in shape:
        return ends_in_group(shape["chain"][-1])
    if "chord" in shape:
        return ends_in_group(shape["chord"]["then"])
    return False


def input_value(stored: StoredTask | None, services: HasValues) -> Any:
    """One task's result as a later node receives it; `{"error": ...}` for a task that failed or never ran."""
    if stored is None or stored.task.status is not TaskStatus.COMPLETED:
        if stored is not None and stored.task.error is not None:
            return {"error": {"type": stored.task.error.type, "message": stored.task.error.message}}
        status = stored.task.status.value if stored else "missing"
        return {"error": {"type": "NotRun", "message": f"the task did not complete: it is {status}"}}
    if stored.result_key is not None:
        return json.loads(services.values.get(stored.result_key))
    return stored.task.result


def workflow_view(workflow: Workflow, services: TaskReads, *, consistent: bool = True) -> dict[str, Any]:
    """GET /workflows/{id}: status, counts, tree, and the result of the last node once it ended."""
    tasks = services.store.workflows().tasks_of(workflow, consistent=consistent)
    result: Any = None
    result_url: str | None = None
    if workflow.status.finished and workflow.status.value == "completed":
        end_ids = [task_id_of(workflow.workflow_id, i) for i in workflow.plan.end.inputs]
        full: dict[str, StoredTask] = {}
        for start in range(0, len(end_ids), 100):
            full |= services.store.get_many(end_ids[start : start + 100])
        ends = [full.get(task_id) for task_id in end_ids]
        if not ends_in_group(workflow.plan.shape) and len(ends) == 1 and ends[0] and ends[0].result_key:
            result_url = services.values.url(ends[0].result_key)  # a large value: by URL, as a task's
        else:
            values = [input_value(t, services) for t in ends]
            result = values if ends_in_group(workflow.plan.shape) else values[0]
    return {
        "workflow_id": workflow.workflow_id,
        "status": workflow.status.value,
        "on_failure": workflow.on_failure.value,
        "callback_url": workflow.callback_url,
        "counts": asdict(counts(workflow, tasks)),
        "tree": _tree(workflow.plan.shape, workflow, tasks, "root"),
        "result": result,
        "result_url": result_url,
        "error": workflow.error,
        "created_at": workflow.created_at,
        "updated_at": workflow.updated_at,
        "finished_at": workflow.finished_at,
    }


def summary_view(workflow: Workflow) -> dict[str, Any]:
    """A workflow as a listing shows it: no tree, no counts (each would read every task)."""
    return {
        "workflow_id": workflow.workflow_id,
        "status": workflow.status.value,
        "on_failure": workflow.on_failure.value,
        "total": len(workflow.plan.tasks),
        "error": workflow.error,
        "created_at": workflow.created_at,
        "updated_at": workflow.updated_at,
        "finished_at": workflow.finished_at,
    }


def list_workflows(owner: str, limit: int, before: str | None, services: HasStore) -> dict[str, Any]:
    page, after = services.store.workflows().list_by_owner(owner, limit, before)
    return {"workflows": [summary_view(w) for w in page], "next_cursor": after}


def workflow_tasks(
    workflow: Workflow, services: TaskReads, *, limit: int, cursor: str | None, status: str | None = None
) -> dict[str, Any]:
    """GET /tasks?workflow_id=: a page of the workflow's tasks in tree order (listing shape, no
    payload or result), and the position to continue from (an index into the tree's tasks)."""
    ids = workflow.task_ids()
    start = int(cursor) if cursor and cursor.isdigit() else 0
    items: list[dict[str, Any]] = []
    position = start
    while position < len(ids) and len(items) < limit:
        chunk = ids[position : position + 100]
        raw = services.store.read_many(chunk, consistent=False, attributes=LISTED_ATTRIBUTES)
        found = {item["task_id"]["S"]: to_stored(item) for item in raw}
        for task_id in chunk:
            position += 1
            stored = found.get(task_id)
            if stored is not None and (status is None or stored.task.status.value == status):
                items.append(summary(view(stored, services)).public())
            if len(items) == limit:
                break
    return {"items": items, "next_cursor": str(position) if position < len(ids) else None}
