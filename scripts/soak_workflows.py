"""The soak's workflows: a chain and a chord of the built-in `add` type per WORKFLOW_EVERY tasks of the
mix, and the check that each completed with the sum its shape gives, and that each node started after
every input it waited for had finished (a node's start once is the soak's `run twice` check, which
reads the processors' logs for these tasks too)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

WORKFLOW_EVERY = 40  # tasks of the mix per chain and per chord
FINISHED = ("completed", "failed", "cancelled")


def _add(n: int) -> dict[str, Any]:
    return {"task": {"task_type": "add", "payload": {"n": n}}}


# (name, root, the workflow's result): a chain passes each result on; a chord's `then` adds the group's.
SHAPES = (
    ("chain", {"chain": [_add(1), _add(2), _add(3)]}, 6),
    ("chord", {"chord": {"group": [_add(1), _add(2), _add(3), _add(4)], "then": _add(10)}}, 20),
)


@dataclass
class Submitted:
    shape: str
    workflow_id: str
    expected: int
    status: str = ""
    result: Any = None
    tree: dict[str, Any] = field(default_factory=dict)


def submit(api: Any, tasks: int) -> list[Submitted]:
    """A chain and a chord per WORKFLOW_EVERY tasks (one of each at least), each a workflow of its own."""
    submitted: list[Submitted] = []
    for _ in range(max(1, tasks // WORKFLOW_EVERY)):
        for name, root, expected in SHAPES:
            answer = api.request("POST", "/workflows", json={"root": root})
            if answer.status_code != 202:
                raise RuntimeError(f"POST /workflows answered {answer.status_code}: {answer.text}")
            submitted.append(Submitted(name, answer.json()["workflow_id"], expected))
    return submitted


def unfinished(api: Any, workflows: list[Submitted]) -> list[str]:
    """Read each workflow not yet finished (four at a time); the ids of those still running."""

    def read(w: Submitted) -> None:
        shown = api.request("GET", f"/workflows/{w.workflow_id}").json()
        w.status, w.result, w.tree = shown["status"], shown.get("result"), shown.get("tree", {})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(read, [w for w in workflows if w.status not in FINISHED]))
    return [w.workflow_id for w in workflows if w.status not in FINISHED]


def edges(tree: dict[str, Any], after: list[str]) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Each task of the tree with the tasks it waits for, given what the tree waits for (`after`);
    and the tasks whose end ends the tree."""
    if "task" in tree:
        task_id = tree["task"]["task_id"]
        return [(task_id, after)], [task_id]
    if "chain" in tree:
        found: list[tuple[str, list[str]]] = []
        for node in tree["chain"]:
            more, after = edges(node, after)
            found += more
        return found, after
    if "group" in tree:
        found, ends = [], []
        for node in tree["group"]:
            more, last = edges(node, after)
            found, ends = found + more, ends + last
        return found, ends
    group, ends = edges({"group": tree["chord"]["group"]}, after)
    then, last = edges(tree["chord"]["then"], ends)
    return group + then, last


@dataclass
class WorkflowFigures:
    workflows: dict[str, int]  # by shape
    statuses: dict[str, int]
    wrong_result: list[str]
    early: list[str]  # nodes started before an input finished
    tasks: list[str]  # every node's task id

    def problems(self) -> list[str]:
        found = [f"workflow {w} did not complete with its sum" for w in self.wrong_result[:5]]
        return found + [f"workflow node started before its input finished: {e}" for e in self.early[:5]]


def figures(api: Any, workflows: list[Submitted]) -> WorkflowFigures:
    """Each workflow's outcome, and each node's start against its inputs' ends (GET /tasks/{id})."""
    early, tasks = [], []
    for w in workflows:
        nodes, _ = edges(w.tree, [])
        shown = {t: api.request("GET", f"/tasks/{t}").json() for t, _ in nodes}
        tasks += list(shown)
        for task_id, inputs in nodes:
            started = shown[task_id].get("started_at")
            for before in inputs:
                finished = shown[before].get("finished_at")
                if started and (not finished or datetime.fromisoformat(started) < datetime.fromisoformat(finished)):
                    early.append(f"{task_id} started {started}, its input {before} finished {finished}")
    statuses: dict[str, int] = {}
    shapes: dict[str, int] = {}
    for w in workflows:
        statuses[w.status] = statuses.get(w.status, 0) + 1
        shapes[w.shape] = shapes.get(w.shape, 0) + 1
    wrong = [w.workflow_id for w in workflows if (w.status, w.result) != ("completed", w.expected)]
    return WorkflowFigures(shapes, statuses, wrong, early, tasks)
