"""Recurring schedules' firings: EventBridge Scheduler delivers each firing at least once, sometimes
twice at the same moment, and retries one that failed. The firing function's logic (logic/firing.py)
runs on the world; the schedule's record is read from a plain dict (the schedules table and Scheduler
itself are not what is under test here). Each firing that returned is acknowledged: its task must
exist and finish, once."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tasklane.logic.firing import fire
from tasklane.model import clock
from tasklane.model.lanes import Lane
from tasklane.model.schedule import Schedule, firing_task_id
from tests.simulation.world.runtime import Invocation

if TYPE_CHECKING:
    from tests.simulation.simulation import Simulation


class Records:
    """ScheduleRecords' one read a firing makes."""

    def __init__(self) -> None:
        self.schedules: dict[tuple[str, str], Schedule] = {}

    def get(self, owner: str, name: str) -> Schedule | None:
        return self.schedules.get((owner, name))


def deliver_firing(sim: Simulation, request: dict[str, Any]) -> None:
    """One delivery of a firing: a new one, or again one delivered before (at least once)."""
    world, rng = sim.world, sim.world.rng
    records: Records = sim.services[Lane.NORMAL].schedules  # type: ignore[assignment]
    if not records.schedules or rng.random() < 0.2:
        now = clock.iso(world.clock_now())
        name = f"s{len(records.schedules)}"
        records.schedules[("alice", name)] = Schedule(
            owner="alice", name=name, schedule_id=f"id-{name}", rate="1 minute", timezone="UTC",
            task=request, created_at=now, updated_at=now,
        )  # fmt: skip
    schedule = rng.choice(sorted(records.schedules.values(), key=lambda s: s.name))
    minute = world.clock_now().replace(second=0, microsecond=0) - timedelta(minutes=rng.choice([0, 0, 1, 2]))
    event = {"owner": schedule.owner, "name": schedule.name, "schedule_id": schedule.schedule_id,
             "scheduled_time": minute.isoformat()}  # fmt: skip

    def body(inv: Invocation) -> None:
        try:
            fire(event, sim.services[Lane.NORMAL], "sim-firing")
        except Exception:
            return  # Scheduler retries it (the sim delivers the same firing again later, maybe)
        world.history.acknowledged.add(firing_task_id(schedule.schedule_id, minute))

    world.start("firing", body, 30)
