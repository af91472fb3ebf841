"""One scenario: a seed draws the world (its faults, its owner cap, how often invocations are
interrupted), then `steps` steps each start an actor, move a running invocation on, or move the
clock; invariants are checked as every change happens. Then the drain: faults off, the clock moves
on, the queues are worked off and the reconciler runs until every task is finished; then the Jepsen
check. Everything follows from the seed: `make simulate SEED=n` replays scenario n exactly."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tasklane.data.claims import RatedClaims
from tasklane.data.notifications import Notifications
from tasklane.data.queues import LaneQueues
from tasklane.data.rates import LimitsTable
from tasklane.data.secrets import WebhookSecrets
from tasklane.data.services import Services
from tasklane.data.tasks.deliveries import DeliveryLog
from tasklane.data.tasks.indexes import TaskIndexes
from tasklane.data.tasks.store import TaskStore
from tasklane.data.webhook_queue import WebhookQueue
from tasklane.model.lanes import Lane
from tasklane.settings import Settings, settings
from tasklane.settings.task_types import task_type_settings
from tasklane.settings.webhooks import webhook_settings
from tests.simulation.world import actors, async_work, firings, replays, seams, webhooks, workflows
from tests.simulation.world.dynamodb import TASK_INDEXES, FakeDynamoDB
from tests.simulation.world.history import History, Violation
from tests.simulation.world.runtime import World
from tests.simulation.world.sqs import FakeSQS, Queue

WEBHOOK_QUEUE, WEBHOOK_DLQ = "sqs://webhooks", "sqs://webhooks-dlq"
PROCESSOR_TIMEOUT = 60  # the smallest the template allows: the lease matters most there
VISIBILITY = 360  # the template's LaneVisibility for it
DRAIN_ROUNDS = 400
BATCHES_PER_ROUND = 100


def _environment(cap: int) -> dict[str, str]:
    return {
        "TABLE_NAME": "tasks", "IDEMPOTENCY_TABLE_NAME": "idempotency", "VALUES_BUCKET": "values",
        **{f"{lane.name}_QUEUE_URL": f"sqs://{lane.value}" for lane in Lane},
        "AUTH_MODE": "iam", "TASK_RETENTION_DAYS": "7", "PROCESSOR_TIMEOUT_SECONDS": str(PROCESSOR_TIMEOUT),
        "MAX_RECEIVE_COUNT": "5", "VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY), "SWEEP_SHARDS": "2",
        "OWNER_SHARDS": "2", "PENDING_GRACE_SECONDS": "60", "MAX_RESULT_BYTES": "262144",
        "DEMO_TASK_TYPES": "false", "LIMITS_TABLE_NAME": "limits", "RATE_LIMITS": "",
        "OWNER_CONCURRENCY_CAP": str(cap), "DUE_SHARDS": "2", "QUEUE_DELAY_HORIZON_SECONDS": "120",
        "SCHEDULES_TABLE_NAME": "schedules",
        "TASK_TYPES_TABLE_NAME": "task-types", "MAX_TASK_TYPES_PER_OWNER": "10", "TARGET_FUNCTION_ARNS": "",
        "STACK_ACCOUNT_ID": "000000000000", "API_URL": "https://api.sim.invalid",
        "EVENT_BUS_NAME": "bus", "WEBHOOK_QUEUE_URL": WEBHOOK_QUEUE, "WEBHOOK_DEAD_LETTER_QUEUE_URL": WEBHOOK_DLQ,
        "WEBHOOK_SECRETS_TABLE_NAME": "secrets", "CALLBACK_ALLOW_LOOPBACK": "false",
        "WEBHOOK_RETRY_BASE_SECONDS": "30",
    }  # fmt: skip


class _NoBucket:
    """The values bucket: the simulation's payloads and results are small, so only an async attempt's
    presigned result upload URL is asked for (and never used)."""

    def upload_url(self, key: str, seconds: int) -> str:
        return f"https://values.sim.invalid/{key}"

    def __getattr__(self, name: str) -> Any:
        raise AssertionError("the simulation's payloads and results are small: no bucket call expected")


class _Services(Services):
    """Services whose notifications (a property in Services: loaded on first use) are the world's."""

    notifications: Any = None


class Simulation:
    def __init__(self, seed: int) -> None:
        self.world = world = World(seed)
        self.processor_timeout = PROCESSOR_TIMEOUT
        cap = world.rng.choice([0, 0, 1, 2])
        os.environ.update(_environment(cap))
        settings.cache_clear()
        task_type_settings.cache_clear()
        webhook_settings.cache_clear()
        base = Settings.from_env()
        self.db = FakeDynamoDB(
            world,
            {"tasks": ("task_id", TASK_INDEXES), "limits": ("limit_key", []), "idempotency": ("id", []),
             "secrets": ("owner", [])},
        )  # fmt: skip
        self.sqs = FakeSQS(world)
        self.lanes: dict[Lane, Queue] = {}
        for lane in Lane:
            dead = self.sqs.add_queue(f"sqs://{lane.value}-dlq", 60)
            self.lanes[lane] = self.sqs.add_queue(base.queue_urls[lane], VISIBILITY, dead, base.max_receive_count)
        self.schedules = firings.Records()
        self.notifications = Notifications(webhook_settings(), base.table_name)
        self.notifications.secrets = WebhookSecrets(self.db, "secrets")  # type: ignore[misc]
        self.notifications.deliveries = DeliveryLog(self.db, base.table_name)  # type: ignore[misc]
        self.notifications.bus = webhooks.Bus(world)  # type: ignore[misc,assignment]
        hooks_dead = self.sqs.add_queue(WEBHOOK_DLQ, 60)
        self.webhook_queue = self.sqs.add_queue(WEBHOOK_QUEUE, 60, hooks_dead, webhooks.MAX_RECEIVES)
        self.notifications.webhook_queue = WebhookQueue(self.sqs, WEBHOOK_QUEUE, WEBHOOK_DLQ)  # type: ignore[misc]
        self.services = {lane: self._services(replace(base, lane=lane)) for lane in Lane}
        world.history = History(
            world, cap=cap, rates={seams.RATED_TYPE: seams.RATE_PER_SECOND}, items=self.db.items["tasks"]
        )
        world.history.webhooks.failing = world.rng.choice([0.0, 0.3, 0.6])
        self.db.observers.append(world.history.changed)
        seams.install(world)
        replays.install(world, self.db)
        self.steps_run = 0

    def _services(self, s: Settings) -> Services:
        services = _Services(s)
        services.store = TaskStore(self.db, services.layout)
        services.indexes = TaskIndexes(self.db, services.layout)
        services.limits = LimitsTable(self.db, s.limits_table_name)
        services.claims = RatedClaims(self.db, services.layout, s.limits_table_name)
        services.queues = LaneQueues(self.sqs, s.queue_urls)
        services.values = _NoBucket()  # type: ignore[assignment]
        services.schedules = self.schedules  # type: ignore[assignment]
        services.task_types = async_work.TASK_TYPES  # type: ignore[assignment]
        services.notifications = self.notifications
        return services

    # --- the steps --------------------------------------------------------------------------------

    def _resume(self) -> None:
        ready = self.world.runnable()
        if ready:
            self.world.resume(self.world.rng.choice(ready))

    def _tick(self) -> None:
        rng = self.world.rng
        roll = rng.random()
        ms = (
            rng.randint(0, 2000)
            if roll < 0.8
            else rng.randint(2000, 60_000)
            if roll < 0.97
            else rng.randint(60_000, 700_000)
        )
        self.world.advance(ms)

    def actions(self) -> list[tuple[float, Callable[[], None]]]:
        return [
            (0.16, lambda: actors.submit(self)),
            (0.02, lambda: actors.submit_batch_of_tasks(self)),
            (0.04, lambda: replays.submit_with_key(self, actors.request(self.world.rng))),
            (0.03, lambda: firings.deliver_firing(self, actors.request(self.world.rng))),
            (0.03, lambda: workflows.submit(self, actors.request)),
            (0.02, lambda: replays.submit_batch_with_key(self, actors.request)),
            (0.02, lambda: actors.rated_burst(self)),
            (0.22, lambda: actors.processor(self)),
            (0.30, self._resume),
            (0.15, self._tick),
            (0.03, lambda: actors.reconciler(self)),
            (0.04, lambda: actors.promoter(self)),
            (0.03, lambda: actors.dead_letters(self)),
            (0.03, lambda: actors.cancel(self)),
            (0.02, lambda: actors.retry(self)),
            (0.06, lambda: webhooks.events(self)),
            (0.06, lambda: webhooks.deliverer(self)),
            (0.03, lambda: async_work.submit(self)),
            (0.07, lambda: async_work.worker(self)),
        ]

    def run(self, steps: int) -> dict[str, int]:
        actions = self.actions()
        weights = [w for w, _ in actions]
        for _ in range(steps):
            ((_, action),) = self.world.rng.choices(actions, weights)
            action()
            self.steps_run += 1
        return self.drain()

    def drain(self) -> dict[str, int]:
        world = self.world
        world.faults.quiet = True
        world.switch_p = 0.0
        tasks = self.db.items["tasks"]
        for _ in range(DRAIN_ROUNDS):
            world.finish_all()
            if (
                self.sqs.backlog() == 0
                and not world.history.webhooks.stream
                and all(
                    item["status"]["S"] in ("completed", "failed", "cancelled")
                    for item in tasks.values()
                    if "status" in item  # a workflow's barriers have none
                )
            ):
                break
            world.advance(30_000)
            actors.promoter(self)
            for lane in Lane:
                for _ in range(BATCHES_PER_ROUND):  # bounded: a message that never settles is a finding, not a hang
                    if not any(m.visible_ms <= world.now_ms() for m in self.lanes[lane].messages.values()):
                        break
                    actors.processor(self, lane)
                    world.finish_all()
            actors.dead_letters(self)
            actors.reconciler(self)
            world.finish_all()
            for _ in range(BATCHES_PER_ROUND):
                if not world.history.webhooks.stream:
                    break
                webhooks.events(self)
                world.finish_all()
            for _ in range(BATCHES_PER_ROUND):
                if not any(m.visible_ms <= world.now_ms() for m in self.webhook_queue.messages.values()):
                    break
                webhooks.deliverer(self)
                world.finish_all()
        world.finish_all()
        counts = world.history.check_quiescent(tasks)
        counts["steps"] = self.steps_run
        counts["faults"] = world.fault_count
        counts["messages"] = world.history.messages_sent
        return counts


def run_scenario(seed: int, steps: int) -> dict[str, int]:
    """One scenario; a Violation names its seed."""
    try:
        return Simulation(seed).run(steps)
    except Violation as exc:
        raise Violation(f"seed {seed}: {exc}\n  replay: make simulate SEED={seed} STEPS={steps}") from exc
