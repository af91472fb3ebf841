"""The environment a deployed function gets, for benchmarks that run the handlers in-process: the
template's own variables and defaults (read from template.yaml, as the tests do), with AWS kept away."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from tests import cfn  # noqa: E402

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/{}"
_NAMES = {
    "TasksTable": "tasks",
    "IdempotencyTable": "idempotency",
    "ValuesBucket": "values",
    **{f"{lane}Queue": QUEUE.format(lane.lower()) for lane in ("High", "Normal", "Low")},
}


def lambda_environment(lane: str) -> dict[str, str]:
    """Every variable the template sets for a function of `lane`, plus offline credentials."""
    # Every resource the environment names gets a stand-in name (tables, bucket), the queues a URL.
    stand_ins = {name: name.lower() for name in cfn.template()["Resources"]}
    arns = {name: f"arn:aws:lambda:us-east-1:123456789012:function:{name}" for name in stand_ins}
    stack = cfn.Stack(names={**stand_ins, **_NAMES}, arns=arns)
    return {
        # The schedules function's own settings too: its Scheduler client is made from them.
        **stack.environment("SchedulesFunction"),
        "LANE": lane,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
