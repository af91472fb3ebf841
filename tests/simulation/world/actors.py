"""The actors of the world: each step of a scenario starts one of them as an invocation, or moves
one already running on. They call tasklane's logic as its handlers do (the handler modules only add
Powertools' batch bookkeeping, logging and metrics, which the actors reproduce where it decides:
a record that raises goes back to its queue; the others are deleted once the invocation returns).

A new actor (a workflow's fan-in, an async completion by token, a webhook delivery) is one more
function here that takes the Simulation and starts an invocation with `world.start`, and one more
entry in simulation.ACTIONS with its weight; its invariants go in history.py.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

from tasklane.logic.commands import cancel_task, retry_task
from tasklane.logic.execution import Deferred, Delivery, process
from tasklane.logic.promotion import promote_due
from tasklane.logic.recovery import handle_dead_letter, reconcile
from tasklane.logic.redelivery import redeliveries
from tasklane.logic.submission import submit_batch, submit_task
from tasklane.model.errors import TasklaneError
from tasklane.model.lanes import Lane
from tasklane.model.requests import SubmitRequest
from tasklane.model.task import TaskStatus
from tests.simulation.world import seams
from tests.simulation.world.runtime import Invocation

if TYPE_CHECKING:
    from tests.simulation.simulation import Simulation

API_TIMEOUT_S = 30
# Tasks that exercised defects a review found (fixed since): a result with a key JSON cannot carry
# (review row 1), a run that ignores its time limit (row 9). SIM_QUIRKS=0 leaves them out.
QUIRKS = os.environ.get("SIM_QUIRKS", "1") != "0"
OWNERS = ("alice", "bob", "carol")


def request(rng: Any) -> dict[str, Any]:
    """A submission as a client might send it: plain, delayed, scheduled, failing, slow, rate-limited."""
    rated = rng.random() < 0.3
    timeout = 10 if rated else 20
    roll = rng.random()
    delay = 0 if roll < 0.7 else rng.randint(1, 30) if roll < 0.85 else rng.randint(150, 600)
    work = rng.choice([0, 0, 200, 2000, timeout * 1000 // 2, timeout * 1300])
    quirk: dict[str, bool] = {}
    if QUIRKS and rng.random() < 0.06:
        quirk = rng.choice([{"odd_result": True}, {"stubborn": True}])
    request: dict[str, Any] = {
        "task_type": seams.RATED_TYPE if rated else "sim_work",
        "payload": {"n": rng.randint(0, 10**6), "fail_first": rng.choice([0, 0, 0, 1, 2, 5]), "work_ms": work, **quirk},
        "priority": rng.choice(list(Lane)).value,
        "max_attempts": rng.randint(1, 4),
    }
    if delay:
        request["delay_seconds"] = delay
    if quirk.get("stubborn"):
        # Past its lease (timeout + 45 s = 47 s), within the processor's 60 s.
        request["payload"]["work_ms"], request["timeout_seconds"] = 55_000, 2
    return request


def submit(sim: Simulation) -> None:
    rng = sim.world.rng
    parsed = SubmitRequest.model_validate(request(rng))
    owner = rng.choice(OWNERS)

    def body(inv: Invocation) -> None:
        try:
            accepted = submit_task(parsed, owner, sim.services[Lane.NORMAL], "sim")
        except TasklaneError:
            return  # a 4xx/503 answer: the client does not count it as submitted
        sim.world.history.acknowledged.add(accepted.task.task_id)

    sim.world.start("submit", body, API_TIMEOUT_S)


def rated_burst(sim: Simulation) -> None:
    """A burst of one rate-limited type at once (POST /tasks/batch), short runs on one lane: more than
    its rate can start in a second, so that the rate, not the arrivals, spaces the starts."""
    rng = sim.world.rng
    lane = rng.choice(list(Lane)).value
    items = [
        {"task_type": seams.RATED_TYPE, "priority": lane, "max_attempts": 3,
         "payload": {"n": rng.randint(0, 10**6), "work_ms": rng.choice([0, 0, 100, 300])}}
        for _ in range(rng.randint(6, 12))
    ]  # fmt: skip
    submit_batch_of_tasks(sim, items)


def submit_batch_of_tasks(sim: Simulation, items: list[dict[str, Any]] | None = None) -> None:
    """POST /tasks/batch: the items answered with a task are acknowledged."""
    rng = sim.world.rng
    items = items or [request(rng) for _ in range(rng.randint(1, 10))]
    owner = rng.choice(OWNERS)

    def body(inv: Invocation) -> None:
        try:
            results = submit_batch(items, owner, sim.services[Lane.NORMAL], "sim-batch")
        except TasklaneError:
            return
        sim.world.history.acknowledged.update(r["task"]["task_id"] for r in results if "task" in r)

    sim.world.start("submit-batch", body, API_TIMEOUT_S)


def _some_task(sim: Simulation, statuses: tuple[TaskStatus, ...]) -> tuple[str, str] | None:
    items = sim.db.items["tasks"]
    wanted = {s.value for s in statuses}
    ids = sorted(i for i, item in items.items() if item.get("status", {}).get("S") in wanted and "kind" not in item)
    if not ids:
        return None
    task_id = sim.world.rng.choice(ids)
    return task_id, items[task_id]["owner"]["S"]


def cancel(sim: Simulation) -> None:
    found = _some_task(sim, (TaskStatus.PENDING, TaskStatus.SCHEDULED, TaskStatus.PROCESSING))
    if found is None:
        return

    def body(inv: Invocation) -> None:
        with contextlib.suppress(TasklaneError):  # 409 (no longer pending) or 503
            cancel_task(found[0], found[1], sim.services[Lane.NORMAL])

    sim.world.start("cancel", body, API_TIMEOUT_S)


def retry(sim: Simulation) -> None:
    found = _some_task(sim, (TaskStatus.FAILED, TaskStatus.CANCELLED))
    if found is None:
        return

    def body(inv: Invocation) -> None:
        with contextlib.suppress(TasklaneError):
            retry_task(found[0], found[1], sim.services[Lane.NORMAL], "sim-retry")

    sim.world.start("retry", body, API_TIMEOUT_S)


def processor(sim: Simulation, lane: Lane | None = None) -> None:
    """The lane's event source mapping: receive a batch and invoke the lane's processor with it."""
    lane = lane or sim.world.rng.choice(list(Lane))
    queue = sim.lanes[lane]
    messages = sim.sqs.receive(queue, sim.world.rng.randint(1, 10))
    if not messages:
        return
    services = sim.services[lane]

    def body(inv: Invocation) -> None:
        failed = set()
        with redeliveries(services, lane) as later:
            for message in messages:
                delivery = Delivery(
                    message.body, message.handle or "", message.receives,
                    lambda: (inv.deadline_ms - sim.world.now_ms()) / 1000,
                )  # fmt: skip
                try:
                    process(delivery, lane, services, later)
                except Deferred:
                    failed.add(message.message_id)
                except Exception:
                    failed.add(message.message_id)
        seams.forget_metrics()
        for message in messages:
            if message.message_id not in failed:
                sim.sqs.delete(queue, message)

    sim.world.start(f"processor-{lane.value}", body, sim.processor_timeout)


def dead_letters(sim: Simulation) -> None:
    for lane, queue in sim.lanes.items():
        dead = queue.dead_letter
        assert dead is not None
        messages = sim.sqs.receive(dead, 10)
        if not messages:
            continue

        def body(inv: Invocation, messages: list = messages, dead: object = dead, lane: Lane = lane) -> None:
            done = []
            for message in messages:
                try:
                    handle_dead_letter(message.body, sim.services[lane])
                except Exception:
                    continue
                done.append(message)
            for message in done:
                sim.sqs.delete(dead, message)  # type: ignore[arg-type]

        sim.world.start(f"dead-letter-{lane.value}", body, API_TIMEOUT_S)


def reconciler(sim: Simulation) -> None:
    sim.world.start("reconciler", lambda inv: reconcile(sim.services[Lane.NORMAL]) and None, 300)


def promoter(sim: Simulation) -> None:
    sim.world.start("promoter", lambda inv: promote_due(sim.services[Lane.NORMAL]) and None, 60)
