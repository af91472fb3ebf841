"""The status function's settings for GET /stats: set on it only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import ClassVar

from tasklane.model.lanes import Lane
from tasklane.records import record
from tasklane.settings.environment import from_env, required_env, variable


def _per_lane(*values: str) -> dict[Lane, str]:
    return dict(zip(Lane, values, strict=True))


def _per_lane_int(*values: str) -> dict[Lane, int]:
    return {lane: int(value) for lane, value in zip(Lane, values, strict=True)}


@record
class StatsSettings:
    """What GET /stats reads besides the task table: set on the status function only."""

    READ_BY: ClassVar[str] = "StatusFunction"

    dead_letter_queue_urls: dict[Lane, str] = variable(*(f"{lane.name}_DLQ_URL" for lane in Lane), parse=_per_lane)
    lane_concurrency: dict[Lane, int] = variable(
        *(f"{lane.name}_LANE_CONCURRENCY" for lane in Lane), parse=_per_lane_int
    )
    # "cloudwatch" where the stack's EMF metrics exist (AWS), "tasks" where they do not (the local
    # emulator extracts no EMF): the chart then counts the caller's finished tasks from the listing index.
    throughput_source: str = variable("THROUGHPUT_SOURCE")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> StatsSettings:
        return from_env(cls, env)


# Every variable StatsSettings.from_env requires; the template sets each on the status function.
STATS_REQUIRED_ENV = required_env(StatsSettings)


@cache
def stats_settings() -> StatsSettings:
    """The status function's settings for GET /stats, parsed on first use."""
    return StatsSettings.from_env()
