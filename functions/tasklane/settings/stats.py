"""The status function's settings for GET /stats: set on it only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from tasklane.model.lanes import Lane


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
