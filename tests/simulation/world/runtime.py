"""The simulated world's heart: one seeded random source, a clock that only the world moves, and a
scheduler that runs every invocation (a processor's batch, the reconciler, a client's call...) as a
greenlet, switching between them at their AWS calls.

tasklane's handlers are synchronous, so an invocation is ordinary code; the only places where two
of them can interleave in AWS are their calls to it. The fake clients call `World.point` before each
call: there the scheduler may run another invocation first, or the world may crash this one. A
crashed invocation is dead for good: each of its later calls (its `finally` blocks included, as a
killed Lambda runs none) raises Crash, which tasklane's `except Exception` does not catch.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from greenlet import greenlet

from tests.simulation.world.faults import Faults

if TYPE_CHECKING:
    from tests.simulation.world.history import History

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
START_MS = 1_790_000_000_000  # 2026-09-21: any fixed moment; the clock starts here in every scenario


class Crash(BaseException):
    """The invocation dies here (a crash, the Lambda timeout): nothing after this point happens."""


@dataclass(eq=False)
class Invocation:
    name: str
    skew_ms: int
    deadline_ms: int
    wake_ms: int = 0
    dead: bool = False
    done: bool = False
    faults: list[str] = field(default_factory=list)
    granted: dict[str, int] = field(default_factory=dict)  # task type -> when its rate last granted a start
    glet: greenlet | None = None
    webhook_attempt: int = 0  # the receive count of the webhook message being delivered
    async_call: Any = None  # an async worker's call in flight (tests.simulation.world.async_work.Call)


class World:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.faults = Faults.draw(random.Random(self.rng.getrandbits(64)))
        self.switch_p = self.rng.choice([0.1, 0.3, 0.6])  # how often an invocation is interrupted
        self._now_ms = START_MS
        self.current: Invocation | None = None
        self.invocations: list[Invocation] = []
        self.main = greenlet.getcurrent()
        self.history: History  # set by the simulation
        self.fault_count = 0

    # --- time -------------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The true time (no skew)."""
        return self._now_ms

    def advance(self, ms: int) -> None:
        self._now_ms += ms

    def clock_now(self) -> datetime:
        """tasklane.model.clock.now: the true time as the running invocation's host sees it."""
        skew = self.current.skew_ms if self.current is not None else 0
        return EPOCH + timedelta(milliseconds=self._now_ms + skew)

    def monotonic(self) -> float:
        return self._now_ms / 1000

    def sleep(self, seconds: float) -> None:
        inv = self.current
        if inv is None:
            self._now_ms += int(seconds * 1000)
            return
        inv.wake_ms = self._now_ms + max(1, int(seconds * 1000))
        self._pause(inv)

    # --- scheduling -------------------------------------------------------------------------------

    def point(self, label: str) -> None:
        """An invocation is about to call AWS: maybe another goes first."""
        inv = self.current
        if inv is None:
            return
        if inv.dead:
            raise Crash(label)
        if self.rng.random() < self.switch_p:
            self._pause(inv)

    def _pause(self, inv: Invocation) -> None:
        self.main.switch()
        if inv.dead:
            raise Crash("killed while paused")

    def crash(self, reason: str) -> None:
        inv = self.current
        if inv is None:
            return
        inv.dead = True
        self.note_fault(f"crash {reason}")
        raise Crash(reason)

    def note_fault(self, text: str) -> None:
        self.fault_count += 1
        if self.current is not None:
            self.current.faults.append(text)

    def start(self, name: str, body: Callable[[Invocation], None], timeout_s: int) -> Invocation:
        skew = self.rng.randint(-self.faults.skew_ms, self.faults.skew_ms) if self.faults.skew_ms else 0
        inv = Invocation(name, skew, self._now_ms + timeout_s * 1000)

        def run() -> None:
            try:
                body(inv)
            except Crash:
                inv.dead = True

        inv.glet = greenlet(run, parent=self.main)
        self.invocations.append(inv)
        self.resume(inv)
        return inv

    def runnable(self) -> list[Invocation]:
        return [i for i in self.invocations if i.wake_ms <= self._now_ms]

    def resume(self, inv: Invocation) -> None:
        """Run `inv` until its next pause or its end; past its Lambda timeout it is killed instead."""
        assert inv.glet is not None
        if self._now_ms >= inv.deadline_ms and not inv.dead:
            inv.dead = True
            inv.faults.append("killed at the Lambda timeout")
            self.fault_count += 1
        self.current = inv
        try:
            inv.glet.switch()
        finally:
            self.current = None
        if inv.glet.dead:
            inv.done = True
            self.invocations.remove(inv)

    def finish_all(self) -> None:
        """Run every paused invocation to its end (the clock moves to wake sleepers)."""
        while self.invocations:
            ready = self.runnable()
            if not ready:
                self._now_ms = min(i.wake_ms for i in self.invocations)
                continue
            self.resume(ready[0])
