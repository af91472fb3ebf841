"""Async completions by token in the simulation: an owner's registered async url type whose target
accepts (answers 202) most calls, so that its task stays processing with the attempt's token; a worker
that later heartbeats, completes or fails it (with or without a retry) with a token it was given,
sometimes late (after its heartbeat lease or its deadline), sometimes an earlier attempt's, sometimes
twice; and the reconciler's sweep (run by actors.reconciler, inside tasklane's reconcile) that ends an
attempt whose lease ran out.

The outbound call is stubbed where tasklane makes it (tasklane.destinations.receivers: the resolver
and the exchange): no socket is opened and no name is resolved.

The checks (called by History):
- a call of the target is made on the task's current attempt, while it is processing;
- an end written by a worker's call (complete, fail) is by the token of the attempt the task was on,
  and within that attempt's lease at the call's time (a 404 or 409 answer is expected, not a violation);
- a completed async task holds the result a worker sent with its attempt's token.
The lifecycle's own checks (edges, a finished task never changes, attempts <= max_attempts, nothing
left unfinished at quiescence) hold for these tasks as for the others.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any

from tasklane.destinations import receivers
from tasklane.logic import async_tasks
from tasklane.logic.submission import submit_task
from tasklane.model.errors import TasklaneError
from tasklane.model.lanes import Lane
from tasklane.model.registered_types import RegisteredType, Target
from tasklane.model.requests import SubmitRequest
from tasklane.model.task import Progress, TaskError

if TYPE_CHECKING:
    from tests.simulation.simulation import Simulation
    from tests.simulation.world.runtime import Invocation, World

ASYNC_TYPE = "sim-async"
TARGET_URL = "https://worker.sim.invalid/run"
# A public address to the rules, never reached: the exchange and the POST are stubbed, and any socket is refused.
TARGET_ADDRESS = ip_address("8.8.8.8")
TIMEOUT_S, HEARTBEAT_S = 300, 90


class AsyncViolation(Exception):
    """Raised as history.Violation by History (kept apart to avoid a cycle of imports)."""


@dataclass
class Call:
    """A worker's call in flight: its task, the attempt its token belongs to, when it was made."""

    task_id: str
    attempt: int
    at_ms: int
    skew_ms: int
    result: Any = None


@dataclass
class AsyncChecks:
    items: dict[str, dict[str, Any]]
    tokens: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # task id -> (attempt, token)
    results: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)  # completions accepted
    calls: int = 0
    refused: int = 0

    def called(self, envelope: dict[str, Any]) -> None:
        """The target is called with the envelope: on the task's current attempt, while processing."""
        task_id, attempt = envelope["task_id"], envelope["attempt"]
        item = self.items.get(task_id)
        if item is None or item["status"]["S"] != "processing" or int(item["attempts"]["N"]) != attempt:
            status = item["status"]["S"] if item else "missing"
            raise AsyncViolation(f"target called for {task_id}#{attempt} on a task {status}")
        self.tokens.setdefault(task_id, []).append((attempt, envelope["completion"]["token"]))

    def ended(self, call: Call, before: dict[str, Any], status: str) -> None:
        """A worker's call moved the task out of processing: its token's attempt, within its lease."""
        attempt = int(before["attempts"]["N"])
        if call.attempt != attempt:
            raise AsyncViolation(f"{call.task_id}: attempt {attempt} ended by attempt {call.attempt}'s token")
        lease_ms = float(before.get("lease_until", {}).get("N", "0")) * 1000
        if lease_ms <= call.at_ms + call.skew_ms:
            raise AsyncViolation(
                f"{call.task_id}#{attempt} ended ({status}) by a call {call.at_ms + call.skew_ms - lease_ms:.0f} ms "
                "after its lease"
            )
        if status == "completed":
            self.results.setdefault(call.task_id, []).append((attempt, call.result))

    def quiescent(self, task_id: str, item: dict[str, Any], result: Any) -> list[str]:
        if item["status"]["S"] != "completed":
            return []
        attempt = int(item["attempts"]["N"])
        if (attempt, result) not in self.results.get(task_id, []):
            return [f"unexpected: async {task_id} completed with {result!r}, no worker sent it"]
        return []


class _TaskTypes:
    """The task-types table as submission and the processors read it: one async url type per owner."""

    def get(self, owner: str, name: str, *, consistent: bool = True) -> RegisteredType | None:
        if name != ASYNC_TYPE:
            return None
        return RegisteredType(
            owner=owner, name=ASYNC_TYPE, target=Target("url", TARGET_URL), mode="async",
            payload_schema={"type": "object"}, timeout_seconds=TIMEOUT_S, max_attempts=3,
            heartbeat_seconds=HEARTBEAT_S, created_at="2026-01-01T00:00:00Z", updated_at="2026-01-01T00:00:00Z",
        )  # fmt: skip


TASK_TYPES = _TaskTypes()


def resolve(host: str, port: int) -> list[Any]:
    """The resolver: every name is one public address, and nothing is looked up."""
    return [TARGET_ADDRESS]


def exchange_for(world: World) -> Any:
    def exchange(request: receivers.Post, deadline: float, max_body: int) -> receivers.Answer:
        """The target's answer: it accepts most calls (202), refuses some for now (503)."""
        world.point("target call")
        from tests.simulation.world.history import Violation

        envelope = json.loads(request.body)
        try:
            world.history.async_work.called(envelope)
        except AsyncViolation as exc:
            raise Violation(str(exc)) from None  # not the target's error: the scenario stops
        if world.rng.random() < 0.1:
            return receivers.Answer(503, {}, b"busy", False)
        return receivers.Answer(202, {}, b"", False)

    return exchange


def submit(sim: Simulation) -> None:
    rng = sim.world.rng
    parsed = SubmitRequest.model_validate(
        {"task_type": ASYNC_TYPE, "payload": {"n": rng.randint(0, 10**6)}, "max_attempts": rng.randint(2, 3),
         "priority": rng.choice(list(Lane)).value}
    )  # fmt: skip
    owner = rng.choice(("alice", "bob", "carol"))

    def body(inv: Invocation) -> None:
        try:
            accepted = submit_task(parsed, owner, sim.services[Lane.NORMAL], "sim-async")
        except TasklaneError:
            return
        sim.world.history.acknowledged.add(accepted.task.task_id)

    sim.world.start("submit-async", body, 30)


def worker(sim: Simulation) -> None:
    """An async target's worker: a heartbeat, a completion or a failure with a token it was given (the
    latest mostly, an earlier attempt's sometimes), sometimes sent twice."""
    world = sim.world
    checks = world.history.async_work
    if not checks.tokens:
        return
    rng = world.rng
    live = sorted(t for t in checks.tokens if checks.items[t]["status"]["S"] == "processing")
    retried = [t for t in live if len(checks.tokens[t]) > 1]  # a worker of an earlier attempt may call
    if retried and rng.random() < 0.3:
        task_id = rng.choice(retried)
        attempt, token = rng.choice(checks.tokens[task_id][:-1])
    else:
        task_id = rng.choice(live if live and rng.random() < 0.85 else sorted(checks.tokens))
        attempt, token = checks.tokens[task_id][-1]
    action = rng.choices(["heartbeat", "complete", "fail-retry", "fail"], [4, 4, 1, 1])[0]
    times = 2 if rng.random() < 0.1 else 1
    services = sim.services[Lane.NORMAL]

    def body(inv: Invocation) -> None:
        for _ in range(times):
            call = Call(task_id, attempt, world.now_ms(), inv.skew_ms, {"n": rng.randint(0, 10**6), "by": attempt})
            inv.async_call = call
            try:
                if action == "heartbeat":
                    async_tasks.heartbeat(task_id, token, Progress(percent=50), services)
                elif action == "complete":
                    async_tasks.complete(task_id, token, call.result, services)
                else:
                    error = TaskError(type="WorkerFailed", message="the worker failed")
                    async_tasks.fail(task_id, token, error, action == "fail-retry", services)
            except TasklaneError:
                checks.refused += 1  # 404, 409 (stale, late, finished) or 503: an answer, not a violation
            else:
                checks.calls += 1

    world.start(f"async-{action}", body, 30)
