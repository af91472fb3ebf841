"""Webhooks in the simulation: tasks submitted with a callback_url; the tasks table's stream read by
the events function (tasklane.logic.events: publish to a stubbed bus, then settle each record, which
queues a terminal change's webhook); the webhook queue's messages delivered by the webhook function
(tasklane.logic.webhooks.deliver) to a receiver that fails, times out or succeeds as the seed says.

The receiver's POST is stubbed where tasklane makes it (tasklane.destinations.receivers.post), and its
name resolves without a lookup (async_work.resolve): no socket, no DNS.

The stream carries only the status changes of tasks with a callback (the rest would only feed the bus,
which nothing here reads), in order; a record that fails is read again, with those after it.

The checks (called by History and the drain):
- never a delivery for a task that has not finished: each POST is of a terminal change the task made
  (its status at a change stored with that updated_at);
- a delivery's attempt is within the webhook queue's budget (its maxReceiveCount);
- at quiescence every terminal change of a task with a callback got a delivery attempted, and every
  such task shows its deliveries on the task, at most the bound kept, one of them delivered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tasklane.destinations import receivers
from tasklane.limits import WEBHOOK_DELIVERIES_KEPT
from tasklane.logic.events import publish, settle
from tasklane.logic.webhooks import WebhookDelivery, deliver
from tasklane.model.task import TaskStatus

if TYPE_CHECKING:
    from tests.simulation.simulation import Simulation
    from tests.simulation.world.runtime import Invocation, World

CALLBACK_URL = "https://hooks.sim.invalid/done"
MAX_RECEIVES = 100  # the template's webhook queue redrive (maxReceiveCount)
FINISHED = {s.value for s in TaskStatus if s.finished}


class WebhookViolation(Exception):
    """Raised as history.Violation by History (kept apart to avoid a cycle of imports)."""


@dataclass
class WebhookChecks:
    items: dict[str, dict[str, Any]]
    failing: float = 0.0  # how often the receiver fails (500) or times out, outside the drain
    finishes: dict[str, tuple[str, str]] = field(default_factory=dict)  # stream event id -> (task id, status)
    posted: dict[str, int] = field(default_factory=dict)  # event id -> POSTs made
    stream: list[dict[str, Any]] = field(default_factory=list)
    sequence: int = 0
    given_up: int = 0  # deliveries put on the webhook dead-letter queue
    reader: Invocation | None = None  # the events function's invocation on the shard (one at a time)

    def changed(self, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        """A task's change: a status change of a task with a callback goes on the stream."""
        if "callback_url" not in new or "kind" in new:
            return
        status = new["status"]["S"]
        if old is not None and old.get("status", {}).get("S") == status:
            return
        self.sequence += 1
        if status in FINISHED:
            self.finishes[f"ev-{self.sequence}"] = (new["task_id"]["S"], status)
        self.stream.append(
            {"eventID": f"ev-{self.sequence}", "eventName": "MODIFY" if old else "INSERT",
             "dynamodb": {"SequenceNumber": f"{self.sequence:020d}", "NewImage": new, "OldImage": old or {}}}
        )  # fmt: skip

    def post(self, body: dict[str, Any], attempt: int) -> None:
        task, event = body["task"], body["event_id"]
        if self.finishes.get(event) != (task["task_id"], task["status"]):
            raise WebhookViolation(f"webhook for task {task['task_id']} as {task['status']}: it did not finish so")
        if attempt > MAX_RECEIVES:
            raise WebhookViolation(f"webhook of {task['task_id']}: attempt {attempt} > {MAX_RECEIVES}")
        self.posted[event] = self.posted.get(event, 0) + 1

    def quiescent(self) -> list[str]:
        problems = [
            f"lost: webhook of task {task_id} ({status}, {event}) never attempted"
            for event, (task_id, status) in sorted(self.finishes.items())
            if event not in self.posted
        ]
        if self.given_up:
            problems.append(f"lost: {self.given_up} webhooks given up to the dead-letter queue")
        for task_id in sorted({t for t, _ in self.finishes.values()}):
            shown = self.items[task_id].get("callback_deliveries", {}).get("L", [])
            if not 1 <= len(shown) <= WEBHOOK_DELIVERIES_KEPT:
                problems.append(f"webhook of task {task_id}: {len(shown)} deliveries shown")
            elif not any(d["M"]["delivered"]["BOOL"] for d in shown):
                problems.append(f"lost: webhook of task {task_id} never delivered")
        return problems


def same_but_deliveries(before: Any, after: Any) -> bool:
    """Whether two stored versions of a task differ in their webhook's deliveries at most (a finished
    task changes only by those, recorded beside it)."""
    a, b = (replace(t, callback=t.callback and replace(t.callback, deliveries=())) for t in (before.task, after.task))
    return bool(a == b)


class Bus:
    """The stack's event bus: takes each entry, or refuses some (a fault)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def publish(self, entries: list[dict[str, Any]]) -> set[int]:
        self.world.point("events.PutEvents")
        failed = {i for i in range(len(entries)) if self.world.faults.sqs_entry_fails()}
        if failed:
            self.world.note_fault("bus entries refused")
        return failed


def post_for(world: World) -> Any:
    def post(request: receivers.Post) -> int:
        """The receiver: a 2xx, a 500, or no answer in time, as the seed says."""
        world.point("webhook post")
        from tests.simulation.world.history import Violation

        checks = world.history.webhooks
        try:
            checks.post(json.loads(request.body), getattr(world.current, "webhook_attempt", 0))
        except WebhookViolation as exc:
            raise Violation(str(exc)) from None  # not an error of the receiver's: the scenario stops
        failing = checks.failing / 2 if world.faults.quiet else checks.failing  # it fails less in the drain
        roll = world.rng.random()
        if roll >= failing:
            return world.rng.choice([200, 204])
        if roll < failing / 2:
            return 500
        world.sleep(receivers.TOTAL_TIMEOUT_SECONDS)
        raise receivers.CallTimedOut("the receiver did not answer in time")

    return post


def events(sim: Simulation) -> None:
    """The events function on the tasks table's stream: a batch of records from the oldest on; the
    records up to the first that fails are acknowledged, that one and those after come again."""
    checks = sim.world.history.webhooks
    reader = checks.reader
    if not checks.stream or (reader is not None and not (reader.done or reader.dead)):
        return
    records = checks.stream[: sim.world.rng.randint(1, 10)]

    def body(inv: Invocation) -> None:
        done = 0
        try:
            publication = publish(records, sim.notifications)
            for record in records:
                settle(record, publication, sim.notifications)
                done += 1
        except Exception:
            pass  # the first failed record comes back, with those after it
        del checks.stream[:done]

    checks.reader = sim.world.start("events", body, 60)


def deliverer(sim: Simulation) -> None:
    """The webhook function's event source mapping: a batch of the webhook queue, one attempt each."""
    queue = sim.webhook_queue
    messages = sim.sqs.receive(queue, sim.world.rng.randint(1, 5))
    if not messages:
        return

    def body(inv: Invocation) -> None:
        for message in messages:
            inv.webhook_attempt = message.receives
            try:
                deliver(WebhookDelivery(message.body, message.handle or "", message.receives), sim.notifications)
            except Exception:
                continue  # DeliveryFailed (postponed) or a 503: the message comes back
            sim.sqs.delete(queue, message)

    sim.world.start("webhooks", body, 60)
