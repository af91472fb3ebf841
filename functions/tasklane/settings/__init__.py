"""Runtime settings, read once from the environment the template sets: what every function reads
here; what only some functions read in a module of its own (stats, webhooks, scheduler), which the
others never load.

The template is the one source of every value and default: each variable below is required, and a
template test checks that every function gets each one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from tasklane.model.lanes import Lane

if TYPE_CHECKING:
    from tasklane.model.rates import Rate

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
            rate_limits=_rate_overrides(env["RATE_LIMITS"]),
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


def _rate_overrides(text: str) -> dict[str, Rate | None]:
    """The stack's RateLimits; the rate parser is loaded only where it sets some (the default is none)."""
    if not text.strip():
        return {}
    from tasklane.model.rates import parse_overrides

    return parse_overrides(text)


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
