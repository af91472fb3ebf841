"""What happened in a scenario, and the invariants checked as it happens (every change of a task
item, every start of a run) and at the end (Jepsen's queue checker: lost, unexpected, duplicated).

A violation raises Violation at once, so the failing step is the last one run."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tasklane.data.tasks.codec import to_stored
from tasklane.model.task import TaskStatus
from tests.simulation.world.async_work import ASYNC_TYPE, AsyncChecks, AsyncViolation
from tests.simulation.world.webhooks import WebhookChecks, WebhookViolation, same_but_deliveries
from tests.simulation.world.workflows import FanInChecks, FanInViolation, is_workflow_key

if TYPE_CHECKING:
    from tests.simulation.world.runtime import Invocation, World

P, R, C, F, X, S, W = (TaskStatus.PENDING, TaskStatus.PROCESSING, TaskStatus.COMPLETED, TaskStatus.FAILED,
                       TaskStatus.CANCELLED, TaskStatus.SCHEDULED, TaskStatus.WAITING)  # fmt: skip
# SPEC's lifecycle, and the changes within one status (a takeover, progress, a sweep time moved); an
# explicit retry of a cancelled task whose run_at is still ahead puts it back to scheduled (X, S).
# A workflow's task waits for its turn (W, P), or is cancelled with what has not started (W, X).
EDGES = {(P, R), (R, C), (R, F), (R, P), (P, X), (F, P), (X, P), (X, S), (S, P), (S, X), (P, F), (W, P), (W, X)} | {
    (s, s) for s in TaskStatus
}
# A pending task failed without a run of its own: only the dead-letter function does that.
WINDOW_MS = 1000
# Defects known and being fixed elsewhere: counted at quiescence as `known_defects`, not raised, so
# that the other checks keep running on every seed; test_simulation holds a strict xfail per entry
# (with its seed) that starts to pass, and fails, once the fix lands: then remove the entry.
KNOWN_DEFECTS: set[str] = set()


class Violation(BaseException):
    """An invariant broken. A BaseException, as Crash: raised inside tasklane's code (a run's start, a
    write), it must not be taken for an error of the task or of AWS by its `except Exception`."""


@dataclass(eq=False)
class Run:
    task_id: str
    attempt: int
    invocation: Invocation
    start_ms: int
    deadline_ms: int
    result: Any = None
    ended: bool = False
    recorded: bool = False  # its own outcome reached the table


@dataclass
class History:
    world: World
    cap: int = 0
    rates: dict[str, int] = field(default_factory=dict)  # task type -> starts per second
    created: dict[str, dict[str, Any]] = field(default_factory=dict)  # task id -> item as first written
    acknowledged: set[str] = field(default_factory=set)
    runs: dict[str, list[Run]] = field(default_factory=lambda: defaultdict(list))
    cancelled: set[str] = field(default_factory=set)  # cancelled and not reopened since
    claims: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # type -> started_at (ms)
    faulted_tasks: set[str] = field(default_factory=set)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # the tasks table, by task id
    keys: dict[str, bool] = field(default_factory=dict)  # Idempotency-Key -> whether its client got an answer
    key_requests: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    batch_keys: dict[str, bool] = field(default_factory=dict)  # a batch's Idempotency-Key -> answered
    batch_requests: dict[str, tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)
    messages_sent: int = 0
    dead_letters: int = 0
    edges: int = 0
    fan_in: FanInChecks = field(init=False)
    async_work: AsyncChecks = field(init=False)
    webhooks: WebhookChecks = field(init=False)

    def __post_init__(self) -> None:
        self.fan_in = FanInChecks(self.items)
        self.async_work = AsyncChecks(self.items)
        self.webhooks = WebhookChecks(self.items)

    def world_item(self, task_id: str) -> dict[str, Any]:
        return self.items[task_id]

    def sent(self, url: str, body: str) -> None:
        self.messages_sent += 1
        self.webhooks.given_up += url.endswith("webhooks-dlq")

    def dead_lettered(self, body: str) -> None:
        self.dead_letters += 1

    # --- every change of an item ------------------------------------------------------------------

    def changed(self, table: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if table == "limits":
            key = (new or {}).get("limit_key", {}).get("S", "")
            if key.startswith("rate#") and new and old != new and "next_ms" in new:
                self._granted(key.removeprefix("rate#"))
            return
        if table != "tasks":
            return
        key = (new or old or {}).get("task_id", {}).get("S", "")
        if is_workflow_key(key):
            try:
                self.fan_in.workflow_item(key, old, new)
            except FanInViolation as exc:
                raise Violation(str(exc)) from None
            return
        if new is None:
            if old is not None and "workflow_id" in old:  # a workflow's creation undone
                if self.runs.get(key):
                    raise Violation(f"workflow task {key} removed after it ran")
                self.created.pop(key, None)
            return
        self.edges += 1
        self.webhooks.changed(old, new)
        after = to_stored(new)
        task_id, status = after.task.task_id, after.task.status
        if self.world.current is not None and self.world.current.faults:
            self.faulted_tasks.add(task_id)
        if old is None:
            if status not in (P, S, W) or (status is W) != (after.task.workflow_id is not None):
                raise Violation(f"task {task_id} created {status.value}")
            self.created[task_id] = new
            return
        before = to_stored(old)
        edge = (before.task.status, status)
        if edge not in EDGES:
            raise Violation(f"task {task_id}: {edge[0].value} -> {edge[1].value} is not a lifecycle edge")
        if before.task.status.finished and status is before.task.status and not same_but_deliveries(before, after):
            raise Violation(f"finished task {task_id} changed: {before.task} -> {after.task}")
        try:
            self.fan_in.task_changed(before.task.status, after)
            call = self.world.current.async_call if self.world.current is not None else None
            if call is not None and call.task_id == task_id and before.task.status is R:
                self.async_work.ended(call, old, status.value)
        except (FanInViolation, AsyncViolation, WebhookViolation) as exc:
            raise Violation(str(exc)) from None
        if after.task.attempts > after.task.max_attempts:
            raise Violation(f"task {task_id}: attempts {after.task.attempts} > max {after.task.max_attempts}")
        if status is X:
            self.cancelled.add(task_id)
        elif before.task.status is X:
            self.cancelled.discard(task_id)
        task_type = new["task_type"]["S"]
        if status is R and after.task.attempts > before.task.attempts and task_type in self.rates:
            self._claimed(task_id, task_type, new["started_at"]["S"])
        if before.task.status is R and status in (C, F, P):
            for run in self.runs[task_id]:
                if run.attempt == before.task.attempts == after.task.attempts:
                    run.recorded = True

    def _granted(self, task_type: str) -> None:
        """A start of a rate-limited type granted to the running invocation (its next run uses it)."""
        if self.world.current is not None:
            self.world.current.granted[task_type] = self.world.now_ms()

    def _claimed(self, task_id: str, task_type: str, started_at: str) -> None:
        """A claim of a rate-limited type: never more claims than the rate in any window of a second of
        the claims' own `started_at` (what users read; each written on its processor's skewed clock)."""
        started = int(datetime.fromisoformat(started_at).timestamp() * 1000)
        claims = sorted([*self.claims[task_type], started])
        self.claims[task_type] = [t for t in claims if t > claims[-1] - 2 * WINDOW_MS]
        for i, first in enumerate(claims):
            inside = [t for t in claims[i:] if t < first + WINDOW_MS]
            if len(inside) > self.rates[task_type]:
                raise Violation(
                    f"{task_type}: {len(inside)} starts within {WINDOW_MS} ms of started_at "
                    f"(rate {self.rates[task_type]}/s), the last {task_id}'s"
                )

    def _rate_kept(self, task_type: str, inv: Invocation) -> None:
        """A run of a rate-limited type starts on a start granted to it."""
        if inv.granted.pop(task_type, None) is None:
            raise Violation(f"a run of {task_type} started without a start granted by its rate")

    # --- every start of a run ---------------------------------------------------------------------

    def live(self, run: Run) -> bool:
        """A run is live until it ends, its invocation dies (a crash, or its Lambda timeout: killed there
        even if the world has not resumed it since), or its time limit fires."""
        now = self.world.now_ms()
        return not run.ended and not run.invocation.dead and now < min(run.deadline_ms, run.invocation.deadline_ms)

    def started(self, run: Run, item: dict[str, Any]) -> None:
        stored = to_stored(item)
        task = stored.task
        if run.task_id not in self.created:
            raise Violation(f"unexpected: a run of {run.task_id}, never submitted")
        if run.task_id in self.cancelled:
            raise Violation(f"cancelled task {run.task_id} started")
        if task.status is not R or task.attempts != run.attempt:
            raise Violation(f"run {run.task_id}#{run.attempt} started on a task {task.status.value}#{task.attempts}")
        others = [r for r in self.runs[run.task_id] if self.live(r)]
        if others:
            raise Violation(f"two live runs of {run.task_id}: attempts {others[0].attempt} and {run.attempt}")
        not_before = stored.not_before_ms or 0
        if self.world.now_ms() + self.world.faults.skew_ms < not_before:
            raise Violation(f"{run.task_id} started {not_before - self.world.now_ms()} ms before its time")
        try:
            self.fan_in.run_started(stored)
        except FanInViolation as exc:
            raise Violation(str(exc)) from None
        if item["task_type"]["S"] in self.rates:
            self._rate_kept(item["task_type"]["S"], run.invocation)
        if self.cap:
            mine = [
                r for runs in self.runs.values() for r in runs
                if self.live(r) and self.created[r.task_id]["owner"] == item["owner"]
                and self.created[r.task_id]["priority"] == item["priority"]
            ]  # fmt: skip
            if len(mine) >= self.cap:
                raise Violation(
                    f"owner {item['owner']['S']} runs {len(mine) + 1} tasks at once (cap {self.cap}) on "
                    f"{item['priority']['S']}: {run.task_id} starts beside {[r.task_id for r in mine]}"
                )
        self.runs[run.task_id].append(run)

    # --- at quiescence ----------------------------------------------------------------------------

    def check_quiescent(self, items: dict[str, dict[str, Any]]) -> dict[str, int]:
        """Jepsen's total-queue check over tasks and their runs, and every task's outcome explained."""
        counts = {"tasks": len(self.created), "lost": 0, "unexpected": 0, "duplicated": 0, "reruns_explained": 0}
        problems = []
        for task_id in self.acknowledged - set(self.created):
            counts["lost"] += 1
            problems.append(f"lost: {task_id} acknowledged but never stored")
        for task_id in self.created:
            stored = to_stored(items[task_id])
            task = stored.task
            if not task.status.finished:
                counts["lost"] += 1
                problems.append(f"lost: {task_id} still {task.status.value} at quiescence")
                continue
            if task.task_type == ASYNC_TYPE:  # its runs are the target's: ended by a worker or the sweep
                problems += (found := self.async_work.quiescent(task_id, items[task_id], task.result))
                counts["unexpected"] += len(found)
                continue
            runs = self.runs.get(task_id, [])
            for run in runs:
                if run.recorded:
                    continue
                if run.invocation.faults:
                    counts["reruns_explained"] += 1
                else:
                    counts["duplicated"] += 1
                    problems.append(
                        f"duplicated: {task_id} attempt {run.attempt} lost its outcome, no fault to explain it"
                    )
            if task.status is C:
                last = runs[-1] if runs else None
                if last is None or last.attempt != task.attempts or last.result != task.result:
                    counts["unexpected"] += 1
                    problems.append(f"unexpected: {task_id} completed with {task.result!r}, no run returned it")
            payload = task.payload or {}
            # A run may outlast its limit: the clock moves while it works (its time limit is planned).
            planned = task.error is not None and (
                (task.error.type == "TaskTimedOut" and "simulated run" in task.error.message)
                or (task.error.type == "SimFailure" and payload.get("fail_first", 0) >= task.max_attempts)
            )
            # A type that vanished is never a fault's doing: the simulation's types are always there.
            vanished = task.error is not None and task.error.type in ("TaskTypeRemoved", "UnknownTaskType")
            if task.status is F and (vanished or (not planned and not self.world.fault_count)):
                counts["unexpected"] += 1
                problems.append(f"unplanned: {task_id} failed ({task.error}) with no fault and attempts to spare")
        made: dict[tuple[str, int], int] = defaultdict(int)
        for key, item in items.items():
            if is_workflow_key(key):
                continue
            stored = to_stored(item)
            n = (stored.task.payload or {}).get("n", 0)
            if n < 0:
                made[(stored.owner, n)] += 1
        for key, (owner, request) in self.key_requests.items():
            if made[(owner, request["payload"]["n"])] > 1:
                counts["duplicated"] += 1
                problems.append(
                    f"duplicated: Idempotency-Key {key} made {made[(owner, request['payload']['n'])]} tasks"
                )
        counts["known_defects"] = 0
        for key, (owner, batch) in self.batch_requests.items():
            for index, request in enumerate(batch):
                if made[(owner, request["payload"]["n"])] > 1 and "keyed-batch-replay" in KNOWN_DEFECTS:
                    counts["known_defects"] += 1
                elif made[(owner, request["payload"]["n"])] > 1:
                    counts["duplicated"] += 1
                    problems.append(
                        f"duplicated: batch Idempotency-Key {key} made {made[(owner, request['payload']['n'])]} "
                        f"tasks for item {index}"
                    )
        fan_in = self.fan_in.quiescent() + self.webhooks.quiescent()
        counts["lost"] += len(fan_in)
        counts["workflows"] = self.fan_in.workflows
        counts.update(async_calls=self.async_work.calls, async_refused=self.async_work.refused)
        counts.update(webhook_finishes=len(self.webhooks.finishes), webhook_posts=sum(self.webhooks.posted.values()))
        problems += fan_in
        if problems:
            raise Violation("; ".join(problems[:5]) + f" ({len(problems)} in all)")
        return counts
