"""One logger for every module, and metrics dimensioned by lane and task type."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from tasklane import coldstart

NAMESPACE = "tasklane"

logger = Logger(service="tasklane")


def traced[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """Wrap a Lambda handler in Powertools Tracer when tracing is on. The X-Ray SDK costs about
    125 ms of cold start, so it is not even imported when the stack turns tracing off."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() == "true":
        return handler
    from aws_lambda_powertools import Tracer

    # Never the handler's answer in a trace: it carries payloads, results and webhook secrets.
    return Tracer(service="tasklane").capture_lambda_handler(  # type: ignore[return-value]
        handler, capture_response=False, capture_error=True
    )


class TaskMetrics:
    """EMF metrics with the dimensions {lane, task_type}. Counts are summed and durations collected
    until the flush, which writes them as one EMF line."""

    def __init__(self, lane: str, task_type: str) -> None:
        self._dimensions = {"lane": lane, "task_type": task_type}
        self._counts: dict[str, float] = {}
        self._milliseconds: dict[str, list[float]] = {}

    def add_count(self, name: str, value: float = 1) -> None:
        self._counts[name] = self._counts.get(name, 0) + value

    def add_milliseconds(self, name: str, value: float) -> None:
        self._milliseconds.setdefault(name, []).append(value)

    def flush(self) -> None:
        metrics = EphemeralMetrics(namespace=NAMESPACE, service="tasklane")
        for dimension, label in self._dimensions.items():
            metrics.add_dimension(dimension, label)
        for name, total in self._counts.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=total)
        for name, values in self._milliseconds.items():
            for value in values:
                metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)
        metrics.flush_metrics()


_pending: dict[tuple[str, str], TaskMetrics] = {}


def task_metrics(lane: str, task_type: str) -> TaskMetrics:
    """The metrics of this invocation for one lane and task type, written when the handler returns:
    a batch of ten tasks of one type is one EMF line, not forty."""
    key = (str(lane), task_type)
    if key not in _pending:
        _pending[key] = TaskMetrics(*key)
    return _pending[key]


def count(lane: str, task_type: str, name: str, value: float = 1) -> None:
    task_metrics(lane, task_type).add_count(name, value)


_throttled: dict[tuple[str, str], int] = {}


def throttled(task_type: str, owner: str) -> None:
    """Count a delivery held back, by task type and owner (its own EMF line: the owner is a dimension
    no other metric has)."""
    key = (task_type, owner)
    _throttled[key] = _throttled.get(key, 0) + 1


def flush_metrics() -> None:
    while _pending:
        _pending.popitem()[1].flush()
    while _throttled:
        (task_type, owner), total = _throttled.popitem()
        metrics = EphemeralMetrics(namespace=NAMESPACE, service="tasklane")
        metrics.add_dimension("task_type", task_type)
        metrics.add_dimension("owner", owner)
        metrics.add_metric(name="TaskThrottled", unit=MetricUnit.Count, value=total)
        metrics.flush_metrics()


def metered[F: Callable[..., Any]](handler: F) -> F:
    """Write the invocation's metrics when the handler returns or raises; the first invocation turns
    the garbage collector back on (tasklane.coldstart)."""

    @wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Any:
        coldstart.resume_collection()
        try:
            return handler(*args, **kwargs)
        finally:
            flush_metrics()

    return run  # type: ignore[return-value]
