"""Workflows in the simulation: a client submits chains, groups and chords of the simulation's task
types (tasklane.logic.workflows.creation, as POST /workflows does); their tasks run on the lanes like
any other, each end counting down its barrier in its own transaction, and the reconciler's workflow
repair (run by actors.reconciler, inside tasklane's reconcile) finishes any step cut short.

The checks, on every change of the tasks table (called by History):
- a workflow node starts once, after its last input: a task moves waiting -> pending once, only when
  every task whose result is its input has ended (completed, failed or cancelled), and a run of a
  workflow task starts only then too;
- a barrier never counts below zero, and once at zero never moves;
- a finished workflow never changes its status;
and at quiescence every workflow a client was answered for (and every one stored) has ended, and
none of its tasks is left waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tasklane.data.tasks.codec import StoredTask
from tasklane.logic.workflows.creation import submit_workflow
from tasklane.model.errors import TasklaneError
from tasklane.model.lanes import Lane
from tasklane.model.task import TaskStatus
from tasklane.model.workflow import task_id_of
from tasklane.model.workflow_requests import WorkflowRequest

if TYPE_CHECKING:
    from tests.simulation.simulation import Simulation
    from tests.simulation.world.runtime import Invocation

ENDED = {TaskStatus.COMPLETED.value, TaskStatus.FAILED.value, TaskStatus.CANCELLED.value}
WORKFLOW_ENDED = {"completed", "failed", "cancelled"}


class FanInViolation(Exception):
    """Raised as history.Violation by History (kept apart to avoid a cycle of imports)."""


def is_workflow_key(key: str) -> bool:
    return key.startswith("wf#")


@dataclass
class FanInChecks:
    items: dict[str, dict[str, Any]]
    released: set[str] = field(default_factory=set)  # workflow tasks moved waiting -> pending
    acknowledged: set[str] = field(default_factory=set)  # workflows a client got an answer for
    workflows: int = 0

    def workflow_item(self, key: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if new is None:
            return  # a creation undone: its record and barriers removed
        if "remaining" in new:
            remaining = int(new["remaining"]["N"])
            if remaining < 0:
                raise FanInViolation(f"barrier {key} counted below zero ({remaining})")
            if old is not None and int(old["remaining"]["N"]) == 0 and remaining != 0:
                raise FanInViolation(f"barrier {key} moved after it reached zero")
            return
        if old is None:
            self.workflows += 1
            return
        before, after = old.get("status", {}).get("S"), new.get("status", {}).get("S")
        if before in WORKFLOW_ENDED and after != before:
            raise FanInViolation(f"finished workflow {key} changed: {before} -> {after}")

    def task_changed(self, before: TaskStatus | None, after: StoredTask) -> None:
        task = after.task
        if task.workflow_id is None:
            return
        if before is TaskStatus.WAITING and task.status is TaskStatus.PENDING:
            if task.task_id in self.released:
                raise FanInViolation(f"workflow task {task.task_id} released twice")
            self.released.add(task.task_id)
            self._inputs_ended(after, "released")

    def run_started(self, stored: StoredTask) -> None:
        if stored.task.workflow_id is not None:
            self._inputs_ended(stored, "started")

    def _inputs_ended(self, stored: StoredTask, what: str) -> None:
        workflow_id = stored.task.workflow_id
        assert workflow_id is not None
        for index in stored.workflow_inputs:
            item = self.items.get(task_id_of(workflow_id, index))
            status = item["status"]["S"] if item else "missing"
            if status not in ENDED:
                raise FanInViolation(
                    f"workflow task {stored.task.task_id} {what} before its input #{index} ended ({status})"
                )

    def quiescent(self) -> list[str]:
        """What is left unfinished: workflows not ended, workflow tasks still waiting."""
        problems = []
        stored = {i["workflow_id"]["S"]: i for k, i in self.items.items() if is_workflow_key(k) and "kind" in i}
        for workflow_id in sorted(self.acknowledged - set(stored)):
            problems.append(f"lost: workflow {workflow_id} answered but not stored")
        for workflow_id, record in sorted(stored.items()):
            if record["status"]["S"] not in WORKFLOW_ENDED:
                problems.append(f"lost: workflow {workflow_id} still {record['status']['S']} at quiescence")
        return problems


def _node(rng: Any, depth: int, make_task: Any) -> dict[str, Any]:
    roll = rng.random()
    if depth >= 2 or roll < 0.35:
        return {"task": make_task()}
    kids = [_node(rng, depth + 1, make_task) for _ in range(rng.randint(2, 3))]
    if roll < 0.6:
        return {"chain": kids}
    if roll < 0.8:
        return {"group": kids}
    return {"chord": {"group": kids, "then": _node(rng, depth + 1, make_task)}}


def submit(sim: Simulation, make_request: Any) -> None:
    """POST /workflows: a tree of up to a few levels; its tasks are the simulation's ordinary ones."""
    rng = sim.world.rng

    def make_task() -> dict[str, Any]:
        request = make_request(rng)
        request.pop("delay_seconds", None)  # a workflow starts its tasks when their turn comes
        return request

    request = WorkflowRequest.model_validate(
        {"root": _node(rng, 0, make_task), "on_failure": rng.choice(["fail", "continue"])}
    )
    owner = rng.choice(("alice", "bob", "carol"))
    checks = sim.world.history.fan_in

    def body(inv: Invocation) -> None:
        try:
            workflow = submit_workflow(request, owner, sim.services[Lane.NORMAL], "sim-workflow")
        except TasklaneError:
            return  # 503: nothing started, the client submits again later (a new workflow)
        checks.acknowledged.add(workflow.workflow_id)

    sim.world.start("submit-workflow", body, 30)
