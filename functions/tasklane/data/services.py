"""The data-access objects of this container, wired from settings on first use."""

from __future__ import annotations

from datetime import timedelta
from functools import cache, cached_property
from typing import TYPE_CHECKING

from tasklane.data import aws
from tasklane.data.items import TableLayout
from tasklane.settings import Settings, settings

# Each data-access module is imported with its first use: a function loads only what it touches
# (the status function never the limits or the queues, a processor never the metrics).
if TYPE_CHECKING:
    from tasklane.data.bucket import ValueStore
    from tasklane.data.bulk import BulkJobs, BulkQueue
    from tasklane.data.claims import RatedClaims
    from tasklane.data.depths import LaneDepths
    from tasklane.data.functions import TargetFunctions
    from tasklane.data.indexes import TaskIndexes
    from tasklane.data.limits import LimitsTable
    from tasklane.data.metrics import StackMetrics
    from tasklane.data.queues import LaneQueues
    from tasklane.data.schedules import Scheduler, ScheduleRecords
    from tasklane.data.store import TaskStore
    from tasklane.data.task_types import TaskTypeRecords


class Services:
    """The AWS services tasklane uses, each client created when first needed: the status function never
    makes an SQS client, and makes an S3 client only for a task with a large value."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def layout(self) -> TableLayout:
        s = self.settings
        return TableLayout(
            table_name=s.table_name,
            retention=timedelta(days=s.retention_days),
            sweep_shards=s.sweep_shards,
            owner_shards=s.owner_shards,
            pending_grace_seconds=s.pending_grace_seconds,
            due_shards=s.due_shards,
        )

    @cached_property
    def store(self) -> TaskStore:
        from tasklane.data.store import TaskStore

        return TaskStore(aws.dynamodb(), self.layout)

    @cached_property
    def claims(self) -> RatedClaims:
        from tasklane.data.claims import RatedClaims

        return RatedClaims(aws.dynamodb(), self.layout, self.settings.limits_table_name)

    @cached_property
    def indexes(self) -> TaskIndexes:
        from tasklane.data.indexes import TaskIndexes

        return TaskIndexes(aws.dynamodb(), self.layout)

    @cached_property
    def limits(self) -> LimitsTable:
        from tasklane.data.limits import LimitsTable

        return LimitsTable(aws.dynamodb(), self.settings.limits_table_name)

    @cached_property
    def values(self) -> ValueStore:
        from tasklane.data.bucket import ValueStore

        return ValueStore(aws.s3(), self.settings.values_bucket)

    @cached_property
    def queues(self) -> LaneQueues:
        from tasklane.data.queues import LaneQueues

        return LaneQueues(aws.sqs(), self.settings.queue_urls)

    @cached_property
    def depths(self) -> LaneDepths:
        from tasklane.data.depths import LaneDepths
        from tasklane.settings.stats import stats_settings

        return LaneDepths(aws.sqs(), self.settings.queue_urls, stats_settings().dead_letter_queue_urls)

    @cached_property
    def schedules(self) -> ScheduleRecords:
        from tasklane.data.schedules import ScheduleRecords

        return ScheduleRecords(aws.dynamodb(), self.settings.schedules_table_name)

    @cached_property
    def scheduler(self) -> Scheduler:
        from tasklane.data.schedules import Scheduler
        from tasklane.settings.scheduler import scheduler_settings

        s = scheduler_settings()
        return Scheduler(aws.scheduler(), s.group, s.role_arn, s.firing_function_arn, s.firing_dead_letter_arn)

    @cached_property
    def bulk_jobs(self) -> BulkJobs:
        from tasklane.data.bulk import BulkJobs
        from tasklane.settings.bulk import bulk_settings

        return BulkJobs(aws.dynamodb(), bulk_settings().table_name)

    @cached_property
    def bulk_queue(self) -> BulkQueue:
        from tasklane.data.bulk import BulkQueue
        from tasklane.settings.bulk import bulk_settings

        return BulkQueue(aws.sqs(), bulk_settings().queue_url)

    @cached_property
    def task_types(self) -> TaskTypeRecords:
        from tasklane.data.task_types import TaskTypeRecords
        from tasklane.settings.task_types import task_type_settings

        return TaskTypeRecords(aws.dynamodb(), task_type_settings().table_name)

    @cached_property
    def target_functions(self) -> TargetFunctions:
        from tasklane.data.functions import TargetFunctions

        return TargetFunctions(aws.lambda_client())

    @cached_property
    def metrics(self) -> StackMetrics:
        from tasklane.data.metrics import StackMetrics

        return StackMetrics(aws.cloudwatch())


@cache
def services() -> Services:
    return Services(settings())
