"""The data-access objects of this container, wired from settings on first use."""

from __future__ import annotations

from functools import cache, cached_property

from tasklane import aws
from tasklane.queue import LaneQueues
from tasklane.settings import Settings, settings
from tasklane.store import TaskStore


class Backend:
    """Store and queues, each created when first needed (the status function never makes an SQS client)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def store(self) -> TaskStore:
        s = self.settings
        return TaskStore(
            aws.dynamodb(),
            s.table_name,
            retention_days=s.retention_days,
            sweep_shards=s.sweep_shards,
            owner_shards=s.owner_shards,
        )

    @cached_property
    def queues(self) -> LaneQueues:
        return LaneQueues(aws.sqs(), self.settings.queue_urls)


@cache
def backend() -> Backend:
    return Backend(settings())
