"""One logger for every module, and metrics dimensioned by lane and task type."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "tasklane"

logger = Logger(service="tasklane")


@dataclass(frozen=True)
class TaskMetrics:
    """EMF metrics with the dimensions {lane, task_type}; each is flushed on its own line."""

    lane: str
    task_type: str

    def _emit(self, name: str, unit: MetricUnit, value: float) -> None:
        with single_metric(
            name=name,
            unit=unit,
            value=value,
            namespace=NAMESPACE,
            default_dimensions={"lane": self.lane, "task_type": self.task_type},
        ):
            pass

    def add_count(self, name: str) -> None:
        self._emit(name, MetricUnit.Count, 1)

    def add_milliseconds(self, name: str, value: float) -> None:
        self._emit(name, MetricUnit.Milliseconds, value)


def metrics_for(lane: str, task_type: str) -> TaskMetrics:
    return TaskMetrics(str(lane), task_type)
