"""One logger for every module, and metrics dimensioned by lane and task type."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "tasklane"

logger = Logger(service="tasklane")


def traced[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """Wrap a Lambda handler in Powertools Tracer when tracing is on. The X-Ray SDK costs about
    125 ms of cold start, so it is not even imported when the stack turns tracing off."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() == "true":
        return handler
    from aws_lambda_powertools import Tracer

    return Tracer(service="tasklane").capture_lambda_handler(handler)  # type: ignore[return-value]


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
