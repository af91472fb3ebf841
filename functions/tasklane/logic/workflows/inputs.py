"""A workflow task's inputs: the results of what it waited for, in order (a chain step: the previous
node's; a chord's `then`: its group's), read from those tasks themselves when the task runs, never
copied into one item. A failed input (policy continue) is `{"error": {type, message}}`."""

from __future__ import annotations

import hashlib
from typing import Any

from tasklane.data.services import HasValues
from tasklane.data.tasks.codec import StoredTask
from tasklane.limits import INLINE_VALUE_BYTES
from tasklane.logic.queries import TaskReads
from tasklane.logic.workflows.views import input_value
from tasklane.model import values
from tasklane.model.workflow import task_id_of


def read_inputs(stored: StoredTask, services: TaskReads) -> list[Any]:
    """The inputs of a task (empty outside a workflow, and for a workflow's first tasks): what a
    Python task type gets as `ctx.inputs`, and what any other kind of target gets (see envelope_inputs)."""
    workflow_id = stored.task.workflow_id
    if workflow_id is None or not stored.workflow_inputs:
        return []
    ids = [task_id_of(workflow_id, i) for i in stored.workflow_inputs]
    found: dict[str, StoredTask] = {}
    for start in range(0, len(ids), 100):
        found |= services.store.get_many(ids[start : start + 100])
    return [input_value(found.get(task_id), services) for task_id in ids]


def envelope_inputs(stored: StoredTask, attempt: int, inputs: list[Any], services: HasValues) -> dict[str, Any]:
    """The inputs (as read_inputs read them) as a target's envelope carries them: inline up to the
    inline threshold, beyond it in the values bucket with a short-lived URL (`inputs_url`,
    `inputs_size`), as large values go."""
    encoded = values.encode(inputs)
    if len(encoded) <= INLINE_VALUE_BYTES:
        return {"inputs": inputs}
    digest = hashlib.sha256(encoded).hexdigest()[:16]
    key = f"results/{stored.task.task_id}/inputs-{attempt}-{digest}.json"
    services.values.put(key, encoded)
    return {"inputs": None, "inputs_url": services.values.url(key), "inputs_size": len(encoded)}
