"""Workflows: a tree of chain, group and chord nodes over tasks, planned as tasks and the barriers
between them.

A barrier sits wherever a node waits for others: before the root (the start, with nothing to wait
for), between two steps of a chain, between a chord's group and its `then`, and after the root (the
end). Each task belongs to exactly one barrier as one of its `inputs` (the first barrier after it), so
a task's end counts down exactly one barrier; when that count reaches zero the barrier's `starts` are
queued. A task's own inputs are the results of the barrier it waits behind, in order.

Task ids are derived from the workflow's id and the task's position, so that every writer (a retried
submission, two completions, the reconciler) names the same task.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tasklane.records import record

# The most tasks one workflow holds, and how deeply its nodes may nest (a lone task is depth 1, and
# each chain, group or chord around it adds one).
MAX_WORKFLOW_TASKS = 1000
MAX_WORKFLOW_DEPTH = 8
# A `creating` record older than this lost its submission (the submit function times out long before):
# the reconciler removes it and what was written after it.
CREATION_GRACE_SECONDS = 300
# How long a running workflow waits between two looks of the reconciler: long enough that a step in
# flight finishes first, short enough that a step a crash cut short is finished within minutes.
WORKFLOW_RECHECK_SECONDS = 120


class WorkflowStatus(StrEnum):
    CREATING = "creating"  # its tasks are being written; nothing runs yet
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (WorkflowStatus.COMPLETED, WorkflowStatus.FAILED, WorkflowStatus.CANCELLED)


class OnFailure(StrEnum):
    FAIL = "fail"  # the first task failed after its retries fails the workflow
    CONTINUE = "continue"  # later nodes run, with {"error": ...} in place of the failed input


@record(slots=True)
class PlannedTask:
    """One task of the tree: where it is (`root.chain[1].task`), the barrier it waits behind and the
    barrier its end counts down."""

    index: int
    path: str
    after: int
    before: int


@record(slots=True)
class Barrier:
    """A point the workflow waits at: `inputs` (task indexes, in order) must all end before
    `starts` (task indexes) are queued."""

    index: int
    inputs: tuple[int, ...]
    starts: tuple[int, ...]


START = 0  # the barrier before the root: nothing to wait for
WORKFLOW_KIND = "workflow"  # what marks a workflow's record among the task items


@dataclass
class Plan:
    """The tree's tasks and barriers, and its shape with task indexes at the leaves (`{"task": 3}`)."""

    tasks: list[PlannedTask]
    barriers: list[Barrier]
    shape: dict[str, Any]

    @property
    def end(self) -> Barrier:
        """The barrier after the root: its inputs are the workflow's result."""
        return self.barriers[-1]


@dataclass
class _Builder:
    paths: list[str] = field(default_factory=list)
    after: list[int] = field(default_factory=list)
    before: dict[int, int] = field(default_factory=dict)
    inputs: list[list[int]] = field(default_factory=list)
    starts: list[list[int]] = field(default_factory=list)

    def barrier(self, inputs: list[int]) -> int:
        index = len(self.inputs)
        self.inputs.append(inputs)
        self.starts.append([])
        for task in inputs:
            self.before[task] = index
        return index

    def task(self, path: str, after: int) -> int:
        index = len(self.paths)
        self.paths.append(path)
        self.after.append(after)
        self.starts[after].append(index)
        return index

    def walk(self, node: dict[str, Any], path: str, after: int) -> tuple[list[int], dict[str, Any]]:
        """Plan `node` to start at barrier `after`: its exits (whose results are its result) and shape."""
        if "task" in node:
            index = self.task(f"{path}.task", after)
            return [index], {"task": index}
        if "chain" in node:
            steps: list[dict[str, Any]] = []
            exits: list[int] = []
            for i, step in enumerate(node["chain"]):
                if i:
                    after = self.barrier(exits)
                exits, shape = self.walk(step, f"{path}.chain[{i}]", after)
                steps.append(shape)
            return exits, {"chain": steps}
        if "group" in node:
            members, exits = [], []
            for i, member in enumerate(node["group"]):
                ends, shape = self.walk(member, f"{path}.group[{i}]", after)
                exits += ends
                members.append(shape)
            return exits, {"group": members}
        chord = node["chord"]
        ends, group = self.walk({"group": chord["group"]}, f"{path}.chord", after)
        exits, then = self.walk(chord["then"], f"{path}.chord.then", self.barrier(ends))
        return exits, {"chord": {"group": group["group"], "then": then}}


def plan(root: dict[str, Any]) -> Plan:
    """The tasks and barriers of a tree already checked (check_shape)."""
    builder = _Builder()
    builder.barrier([])
    exits, shape = builder.walk(root, "root", START)
    builder.barrier(exits)
    tasks = [
        PlannedTask(index=i, path=p, after=builder.after[i], before=builder.before[i])
        for i, p in enumerate(builder.paths)
    ]
    barriers = [Barrier(i, tuple(ins), tuple(builder.starts[i])) for i, ins in enumerate(builder.inputs)]
    return Plan(tasks, barriers, shape)


def check_shape(node: Any, path: str = "root", depth: int = 1) -> tuple[list[dict[str, str]], list[tuple[str, Any]]]:
    """The problems of a tree's shape ({field, message}) and its task submissions with their paths, in
    the order the plan numbers them. Submissions themselves are checked by the caller."""
    problems: list[dict[str, str]] = []
    tasks: list[tuple[str, Any]] = []
    if depth > MAX_WORKFLOW_DEPTH:
        return [{"field": path, "message": f"nodes nest deeper than {MAX_WORKFLOW_DEPTH} levels"}], tasks
    kinds = ("task", "chain", "group", "chord")
    if not isinstance(node, dict) or len(node) != 1 or next(iter(node)) not in kinds:
        message = 'must be an object with one key: "task", "chain", "group" or "chord"'
        return [{"field": path, "message": message}], tasks
    kind, value = next(iter(node.items()))
    if kind == "task":
        tasks.append((f"{path}.task", value))
        return problems, tasks
    if kind == "chord":
        if not isinstance(value, dict) or set(value) != {"group", "then"}:
            return [{"field": f"{path}.chord", "message": 'must be an object with "group" and "then"'}], tasks
        children = [(f"{path}.chord.group", {"group": value["group"]}), (f"{path}.chord.then", value["then"])]
        for child_path, child in children:
            found, more = (
                _members(child["group"], child_path, depth + 1)
                if child_path.endswith("group")
                else check_shape(child, child_path, depth + 1)
            )
            problems += found
            tasks += more
        return problems, tasks
    return _members(value, f"{path}.{kind}", depth + 1)


def _members(value: Any, path: str, depth: int) -> tuple[list[dict[str, str]], list[tuple[str, Any]]]:
    if not isinstance(value, list) or not value:
        return [{"field": path, "message": "must be a non-empty list of nodes"}], []
    problems: list[dict[str, str]] = []
    tasks: list[tuple[str, Any]] = []
    for i, member in enumerate(value):
        found, more = check_shape(member, f"{path}[{i}]", depth)
        problems += found
        tasks += more
    return problems, tasks


def new_workflow_id() -> str:
    return str(uuid.uuid4())


def task_id_of(workflow_id: str, index: int) -> str:
    """The id of the workflow's task at `index`: a version-4 UUID derived from both, the same for
    every writer."""
    digest = hashlib.sha256(f"tasklane-workflow/{workflow_id}/{index}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def barrier_key(workflow_id: str, index: int) -> str:
    """The table key of a workflow's barrier (never a UUID: no task route can name it)."""
    return f"wf#{workflow_id}#b{index}"


def record_key(workflow_id: str) -> str:
    """The table key of the workflow's own record."""
    return f"wf#{workflow_id}"


def transition_token(task_id: str, attempt: int, outcome: str) -> str:
    """The ClientRequestToken of a task's terminal transition with its fan-in: one per transition, so
    that a resent request (its answer lost) is applied once."""
    return hashlib.sha256(f"{task_id}/{attempt}/{outcome}".encode()).hexdigest()[:36]


@record(slots=True)
class Counts:
    total: int = 0
    pending: int = 0  # not started yet (waiting for their turn, or queued)
    processing: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0


@record(slots=True, kw_only=True)
class Workflow:
    """A workflow as its record holds it."""

    workflow_id: str
    owner: str
    status: WorkflowStatus
    on_failure: OnFailure
    plan: Plan
    callback_url: str | None = None
    error: dict[str, Any] | None = None  # why it failed: the failed task and its error
    created_at: str
    updated_at: str
    finished_at: str | None = None

    def task_ids(self) -> list[str]:
        return [task_id_of(self.workflow_id, t.index) for t in self.plan.tasks]
