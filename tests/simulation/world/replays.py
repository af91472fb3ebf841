"""Idempotent replays: POST /tasks with an Idempotency-Key, as the submit route makes it (tasklane's
data/idempotency.py on Powertools' DynamoDB persistence layer, here on the world's DynamoDB and
clock). A client whose answer was lost, or who got a 409 or a 503, sends the same key and body
again later; at quiescence each key has made at most one task (checked in History)."""

from __future__ import annotations

import datetime as real_dt
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import base as handler
from aws_lambda_powertools.utilities.idempotency.persistence import base, datarecord, dynamodb

from tasklane.data import idempotency
from tasklane.logic.submission import submit_batch, submit_keyed
from tasklane.model import values
from tasklane.model.errors import TasklaneError
from tasklane.model.lanes import Lane
from tasklane.model.requests import SubmitRequest
from tests.simulation.world import seams
from tests.simulation.world.runtime import Invocation, World

if TYPE_CHECKING:
    from tests.simulation.simulation import Simulation


def install(world: World, db: Any) -> None:
    """Powertools' persistence layer on the world's table and clock (its expiries are wall-clock)."""

    class SimDatetime(real_dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
            return real_dt.datetime.fromtimestamp(world.now_ms() / 1000, tz)

    sim_dt = SimpleNamespace(datetime=SimDatetime, timedelta=real_dt.timedelta, date=real_dt.date, time=real_dt.time)
    for module in (handler, base, datarecord, dynamodb):
        seams.patch(module, "dt", sim_dt)
    seams.patch(idempotency, "aws", SimpleNamespace(dynamodb=lambda: db))
    idempotency._guarded.cache_clear()


class _Context:
    """The Lambda context Powertools bounds an in-progress record with."""

    def __init__(self, world: World, inv: Invocation) -> None:
        self.world, self.inv = world, inv
        self.function_name, self.aws_request_id = "submit", "sim"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.inv.deadline_ms - self.world.now_ms())


def submit_with_key(sim: Simulation, request: dict[str, Any]) -> None:
    """A new key, or a replay of one whose answer the client did not get."""
    world, rng = sim.world, sim.world.rng
    history = world.history
    unanswered = sorted(k for k, answered in history.keys.items() if not answered)
    if unanswered and rng.random() < 0.6:
        key = rng.choice(unanswered)
        owner, request = history.key_requests[key]
    else:
        key, owner = f"key-{len(history.keys)}", rng.choice(("alice", "bob"))
        request = {**request, "payload": {**request["payload"], "n": -len(history.keys) - 1}}  # marks the key's task
        history.keys[key], history.key_requests[key] = False, (owner, request)
    parsed = SubmitRequest.model_validate(request)

    def body(inv: Invocation) -> None:
        done: list[Any] = []

        replayable = idempotency.Replayable("submit", owner, key, values.fingerprint(parsed.model_dump(mode="json")))

        def accept() -> dict[str, Any]:  # as routes/writes.py's submit
            done.append(submit_keyed(parsed, sim.services[Lane.NORMAL], "sim-key", replayable))
            return {"task_id": done[0].task.task_id, "queued": done[0].queued}

        try:
            record, _ = idempotency.once(replayable, accept, _Context(world, inv))
        except TasklaneError:
            return  # 409 in progress, 503: the client tries again later
        if rng.random() < 0.3:
            world.note_fault("the answer to the client was lost")
            return
        history.keys[key] = True
        history.acknowledged.add(record["task_id"])

    world.start("submit-key", body, 30)


def submit_batch_with_key(sim: Simulation, make_request: Any) -> None:
    """POST /tasks/batch with an Idempotency-Key, as routes/writes.py makes it: a new key, or a replay
    of one whose answer the client did not get. Each item is marked (a negative `n` of its own): at
    quiescence no item of a key has made more than one task."""
    world, rng = sim.world, sim.world.rng
    history = world.history
    unanswered = sorted(k for k, answered in history.batch_keys.items() if not answered)
    if unanswered and rng.random() < 0.6:
        key = rng.choice(unanswered)
        owner, items = history.batch_requests[key]
    else:
        key, owner = f"batch-key-{len(history.batch_keys)}", rng.choice(("alice", "bob"))
        base = -1_000_000 * (len(history.batch_keys) + 1)
        items = []
        for i in range(rng.randint(1, 5)):
            item = make_request(rng)
            items.append({**item, "payload": {**item["payload"], "n": base - i}})
        history.batch_keys[key], history.batch_requests[key] = False, (owner, items)

    def body(inv: Invocation) -> None:
        done: list[list[dict[str, Any]]] = []
        replayable = idempotency.Replayable("batch", owner, key, values.fingerprint(items))

        def accept() -> dict[str, Any]:  # as routes/writes.py's submit_batch: the record keeps the ids
            done.append(submit_batch(items, owner, sim.services[Lane.NORMAL], "sim-batch-key", replayable))
            kept = []
            for r in done[0]:
                task_id = r["task"]["task_id"] if "task" in r else (r["error"].get("details") or {}).get("task_id")
                kept.append({"index": r["index"], "task_id": task_id})
            return {"results": kept}

        try:
            record, _ = idempotency.once(replayable, accept, _Context(world, inv))
        except TasklaneError:
            return
        if rng.random() < 0.3:
            world.note_fault("the answer to the client was lost")
            return
        history.batch_keys[key] = True
        if done:
            history.acknowledged.update(r["task"]["task_id"] for r in done[0] if "task" in r)
        else:  # a replay answers each recorded id as it reads it now (a missing one: not stored)
            recorded = (r.get("task_id") for r in record["results"])
            history.acknowledged.update(t for t in recorded if t and t in sim.db.items["tasks"])

    world.start("submit-batch-key", body, 30)
