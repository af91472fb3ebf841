"""The data-access objects of this container, wired from settings on first use."""

from __future__ import annotations

from datetime import timedelta
from functools import cache, cached_property
from typing import TYPE_CHECKING, Protocol

from tasklane.data import aws
from tasklane.data.tasks.codec import TableLayout
from tasklane.settings import Settings, settings

# Each data-access module is imported with its first use: a function loads only what it touches
# (the status function never the limits or the queues, a processor never the metrics).
if TYPE_CHECKING:
    from tasklane.data.bucket import ValueStore
    from tasklane.data.bulk import BulkJobs, BulkQueue
    from tasklane.data.claims import RatedClaims
    from tasklane.data.depths import LaneDepths
    from tasklane.data.functions import TargetFunctions
    from tasklane.data.metrics import StackMetrics
    from tasklane.data.notifications import Notifications
    from tasklane.data.queues import LaneQueues
    from tasklane.data.rates import LimitsTable
    from tasklane.data.schedules import Scheduler, ScheduleRecords
    from tasklane.data.task_types import TaskTypeRecords
    from tasklane.data.tasks.indexes import TaskIndexes
    from tasklane.data.tasks.store import TaskStore


# What a use case touches, one resource each: a use case's own Protocol is made of these, so that its
# signature names the resources it reaches (and mypy refuses a reach past them). Services has them all.


class HasSettings(Protocol):
    @property
    def settings(self) -> Settings:
        """The deployment's settings."""


class HasLayout(Protocol):
    @property
    def layout(self) -> TableLayout:
        """The tasks table's name and shards."""


class HasStore(Protocol):
    @property
    def store(self) -> TaskStore:
        """The tasks table's writes and reads by key."""


class HasIndexes(Protocol):
    @property
    def indexes(self) -> TaskIndexes:
        """The tasks table's indexes."""


class HasLimits(Protocol):
    @property
    def limits(self) -> LimitsTable:
        """The limits table: running slots per owner (a rate's start is taken by the claim: claims)."""


class HasClaims(Protocol):
    @property
    def claims(self) -> RatedClaims:
        """The claim of a rate-limited type's task with its start (the tasks and limits tables)."""


class HasValues(Protocol):
    @property
    def values(self) -> ValueStore:
        """The values bucket."""


class HasQueues(Protocol):
    @property
    def queues(self) -> LaneQueues:
        """The lane queues."""


class HasDepths(Protocol):
    @property
    def depths(self) -> LaneDepths:
        """The lanes' and their DLQs' depths."""


class HasSchedules(Protocol):
    @property
    def schedules(self) -> ScheduleRecords:
        """The schedules table."""


class HasScheduler(Protocol):
    @property
    def scheduler(self) -> Scheduler:
        """EventBridge Scheduler."""


class HasBulkJobs(Protocol):
    @property
    def bulk_jobs(self) -> BulkJobs:
        """The bulk table."""


class HasBulkQueue(Protocol):
    @property
    def bulk_queue(self) -> BulkQueue:
        """The bulk queue."""


class HasTaskTypes(Protocol):
    @property
    def task_types(self) -> TaskTypeRecords:
        """The task-types table."""


class HasTargetFunctions(Protocol):
    @property
    def target_functions(self) -> TargetFunctions:
        """The Lambda functions targets name."""


class HasMetrics(Protocol):
    @property
    def metrics(self) -> StackMetrics:
        """The stack's CloudWatch metrics."""


class HasNotifications(Protocol):
    @property
    def notifications(self) -> Notifications:
        """The data-access objects of events and webhooks (a url target's call is signed and checked as a
        webhook)."""


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
        from tasklane.data.tasks.store import TaskStore

        return TaskStore(aws.dynamodb(), self.layout)

    @cached_property
    def claims(self) -> RatedClaims:
        from tasklane.data.claims import RatedClaims

        return RatedClaims(aws.dynamodb(), self.layout, self.settings.limits_table_name)

    @cached_property
    def indexes(self) -> TaskIndexes:
        from tasklane.data.tasks.indexes import TaskIndexes

        return TaskIndexes(aws.dynamodb(), self.layout)

    @cached_property
    def limits(self) -> LimitsTable:
        from tasklane.data.rates import LimitsTable

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

    @property
    def notifications(self) -> Notifications:
        # Not kept here: tasklane.data.notifications keeps its own, and loads only where a call needs it.
        from tasklane.data.notifications import notifications

        return notifications()


@cache
def services() -> Services:
    return Services(settings())
