"""Lane figures for `tasklane stats`: read from the stack's queues (SQS) and CloudWatch, with the
caller's AWS credentials (the API has no route for them)."""

from __future__ import annotations

from typing import Any

from tasklane_client.discovery import Target
from tasklane_client.errors import TasklaneError

LANES = ("high", "normal", "low")


def lane_stats(target: Target) -> list[dict[str, Any]]:
    if not target.outputs.get("HighQueueUrl"):
        raise TasklaneError("stats needs the stack's outputs: pass --stack-name (or run it against the local stack)")
    sqs = target.client("sqs")
    rows = []
    for lane in LANES:
        queue = sqs.get_queue_attributes(
            QueueUrl=target.outputs[f"{lane.capitalize()}QueueUrl"], AttributeNames=["All"]
        )["Attributes"]
        dead = sqs.get_queue_attributes(
            QueueUrl=target.outputs[f"{lane.capitalize()}DeadLetterQueueUrl"],
            AttributeNames=["ApproximateNumberOfMessages"],
        )["Attributes"]
        rows.append(
            {
                "lane": lane,
                "queued": int(queue.get("ApproximateNumberOfMessages", 0)),
                "in_flight": int(queue.get("ApproximateNumberOfMessagesNotVisible", 0)),
                "delayed": int(queue.get("ApproximateNumberOfMessagesDelayed", 0)),
                "dlq": int(dead.get("ApproximateNumberOfMessages", 0)),
                "oldest_age_s": oldest_age(target, target.outputs[f"{lane.capitalize()}QueueUrl"]),
            }
        )
    return rows


def oldest_age(target: Target, queue_url: str) -> int | None:
    """SQS publishes the age of a lane's oldest message to CloudWatch only (once a minute)."""
    from datetime import UTC, datetime, timedelta

    try:
        points = target.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": queue_url.rsplit("/", 1)[-1]}],
            StartTime=datetime.now(UTC) - timedelta(minutes=5),
            EndTime=datetime.now(UTC),
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
    except Exception:
        return None
    return int(max(points, key=lambda p: p["Timestamp"])["Maximum"]) if points else None
