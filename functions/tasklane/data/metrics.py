"""The stack's CloudWatch metrics GET /stats charts: tasklane's EMF counts and SQS's oldest-message age.

Where the stack runs on AWS, the processors' EMF lines become metrics in the `tasklane` namespace
with the dimensions lane, task_type and service. One GetMetricData request sums them over every
dimension (SEARCH inside SUM) and reads each lane's ApproximateAgeOfOldestMessage beside them.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.model.errors import ServiceUnavailable
from tasklane.model.lanes import Lane
from tasklane.records import record

NAMESPACE = "tasklane"
_DIMENSIONS = "{tasklane,lane,service,task_type}"


class MetricsUnavailable(ServiceUnavailable):
    """CloudWatch did not answer (after the SDK's retries)."""

    public_message = "CloudWatch did not answer; try again shortly"


@contextmanager
def _cloudwatch_errors() -> Any:
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise MetricsUnavailable(f"GetMetricData failed: {exc}") from exc


@record(slots=True)
class MetricSeries:
    """Sums per minute keyed by the minute's epoch seconds, and each lane's latest oldest-message age."""

    completed: dict[int, int]
    failed: dict[int, int]
    oldest_age: dict[Lane, int | None]


def _sum_of(metric: str) -> str:
    return f"SUM(SEARCH('{_DIMENSIONS} MetricName=\"{metric}\"', 'Sum', 60))"


class StackMetrics:
    def __init__(self, client: Any) -> None:
        self._cloudwatch = client

    def read(self, start: datetime, end: datetime, queue_names: dict[Lane, str]) -> MetricSeries:
        queries: list[dict[str, Any]] = [
            {"Id": "completed", "Expression": _sum_of("TaskCompleted"), "Period": 60},
            {"Id": "failed", "Expression": _sum_of("TaskFailed"), "Period": 60},
        ]
        for lane, name in queue_names.items():
            metric = {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [{"Name": "QueueName", "Value": name}],
            }
            queries.append(
                {"Id": f"age_{lane.value}", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Maximum"}}
            )
        results: dict[str, dict[int, float]] = {}
        request: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
        with _cloudwatch_errors():
            while True:
                answer = self._cloudwatch.get_metric_data(**request)
                for result in answer.get("MetricDataResults", []):
                    points = results.setdefault(result["Id"], {})
                    for moment, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                        points[int(moment.timestamp())] = value
                if not answer.get("NextToken"):
                    break
                request["NextToken"] = answer["NextToken"]

        def latest(points: dict[int, float]) -> int | None:
            return int(points[max(points)]) if points else None

        return MetricSeries(
            completed={k: int(v) for k, v in results.get("completed", {}).items()},
            failed={k: int(v) for k, v in results.get("failed", {}).items()},
            oldest_age={lane: latest(results.get(f"age_{lane.value}", {})) for lane in queue_names},
        )
