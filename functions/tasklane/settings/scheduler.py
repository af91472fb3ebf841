"""The schedules function's EventBridge Scheduler settings: set on it only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache


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
