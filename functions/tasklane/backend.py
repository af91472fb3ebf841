"""The data-access objects of this container, wired from settings on first use."""

from __future__ import annotations

from functools import cache, cached_property

from tasklane import aws
from tasklane.queue import LaneQueues
from tasklane.settings import Settings, settings
from tasklane.store import TaskStore
from tasklane.value_store import ValueStore


class Backend:
    """Store, queues and values, each created when first needed (the status function never makes an SQS
    client, and an S3 client only for a task with a large value)."""

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
            pending_grace_seconds=s.pending_grace_seconds,
        )

    @cached_property
    def values(self) -> ValueStore:
        return ValueStore(aws.s3(), self.settings.values_bucket)

    @cached_property
    def queues(self) -> LaneQueues:
        return LaneQueues(aws.sqs(), self.settings.queue_urls)


@cache
def backend() -> Backend:
    return Backend(settings())
