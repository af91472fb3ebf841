"""The data-access objects of this container, wired from settings once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from tasklane import aws
from tasklane.queue import LaneQueues
from tasklane.settings import Settings, settings
from tasklane.store import TaskStore


@dataclass(frozen=True)
class Backend:
    store: TaskStore
    queues: LaneQueues
    settings: Settings


@cache
def backend() -> Backend:
    s = settings()
    return Backend(
        store=TaskStore(aws.dynamodb(), s.table_name, retention_days=s.retention_days, sweep_shards=s.sweep_shards),
        queues=LaneQueues(aws.sqs(), s.queue_urls),
        settings=s,
    )
