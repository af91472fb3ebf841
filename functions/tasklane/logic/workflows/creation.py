"""POST /workflows: check the whole tree, store it, and only then start what can start.

Nothing runs before every task is stored. The record is written first, `creating`, and in the
reconciler's sweep; the tasks (all `waiting`) and the barriers follow in batch writes; the record then
turns `running` and the start barrier releases the first tasks. A creation cut short leaves a
`creating` record that the reconciler removes with everything written after it; a creation whose
writes fail is removed at once and answered 503. A refused tree writes nothing at all.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from tasklane.data.tasks.codec import StoredTask, new_item
from tasklane.limits import MAX_ERROR_DETAILS
from tasklane.logic import submission
from tasklane.logic.workflows.progress import advance
from tasklane.model import clock
from tasklane.model.errors import ServiceUnavailable, TasklaneError, ValidationFailed, field_details
from tasklane.model.requests import SubmitRequest
from tasklane.model.task import TaskStatus
from tasklane.model.workflow import (
    CREATION_GRACE_SECONDS,
    MAX_WORKFLOW_TASKS,
    START,
    WORKFLOW_RECHECK_SECONDS,
    Workflow,
    WorkflowStatus,
    check_shape,
    new_workflow_id,
    plan,
    task_id_of,
)
from tasklane.model.workflow_requests import WorkflowRequest
from tasklane.observability import logger


def _prefixed(path: str, details: Any) -> list[dict[str, str]]:
    if not isinstance(details, list):
        return [{"field": path, "message": "is not valid"}]
    return [{"field": f"{path}.{d['field']}" if d.get("field") else path, "message": d["message"]} for d in details]


def _check(
    request: WorkflowRequest, owner: str, services: submission.Preparing, workflow_id: str
) -> list[submission.NewTask]:
    """Every task of the tree as a checked submission, or one ValidationFailed naming each bad node."""
    problems, entries = check_shape(request.root)
    if len(entries) > MAX_WORKFLOW_TASKS:
        problems.append({"field": "root", "message": f"has {len(entries)} tasks; at most {MAX_WORKFLOW_TASKS}"})
    if request.callback_url is not None:
        from tasklane.settings.webhooks import webhook_settings

        try:
            submission.check_callback(request.callback_url, allow_loopback=webhook_settings().allow_loopback)
        except ValidationFailed as exc:
            problems += exc.details
    now = clock.now()
    tasks: list[submission.NewTask] = []
    for index, (path, raw) in enumerate(entries[:MAX_WORKFLOW_TASKS]):
        if len(problems) > MAX_ERROR_DETAILS:
            break
        try:
            if not isinstance(raw, dict):
                raise ValidationFailed("not an object", [{"field": "", "message": "must be a task submission"}])
            task_request = SubmitRequest.model_validate(raw)
            if task_request.delay_seconds is not None or task_request.run_at is not None:
                field = "delay_seconds" if task_request.delay_seconds is not None else "run_at"
                message = "a workflow starts its tasks when their turn comes: no delay"
                raise ValidationFailed(message, [{"field": field, "message": message}])
            new = submission.prepare(
                task_request, owner, services, now, submission.Origin(task_id_of(workflow_id, index))
            )
            tasks.append(replace(new, task=replace(new.task, status=TaskStatus.WAITING, workflow_id=workflow_id)))
        except ValidationError as exc:
            problems += field_details(exc.errors(include_url=False), prefix=(path,))
        except TasklaneError as exc:
            problems += _prefixed(path, exc.details)
    if problems:
        shown = problems[:MAX_ERROR_DETAILS]
        if len(problems) > MAX_ERROR_DETAILS:
            shown.append({"field": "", "message": "and more problems"})
        raise ValidationFailed("the workflow is not valid", shown)
    return tasks


def submit_workflow(
    request: WorkflowRequest, owner: str, services: submission.Submitting, correlation_id: str | None
) -> Workflow:
    """Check the tree, store it (record, tasks, barriers), then start the tasks that can start."""
    workflow_id = new_workflow_id()
    tasks = _check(request, owner, services, workflow_id)
    layout, store = services.store.layout, services.store.workflows()
    the_plan = plan(request.root)
    now = clock.now()
    workflow = Workflow(
        workflow_id=workflow_id,
        owner=owner,
        status=WorkflowStatus.CREATING,
        on_failure=request.on_failure,
        plan=the_plan,
        callback_url=request.callback_url,
        created_at=clock.iso(now),
        updated_at=clock.iso(now),
    )
    # Large payloads first: a task item refers to its object only once the object exists.
    kept = [submission.keep_payload(new, services) for new in tasks]
    store.put_new(store.record_item(workflow, the_plan.shape, len(tasks), clock.epoch(now) + CREATION_GRACE_SECONDS))
    rows = []
    for new, value, planned in zip(tasks, kept, the_plan.tasks, strict=True):
        item = new_item(StoredTask(new.task, owner), correlation_id, value, layout, sequence=planned.index)
        item.pop("sweep_shard", None)  # a waiting task has no message yet: nothing for the task sweep
        item.pop("sweep_at", None)
        item["workflow_id"] = {"S": workflow_id}
        item["wf_before"] = {"N": str(planned.before)}
        inputs = the_plan.barriers[planned.after].inputs
        if inputs:
            item["wf_inputs"] = {"L": [{"N": str(i)} for i in inputs]}
        rows.append(item)
    rows += [store.barrier_item(workflow_id, b.index, len(b.inputs)) for b in the_plan.barriers]
    outcome = store.put_many(rows)
    if outcome.unwritten or outcome.unconfirmed:
        logger.warning("workflow not stored; removing what was written", extra={"workflow_id": workflow_id})
        try:
            store.delete_all(workflow)
        except ServiceUnavailable:
            logger.exception("removal left to the reconciler", extra={"workflow_id": workflow_id})
        raise ServiceUnavailable("the workflow could not be stored; nothing was started: submit it again")
    sweep_at = clock.epoch(now) + WORKFLOW_RECHECK_SECONDS
    if not store.move(workflow_id, WorkflowStatus.RUNNING, clock.now(), sweep_at=sweep_at):
        raise ServiceUnavailable("the workflow's creation took too long and was undone: submit it again")
    running = replace(workflow, status=WorkflowStatus.RUNNING)
    try:
        advance(running, START, services)
    except ServiceUnavailable:
        # Stored and running: the reconciler finds the start barrier at zero and releases its tasks.
        logger.exception("first tasks left to the reconciler", extra={"workflow_id": workflow_id})
    return running
