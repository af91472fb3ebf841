"""A deterministic simulation of workflows over the real logic (tasklane.logic.workflows) and an
in-memory model of the tasks table and the lanes.

The model keeps DynamoDB's promises that the logic relies on, each a conditional write: a claim moves
pending → processing once; a task's end and its barrier's countdown change together (a transaction);
a release moves waiting → pending only while the workflow runs. The moto tests prove the real data
layer keeps them (tests/functional/test_workflows.py, test_workflow_fanin.py).

Faults, from a seeded random generator: every message may be delivered twice and in any order;
children finish "at the same instant" (their transactions land before any of them looks at the
barrier); a process may stop between any two writes (after a task's end, between a release and its
sends, before a barrier is marked done, in the middle of a cancel); a write's answer may be lost
after it was applied (the writer tries again). The reconciler runs when the lanes are empty.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tasklane.data.queues import QueueUnavailable
from tasklane.data.tasks.codec import StoredTask, TableLayout
from tasklane.data.tasks.table import StoreUnavailable, TransitionRejected
from tasklane.data.tasks.workflow_tasks import FanIn
from tasklane.data.tasks.workflows import BarrierState
from tasklane.logic.workflows import progress, repair
from tasklane.model.lanes import Lane
from tasklane.model.task import Task, TaskError, TaskStatus
from tasklane.model.workflow import (
    START,
    WORKFLOW_RECHECK_SECONDS,
    OnFailure,
    Plan,
    Workflow,
    WorkflowStatus,
    barrier_key,
    plan,
    task_id_of,
)

OWNER = "owner"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


class Crash(Exception):
    """The process stopped here (what it wrote so far stays written)."""


@dataclass
class Faults:
    rng: random.Random
    crash: float = 0.0  # chance that a process stops at a given point between writes
    lost_answer: float = 0.0  # chance that an applied write's answer is lost

    def maybe_crash(self) -> None:
        if self.rng.random() < self.crash:
            raise Crash()

    def maybe_lose_answer(self) -> None:
        if self.rng.random() < self.lost_answer:
            raise StoreUnavailable("the answer was lost")


@dataclass
class Barrier:
    remaining: int
    failed: int = 0
    fired: bool = False


@dataclass
class Record:
    workflow: Workflow
    sweep_at: int | None = 0


@dataclass
class Model:
    """The table: tasks, barriers and workflow records; plus what the checks observe."""

    faults: Faults
    tasks: dict[str, StoredTask] = field(default_factory=dict)
    barriers: dict[str, Barrier] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    released_after_end: int = 0


LAYOUT = TableLayout(
    table_name="t", retention=timedelta(days=1), sweep_shards=1, owner_shards=1, pending_grace_seconds=60
)


class FakeWorkflowStore:
    """tasklane.data.tasks.workflows.WorkflowStore over the model."""

    def __init__(self, model: Model) -> None:
        self.m = model
        self.layout = LAYOUT

    def barrier(self, workflow_id: str, index: int) -> BarrierState | None:
        b = self.m.barriers.get(barrier_key(workflow_id, index))
        return BarrierState(index, b.remaining, b.failed, b.fired) if b else None

    def barriers(self, workflow: Workflow) -> list[BarrierState]:
        found = (self.barrier(workflow.workflow_id, b.index) for b in workflow.plan.barriers)
        return [b for b in found if b is not None]

    def get_workflow(self, workflow_id: str, *, consistent: bool = True) -> Workflow | None:
        record = self.m.records.get(workflow_id)
        return record.workflow if record else None

    def move(self, workflow_id: str, status: WorkflowStatus, now: datetime, **extra: Any) -> bool:
        record = self.m.records[workflow_id]
        source = WorkflowStatus.CREATING if status is WorkflowStatus.RUNNING else WorkflowStatus.RUNNING
        if record.workflow.status is not source:
            return False
        record.workflow = replace(record.workflow, status=status, error=extra.get("error"))
        if status is WorkflowStatus.COMPLETED:
            record.sweep_at = None
        self.m.faults.maybe_lose_answer()
        return True

    def mark_fired(self, workflow_id: str, index: int) -> None:
        self.m.faults.maybe_crash()
        b = self.m.barriers[barrier_key(workflow_id, index)]
        if b.remaining == 0:
            b.fired = True

    def release(self, workflow_id: str, task_ids: list[str], now: datetime, token: str) -> list[str]:
        moved = []
        for start in range(0, len(task_ids), 99):  # one transaction per chunk, with the workflow's check
            if self.m.records[workflow_id].workflow.status is not WorkflowStatus.RUNNING:
                return moved
            for task_id in task_ids[start : start + 99]:
                stored = self.m.tasks[task_id]
                if stored.task.status is TaskStatus.WAITING:
                    self.m.tasks[task_id] = replace(stored, task=replace(stored.task, status=TaskStatus.PENDING))
                    moved.append(task_id)
            self.m.faults.maybe_crash()
        return moved

    def get_many(self, task_ids: list[str]) -> dict[str, StoredTask]:
        return {t: self.m.tasks[t] for t in task_ids if t in self.m.tasks}

    def tasks_of(self, workflow: Workflow, *, consistent: bool = True) -> dict[str, StoredTask]:
        return self.get_many(workflow.task_ids())

    def cancel_unstarted(self, task_id: str, now: datetime) -> bool:
        self.m.faults.maybe_crash()
        stored = self.m.tasks[task_id]
        if stored.task.status not in (TaskStatus.WAITING, TaskStatus.PENDING, TaskStatus.SCHEDULED):
            return False
        self.m.tasks[task_id] = replace(stored, task=replace(stored.task, status=TaskStatus.CANCELLED))
        return True

    def due(self, shard: int, now: int) -> list[tuple[str, int]]:
        return [(wid, r.sweep_at) for wid, r in self.m.records.items() if r.sweep_at is not None and r.sweep_at <= now]

    def settle_sweep(self, workflow_id: str, seen: int, next_at: int | None) -> bool:
        record = self.m.records[workflow_id]
        if record.sweep_at != seen:
            return False
        record.sweep_at = next_at
        return True


class FakeTaskStore:
    """The task transitions of tasklane.data.tasks.store.TaskStore the workflow path uses, over the model."""

    def __init__(self, model: Model) -> None:
        self.m = model
        self.layout = LAYOUT
        self._workflows = FakeWorkflowStore(model)

    def workflows(self) -> FakeWorkflowStore:
        return self._workflows

    def get(self, task_id: str) -> StoredTask | None:
        return self.m.tasks.get(task_id)

    def get_many(self, task_ids: list[str]) -> dict[str, StoredTask]:
        return self._workflows.get_many(task_ids)

    def mark_processing(self, task_id: str) -> StoredTask:
        stored = self.m.tasks[task_id]
        if stored.task.status is not TaskStatus.PENDING:
            raise TransitionRejected(stored)
        claimed = replace(stored, task=replace(stored.task, status=TaskStatus.PROCESSING, attempts=1))
        self.m.tasks[task_id] = claimed
        return claimed

    def end(self, task_id: str, outcome: TaskStatus, result: Any, fan_in: FanIn) -> None:
        """The task's end and its barrier's countdown, together; a resend after a lost answer is
        recognised (the task has already ended this way) and applies nothing."""
        stored = self.m.tasks[task_id]
        if stored.task.status is not TaskStatus.PROCESSING:
            if stored.task.status is outcome:
                return  # applied before; the answer had been lost
            raise TransitionRejected(stored)
        barrier = self.m.barriers[fan_in.barrier]
        if barrier.remaining <= 0:
            self.m.violations.append(f"barrier {fan_in.barrier} counted below zero")
            raise TransitionRejected(stored)
        error = TaskError("IntentionalFailure", "failed") if outcome is TaskStatus.FAILED else None
        ended = replace(stored.task, status=outcome, result=result, error=error)
        self.m.tasks[task_id] = replace(stored, task=ended)
        barrier.remaining -= 1
        barrier.failed += int(fan_in.failed)
        self.m.faults.maybe_lose_answer()

    def mark_unsent(self, task_id: str, now: int) -> None:
        pass


@dataclass
class Lanes:
    """The lanes as one bag of messages (task ids), delivered in random order, some twice."""

    faults: Faults
    messages: list[str] = field(default_factory=list)

    def send_many(self, lane: Lane, messages: list[Any]) -> list[str]:
        if self.faults.rng.random() < self.faults.crash:
            raise QueueUnavailable("the sends failed")
        for message, _ in messages:
            self.messages.append(message.task_id)
            if self.faults.rng.random() < 0.2:
                self.messages.append(message.task_id)  # delivered twice
        return []


@dataclass
class Services:
    store: FakeTaskStore
    queues: Lanes


def random_tree(rng: random.Random, budget: int, depth: int = 1) -> dict[str, Any]:
    """A random node of at most `budget` tasks, nesting at most 8 deep."""
    kind = rng.choice(["task", "task", "chain", "group", "chord"]) if depth < 8 and budget > 1 else "task"
    if kind == "task":
        failing = rng.random() < 0.08
        return {"task": {"n": rng.randint(1, 9), "fail": failing}}
    if kind == "chord":
        size = rng.randint(1, max(1, min(6, budget - 1)))
        group = [random_tree(rng, max(1, (budget - 1) // size), depth + 1) for _ in range(size)]
        return {"chord": {"group": group, "then": random_tree(rng, 1, depth + 1)}}
    size = rng.randint(1, max(1, min(5, budget)))
    return {kind: [random_tree(rng, max(1, budget // size), depth + 1) for _ in range(size)]}


def _specs(node: dict[str, Any], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The task specs of a tree in the order the plan numbers them."""
    if "task" in node:
        found.append(node["task"])
    elif "chord" in node:
        for member in node["chord"]["group"]:
            _specs(member, found)
        _specs(node["chord"]["then"], found)
    else:
        for member in node.get("chain") or node.get("group") or []:
            _specs(member, found)
    return found


def _shape(node: dict[str, Any], counter: list[int]) -> dict[str, Any]:
    """The tree with its task specs replaced by plan positions (what the plan reads)."""
    if "task" in node:
        counter[0] += 1
        return {"task": counter[0] - 1}
    if "chord" in node:
        group = [_shape(m, counter) for m in node["chord"]["group"]]
        return {"chord": {"group": group, "then": _shape(node["chord"]["then"], counter)}}
    kind = "chain" if "chain" in node else "group"
    return {kind: [_shape(m, counter) for m in node[kind]]}


@dataclass
class Outcome:
    workflows: int = 0
    tasks: int = 0
    started_twice: int = 0
    never_started: int = 0
    started_early: int = 0
    not_finished: int = 0
    wrong_results: int = 0
    violations: list[str] = field(default_factory=list)


def _store(model: Model, workflow_id: str, tree: dict[str, Any], policy: OnFailure) -> tuple[Plan, list[dict]]:
    the_plan = plan(_shape(tree, [0]))
    specs = _specs(tree, [])
    workflow = Workflow(
        workflow_id=workflow_id,
        owner=OWNER,
        status=WorkflowStatus.RUNNING,
        on_failure=policy,
        plan=the_plan,
        created_at="2026-12-01T00:00:00.000Z",
        updated_at="2026-12-01T00:00:00.000Z",
    )
    model.records[workflow_id] = Record(workflow)
    for planned in the_plan.tasks:
        task = Task(
            task_id=task_id_of(workflow_id, planned.index),
            task_type="add",
            priority=Lane.NORMAL,
            status=TaskStatus.WAITING,
            payload=specs[planned.index],
            max_attempts=1,
            timeout_seconds=10,
            created_at="2026-12-01T00:00:00.000Z",
            updated_at="2026-12-01T00:00:00.000Z",
            workflow_id=workflow_id,
        )
        inputs = the_plan.barriers[planned.after].inputs
        model.tasks[task.task_id] = StoredTask(task, OWNER, workflow_before=planned.before, workflow_inputs=inputs)
    for b in the_plan.barriers:
        model.barriers[barrier_key(workflow_id, b.index)] = Barrier(remaining=len(b.inputs))
    return the_plan, specs


def _run_one(model: Model, services: Services, task_id: str, rng: random.Random, batch: list) -> None:
    """One delivery: claim, check its inputs have ended, run, and end (maybe with the barrier step later)."""
    try:
        stored = services.store.mark_processing(task_id)
    except TransitionRejected:
        return  # a duplicate, or cancelled: acknowledged
    model.starts[task_id] = model.starts.get(task_id, 0) + 1
    workflow_id = stored.task.workflow_id or ""
    inputs = [model.tasks[task_id_of(workflow_id, i)] for i in stored.workflow_inputs]
    if any(not i.task.status.finished for i in inputs):
        model.violations.append(f"{task_id} started before its inputs ended")
    spec = stored.task.payload or {}
    failed = bool(spec.get("fail"))
    values = [i.task.result if i.task.status is TaskStatus.COMPLETED else 0 for i in inputs]
    result = None if failed else spec["n"] + sum(values)
    outcome = TaskStatus.FAILED if failed else TaskStatus.COMPLETED
    fan_in = progress.fan_in_of(stored, 1, failed=failed)
    assert fan_in is not None
    for _ in range(5):  # the writer tries again while the answer is lost
        try:
            services.store.end(task_id, outcome, result, fan_in)
            break
        except StoreUnavailable:
            continue
    batch.append((stored, failed))


def simulate(seed: int, trees: int = 1, max_tasks: int = 40, crash: float = 0.05) -> Outcome:
    """Run `trees` random workflows side by side to the end; what the checks found."""
    from tasklane.model import clock

    real_now = clock.now
    moment = [NOW]
    clock.now = lambda: moment[0]  # type: ignore[assignment]
    try:
        return _simulate(seed, trees, max_tasks, crash, moment)
    finally:
        clock.now = real_now  # type: ignore[assignment]


def _simulate(seed: int, trees: int, max_tasks: int, crash: float, moment: list[datetime]) -> Outcome:
    rng = random.Random(seed)
    faults = Faults(rng, crash=crash, lost_answer=crash)
    model = Model(faults)
    services = Services(FakeTaskStore(model), Lanes(faults))
    for n in range(trees):
        workflow_id = f"00000000-0000-4000-8000-{seed:06d}{n:06d}"
        policy = rng.choice(list(OnFailure))
        tree = random_tree(rng, rng.randint(1, max_tasks))
        _store(model, workflow_id, tree, policy)
        with contextlib.suppress(Crash, StoreUnavailable, QueueUnavailable):
            progress.advance(model.records[workflow_id].workflow, START, services)  # type: ignore[arg-type]
    for _ in range(10_000):
        lanes = services.queues
        if not lanes.messages:
            # Quiet: the task sweep re-sends pending tasks that have no message, then the workflow pass.
            lanes.messages += [t for t, s in model.tasks.items() if s.task.status is TaskStatus.PENDING]
            moment[0] += timedelta(seconds=WORKFLOW_RECHECK_SECONDS)  # the reconciler's next run
            with contextlib.suppress(Crash):  # the reconciler may stop midway too
                repair.repair_workflows(services)  # type: ignore[arg-type]
            if not lanes.messages:
                lanes.messages += [t for t, s in model.tasks.items() if s.task.status is TaskStatus.PENDING]
            ended = all(r.workflow.status.finished and r.sweep_at is None for r in model.records.values())
            if not lanes.messages and ended:
                break
        rng.shuffle(lanes.messages)
        # Several deliveries at once: their ends land together, then each looks at its barrier.
        take = rng.randint(1, 4)
        delivered, lanes.messages = lanes.messages[:take], lanes.messages[take:]
        ended: list[tuple[StoredTask, bool]] = []
        for task_id in delivered:
            _run_one(model, services, task_id, rng, ended)
        rng.shuffle(ended)
        for stored, failed in ended:
            try:
                faults.maybe_crash()  # stopped after the task's end, before the barrier step
                progress.after_end(stored, services, failed=failed)  # type: ignore[arg-type]
            except Crash:
                pass
    return _check(model)


def _check(model: Model) -> Outcome:
    out = Outcome(workflows=len(model.records), tasks=len(model.tasks), violations=list(model.violations))
    for workflow_id, record in model.records.items():
        workflow = record.workflow
        if not workflow.status.finished:
            out.not_finished += 1
            out.violations.append(f"{workflow_id} is still {workflow.status}")
        for task_id in workflow.task_ids():
            stored = model.tasks[task_id]
            starts = model.starts.get(task_id, 0)
            out.started_twice += starts > 1
            if starts == 0 and stored.task.status is not TaskStatus.CANCELLED:
                out.never_started += 1
                out.violations.append(f"{task_id} never started and is {stored.task.status}")
            if starts == 0 and workflow.status is WorkflowStatus.COMPLETED:
                out.never_started += 1
                out.violations.append(f"{task_id} never started in a completed workflow")
            if stored.task.status is TaskStatus.CANCELLED and workflow.status is not WorkflowStatus.FAILED:
                out.violations.append(f"{task_id} cancelled in a {workflow.status} workflow")
        if workflow.status is WorkflowStatus.COMPLETED:
            ends = [model.tasks[task_id_of(workflow_id, i)] for i in workflow.plan.end.inputs]
            if any(e.task.status is not TaskStatus.COMPLETED for e in ends):
                out.wrong_results += 1
    out.started_early = sum("before its inputs" in v for v in out.violations)
    return out
