"""Where the world plugs into tasklane: its clock (tasklane.model.clock, the seam made for this), the
time and sleep of the modules that measure durations, the time limit of a run, the promoter's thread
pool (run in line: the scheduler interleaves instead), task ids and the processors' jitter (seeded),
and the task types the simulation submits. Everything else is tasklane's own code."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel

from tasklane import observability
from tasklane.data.tasks import table
from tasklane.destinations import receivers
from tasklane.logic import execution, promotion, running, throttling
from tasklane.model import clock
from tasklane.task_types.registry import TaskContext, registered, task
from tests.simulation.world import async_work, webhooks
from tests.simulation.world.history import Run
from tests.simulation.world.runtime import World

_worlds: list[World] = []  # the world of the scenario running (one at a time)
RATED_TYPE, RATE_PER_SECOND = "sim_rated", 5


class SimPayload(BaseModel):
    n: int
    fail_first: int = 0  # the first attempts up to this one raise SimFailure
    work_ms: int = 0  # simulated time the run takes
    odd_result: bool = False  # the result has a key JSON cannot carry (a date)
    stubborn: bool = False  # the run ignores its time limit (a C loop, code that swallows the alarm)


class SimFailure(Exception):
    """A failure the scenario planned."""


def _work(payload: SimPayload, context: TaskContext) -> Any:
    world = _worlds[-1]
    assert world.current is not None
    attempt = getattr(context, "attempt")
    task_id = getattr(context, "task_id")
    item = world.history.world_item(task_id)
    limit_ms = world.current.deadline_ms - world.now_ms() if payload.stubborn else _limit[-1]
    run = Run(task_id, attempt, world.current, world.now_ms(), world.now_ms() + limit_ms)
    world.history.started(run, item)
    try:
        if payload.work_ms:
            world.sleep(payload.work_ms / 1000)
            if world.now_ms() >= run.deadline_ms and not payload.stubborn:
                raise running.TaskTimedOut("the simulated run passed its time limit")
        if attempt <= payload.fail_first:
            raise SimFailure(f"planned failure of attempt {attempt}")
        run.result = {"n": payload.n, "attempt": attempt}
        if payload.odd_result:
            return {date(2026, 1, 1): payload.n}
        return run.result
    finally:
        run.ended = True


_limit: list[int] = [0]


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """The run's SIGALRM, in simulated time: the run checks it when it wakes (see _work)."""
    _limit.append(int(seconds * 1000))
    try:
        yield
    finally:
        _limit.pop()


class _InLine:
    """The promoter's ThreadPoolExecutor, one shard after another in the calling invocation."""

    def __init__(self, max_workers: int = 1) -> None:
        pass

    def __enter__(self) -> _InLine:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        return iter([fn(item) for item in items])


def _register_types() -> None:
    if "sim_work" in registered():
        return
    task("sim_work", payload=SimPayload, timeout_seconds=20, max_attempts=3)(_work)
    task(RATED_TYPE, payload=SimPayload, timeout_seconds=10, max_attempts=3, rate_limit=f"{RATE_PER_SECOND}/s")(_work)


_ORIGINALS: list[tuple[Any, str, Any]] = []  # (owner, attribute, value before the first install)


def patch(owner: Any, name: str, value: Any) -> None:
    """Set owner.name, remembering what it was (see restore)."""
    if not any(o is owner and n == name for o, n, _ in _ORIGINALS):
        _ORIGINALS.append((owner, name, getattr(owner, name)))
    setattr(owner, name, value)


def restore() -> None:
    """Put back everything the simulation patched (its tests share a process with others)."""
    while _ORIGINALS:
        owner, name, value = _ORIGINALS.pop()
        setattr(owner, name, value)
    observability.logger.setLevel("INFO")


def install(world: World) -> None:
    """Point tasklane's seams at `world` (idempotent; each scenario installs its own world)."""
    _worlds[:] = [world]
    _register_types()
    sim_time = SimpleNamespace(monotonic=world.monotonic, sleep=world.sleep)
    patch(clock, "now", world.clock_now)
    patch(clock, "sleep", world.sleep)
    for module in (execution, running, table, promotion):
        patch(module, "time", sim_time)
    patch(execution, "time_limit", _time_limit)
    patch(promotion, "ThreadPoolExecutor", _InLine)
    ids = random.Random(world.rng.getrandbits(64))
    patch(uuid, "uuid4", lambda: uuid.UUID(int=ids.getrandbits(128), version=4))
    random.seed(world.rng.getrandbits(64))
    for memory in (throttling._HELD, throttling._SHOWN, throttling._AT_CAP):
        memory.clear()
    # Outbound calls (async targets, webhook receivers): answered here, never a socket or a DNS lookup.
    patch(receivers, "resolve", async_work.resolve)
    patch(receivers, "exchange", async_work.exchange_for(world))
    patch(receivers, "post", webhooks.post_for(world))
    patch(receivers, "_open", _no_socket)
    observability.logger.setLevel("CRITICAL")
    forget_metrics()


def _no_socket(*args: Any) -> Any:
    raise AssertionError("the simulation opens no socket")


def forget_metrics() -> None:
    """The metrics an invocation collected (written by its handler's decorator, which is not run)."""
    observability._pending.clear()
    observability._throttled.clear()
