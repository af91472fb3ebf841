"""Runtime settings, read once from the environment the template sets: what every function reads
here; what only some functions read in a module of its own (stats, webhooks, scheduler), which the
others never load.

The template is the one source of every value and default: each setting is declared once, as a field
naming its variable and parser (tasklane.settings.environment), from which parsing and the list of
required variables derive; a template test checks that every function gets each one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, ClassVar

from tasklane.model.lanes import Lane
from tasklane.records import record
from tasklane.settings.environment import EVERY_FUNCTION, flag, from_env, required_env, variable

if TYPE_CHECKING:
    from tasklane.model.rates import Rate

# Time the processor keeps back from its Lambda timeout for recording an outcome: a task's
# timeout_seconds may be at most the Lambda timeout minus this.
OUTCOME_RESERVE_SECONDS = 30


def _per_lane(*values: str) -> dict[Lane, str]:
    return dict(zip(Lane, values, strict=True))


def _max_task_timeout(processor_timeout: str) -> int:
    return int(processor_timeout) - OUTCOME_RESERVE_SECONDS


def _rate_overrides(text: str) -> dict[str, Rate | None]:
    """The stack's RateLimits; the rate parser is loaded only where it sets some (the default is none)."""
    if not text.strip():
        return {}
    from tasklane.model.rates import parse_overrides

    return parse_overrides(text)


@record
class Settings:
    """What every function reads from its environment: each field names its variable and parser."""

    READ_BY: ClassVar[str] = EVERY_FUNCTION

    table_name: str = variable("TABLE_NAME")
    idempotency_table_name: str = variable("IDEMPOTENCY_TABLE_NAME")
    values_bucket: str = variable("VALUES_BUCKET")
    queue_urls: dict[Lane, str] = variable(*(f"{lane.name}_QUEUE_URL" for lane in Lane), parse=_per_lane)
    auth_mode: str = variable("AUTH_MODE")
    retention_days: int = variable("TASK_RETENTION_DAYS", parse=int)
    max_task_timeout_seconds: int = variable("PROCESSOR_TIMEOUT_SECONDS", parse=_max_task_timeout)
    max_receive_count: int = variable("MAX_RECEIVE_COUNT", parse=int)
    visibility_timeout_seconds: int = variable("VISIBILITY_TIMEOUT_SECONDS", parse=int)
    sweep_shards: int = variable("SWEEP_SHARDS", parse=int)
    owner_shards: int = variable("OWNER_SHARDS", parse=int)
    pending_grace_seconds: int = variable("PENDING_GRACE_SECONDS", parse=int)
    max_result_bytes: int = variable("MAX_RESULT_BYTES", parse=int)
    demo_task_types: bool = variable("DEMO_TASK_TYPES", parse=flag)
    limits_table_name: str = variable("LIMITS_TABLE_NAME")
    # The stack's overrides of task types' declared rates.
    rate_limits: dict[str, Rate | None] = variable("RATE_LIMITS", parse=_rate_overrides)
    # Tasks one owner may run at once per lane; 0 = no cap.
    owner_concurrency_cap: int = variable("OWNER_CONCURRENCY_CAP", parse=int)
    due_shards: int = variable("DUE_SHARDS", parse=int)  # partition keys of the due-time index of scheduled tasks
    # The longest delay a lane message carries; later tasks are scheduled.
    queue_delay_horizon_seconds: int = variable("QUEUE_DELAY_HORIZON_SECONDS", parse=int)
    schedules_table_name: str = variable("SCHEDULES_TABLE_NAME")
    # The lane a processor drains: set on each lane's processor only, so not required of the others.
    lane: Lane | None = variable("LANE", parse=Lane, optional=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        return from_env(cls, env)

    def processor_lane(self) -> Lane:
        """The lane of this processor; an error anywhere else."""
        if self.lane is None:
            raise RuntimeError("LANE is not set: only a lane's processor function runs tasks")
        return self.lane


# Every variable Settings.from_env requires (LANE is the processors' own); the template sets each.
REQUIRED_ENV = required_env(Settings)


@cache
def settings() -> Settings:
    """The settings of this container, parsed on first use."""
    return Settings.from_env()
