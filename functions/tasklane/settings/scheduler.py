"""The schedules function's EventBridge Scheduler settings: set on it only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import ClassVar

from tasklane.records import record
from tasklane.settings.environment import from_env, required_env, variable


@record
class SchedulerSettings:
    """What the schedules function needs to manage EventBridge Scheduler schedules: set on it only."""

    READ_BY: ClassVar[str] = "SchedulesFunction"

    group: str = variable("SCHEDULE_GROUP")  # the stack's schedule group
    role_arn: str = variable("SCHEDULER_ROLE_ARN")  # the role Scheduler assumes to invoke the firing function
    firing_function_arn: str = variable("FIRING_FUNCTION_ARN")  # its live alias
    # Where Scheduler puts a firing it could not deliver within an hour.
    firing_dead_letter_arn: str = variable("FIRING_DEAD_LETTER_ARN")
    max_schedules_per_owner: int = variable("MAX_SCHEDULES_PER_OWNER", parse=int)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SchedulerSettings:
        return from_env(cls, env)


# Every variable SchedulerSettings.from_env requires; the template sets each on the schedules function.
SCHEDULER_REQUIRED_ENV = required_env(SchedulerSettings)


@cache
def scheduler_settings() -> SchedulerSettings:
    """The schedules function's Scheduler settings, parsed on first use."""
    return SchedulerSettings.from_env()
