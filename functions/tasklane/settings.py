"""Runtime settings, read once from the environment the template sets.

The template is the one source of every value and default: each variable below is required, and a
template test checks that every function gets each one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from tasklane.model.lanes import Lane
from tasklane.model.rates import Rate, parse_overrides

# Time the processor keeps back from its Lambda timeout for recording an outcome: a task's
# timeout_seconds may be at most the Lambda timeout minus this.
OUTCOME_RESERVE_SECONDS = 30


@dataclass(frozen=True)
class Settings:
    """What every function reads from its environment (see REQUIRED_ENV)."""

    table_name: str
    idempotency_table_name: str
    values_bucket: str
    queue_urls: dict[Lane, str]
    auth_mode: str
    retention_days: int
    max_task_timeout_seconds: int
    max_receive_count: int
    visibility_timeout_seconds: int
    sweep_shards: int
    owner_shards: int
    pending_grace_seconds: int
    max_result_bytes: int
    demo_task_types: bool
    limits_table_name: str
    rate_limits: dict[str, Rate | None]  # the stack's overrides of task types' declared rates
    owner_concurrency_cap: int  # tasks one owner may run at once per lane; 0 = no cap
    due_shards: int  # partition keys of the due-time index of scheduled tasks
    queue_delay_horizon_seconds: int  # the longest delay a lane message carries; later tasks are scheduled
    schedules_table_name: str
    lane: Lane | None  # the lane a processor drains (set on processors only)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            table_name=env["TABLE_NAME"],
            idempotency_table_name=env["IDEMPOTENCY_TABLE_NAME"],
            values_bucket=env["VALUES_BUCKET"],
            queue_urls={lane: env[f"{lane.name}_QUEUE_URL"] for lane in Lane},
            auth_mode=env["AUTH_MODE"],
            retention_days=int(env["TASK_RETENTION_DAYS"]),
            max_task_timeout_seconds=int(env["PROCESSOR_TIMEOUT_SECONDS"]) - OUTCOME_RESERVE_SECONDS,
            max_receive_count=int(env["MAX_RECEIVE_COUNT"]),
            visibility_timeout_seconds=int(env["VISIBILITY_TIMEOUT_SECONDS"]),
            sweep_shards=int(env["SWEEP_SHARDS"]),
            owner_shards=int(env["OWNER_SHARDS"]),
            pending_grace_seconds=int(env["PENDING_GRACE_SECONDS"]),
            max_result_bytes=int(env["MAX_RESULT_BYTES"]),
            demo_task_types=env["DEMO_TASK_TYPES"].lower() == "true",
            limits_table_name=env["LIMITS_TABLE_NAME"],
            rate_limits=parse_overrides(env["RATE_LIMITS"]),
            owner_concurrency_cap=int(env["OWNER_CONCURRENCY_CAP"]),
            due_shards=int(env["DUE_SHARDS"]),
            queue_delay_horizon_seconds=int(env["QUEUE_DELAY_HORIZON_SECONDS"]),
            schedules_table_name=env["SCHEDULES_TABLE_NAME"],
            lane=Lane(env["LANE"]) if "LANE" in env else None,
        )

    def processor_lane(self) -> Lane:
        """The lane of this processor; an error anywhere else."""
        if self.lane is None:
            raise RuntimeError("LANE is not set: only a lane's processor function runs tasks")
        return self.lane


# Every variable Settings.from_env requires (LANE is the processors' own); the template sets each.
REQUIRED_ENV = (
    "TABLE_NAME",
    "IDEMPOTENCY_TABLE_NAME",
    "VALUES_BUCKET",
    *(f"{lane.name}_QUEUE_URL" for lane in Lane),
    "AUTH_MODE",
    "TASK_RETENTION_DAYS",
    "PROCESSOR_TIMEOUT_SECONDS",
    "MAX_RECEIVE_COUNT",
    "VISIBILITY_TIMEOUT_SECONDS",
    "SWEEP_SHARDS",
    "OWNER_SHARDS",
    "PENDING_GRACE_SECONDS",
    "MAX_RESULT_BYTES",
    "DEMO_TASK_TYPES",
    "LIMITS_TABLE_NAME",
    "RATE_LIMITS",
    "OWNER_CONCURRENCY_CAP",
    "DUE_SHARDS",
    "QUEUE_DELAY_HORIZON_SECONDS",
    "SCHEDULES_TABLE_NAME",
)


@cache
def settings() -> Settings:
    """The settings of this container, parsed on first use."""
    return Settings.from_env()


@dataclass(frozen=True)
class StatsSettings:
    """What GET /stats reads besides the task table: set on the status function only."""

    dead_letter_queue_urls: dict[Lane, str]
    lane_concurrency: dict[Lane, int]
    # "cloudwatch" where the stack's EMF metrics exist (AWS), "tasks" where they do not (the local
    # emulator extracts no EMF): the chart then counts the caller's finished tasks from the listing index.
    throughput_source: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> StatsSettings:
        return cls(
            dead_letter_queue_urls={lane: env[f"{lane.name}_DLQ_URL"] for lane in Lane},
            lane_concurrency={lane: int(env[f"{lane.name}_LANE_CONCURRENCY"]) for lane in Lane},
            throughput_source=env["THROUGHPUT_SOURCE"],
        )


# Every variable StatsSettings.from_env requires; the template sets each on the status function.
STATS_REQUIRED_ENV = (
    *(f"{lane.name}_DLQ_URL" for lane in Lane),
    *(f"{lane.name}_LANE_CONCURRENCY" for lane in Lane),
    "THROUGHPUT_SOURCE",
)


@cache
def stats_settings() -> StatsSettings:
    """The status function's settings for GET /stats, parsed on first use."""
    return StatsSettings.from_env()


@dataclass(frozen=True)
class WebhookSettings:
    """Completion events and webhooks (tasklane.logic.events, tasklane.logic.webhooks): set in Globals."""

    event_bus_name: str
    webhook_queue_url: str
    webhook_dead_letter_queue_url: str
    secrets_table_name: str
    # CallbackAllowLoopback: http://127.0.0.1 (and nothing else private) may be a callback, for local stacks.
    allow_loopback: bool
    retry_base_seconds: int  # the first backoff of a failed delivery; it doubles up to a cap

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> WebhookSettings:
        return cls(
            event_bus_name=env["EVENT_BUS_NAME"],
            webhook_queue_url=env["WEBHOOK_QUEUE_URL"],
            webhook_dead_letter_queue_url=env["WEBHOOK_DEAD_LETTER_QUEUE_URL"],
            secrets_table_name=env["WEBHOOK_SECRETS_TABLE_NAME"],
            allow_loopback=env["CALLBACK_ALLOW_LOOPBACK"].lower() == "true",
            retry_base_seconds=int(env["WEBHOOK_RETRY_BASE_SECONDS"]),
        )


WEBHOOK_REQUIRED_ENV = (
    "EVENT_BUS_NAME",
    "WEBHOOK_QUEUE_URL",
    "WEBHOOK_DEAD_LETTER_QUEUE_URL",
    "WEBHOOK_SECRETS_TABLE_NAME",
    "CALLBACK_ALLOW_LOOPBACK",
    "WEBHOOK_RETRY_BASE_SECONDS",
)


@cache
def webhook_settings() -> WebhookSettings:
    """The settings of events and webhooks, parsed on first use."""
    return WebhookSettings.from_env()


@dataclass(frozen=True)
class SchedulerSettings:
    """What the schedules function needs to manage EventBridge Scheduler schedules: set on it only."""

    group: str  # the stack's schedule group
    role_arn: str  # the role Scheduler assumes to invoke the firing function
    firing_function_arn: str  # its live alias
    firing_dead_letter_arn: str  # where Scheduler puts a firing it could not deliver within an hour
    max_schedules_per_owner: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SchedulerSettings:
        return cls(
            group=env["SCHEDULE_GROUP"],
            role_arn=env["SCHEDULER_ROLE_ARN"],
            firing_function_arn=env["FIRING_FUNCTION_ARN"],
            firing_dead_letter_arn=env["FIRING_DEAD_LETTER_ARN"],
            max_schedules_per_owner=int(env["MAX_SCHEDULES_PER_OWNER"]),
        )


# Every variable SchedulerSettings.from_env requires; the template sets each on the schedules function.
SCHEDULER_REQUIRED_ENV = (
    "SCHEDULE_GROUP",
    "SCHEDULER_ROLE_ARN",
    "FIRING_FUNCTION_ARN",
    "FIRING_DEAD_LETTER_ARN",
    "MAX_SCHEDULES_PER_OWNER",
)


@cache
def scheduler_settings() -> SchedulerSettings:
    """The schedules function's Scheduler settings, parsed on first use."""
    return SchedulerSettings.from_env()
