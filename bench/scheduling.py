"""Scheduled tasks, measured: AWS requests per scheduled task (counted on moto, from submission to
promotion), and the promoter's time per 1,000 due tasks, on moto and against the local stack's
DynamoDB and SQS when it runs. These are the figures docs/scaling.md prices."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.requests_per_task import counted_stack  # noqa: E402

TASKS = 1000


def _submit_scheduled(call: Any, event: Any, seconds: int) -> None:
    """TASKS tasks due `seconds` from now, in batches of 100 (each a scheduled task)."""
    for start in range(0, TASKS, 100):
        body = {"tasks": [{"task_type": "echo", "delay_seconds": seconds + i} for i in range(start, start + 100)]}
        answer = call(event("submit_batch", body=body, headers={"Idempotency-Key": None}))
        assert answer.status == 202
        assert all(r["task"]["status"] == "scheduled" for r in answer.body["results"])


def _on_moto() -> list[dict[str, object]]:
    from tasklane.data.services import services
    from tasklane.logic.promotion import promote_due
    from tasklane.model import clock
    from tests.events import api_event

    rows: list[dict[str, object]] = []
    with counted_stack() as (system, calls):
        one = api_event(
            "submit_task", body={"task_type": "echo", "delay_seconds": 3600}, headers={"Idempotency-Key": None}
        )
        assert system.call(one).status == 202
        rows.append(_row("POST /tasks of one scheduled task: requests", calls, 1))
        calls.clear()
        _submit_scheduled(system.call, api_event, 3600)
        rows.append(_row("POST /tasks/batch of scheduled tasks: requests / task", calls, TASKS))
        calls.clear()
        real_now = clock.now
        clock.now = lambda: real_now() + timedelta(seconds=3600 + TASKS)  # type: ignore[method-assign]
        try:
            started = time.perf_counter()
            report = promote_due(services())
            elapsed = time.perf_counter() - started
        finally:
            clock.now = real_now  # type: ignore[method-assign]
        assert report.promoted == TASKS + 1, report
        rows.append(_row("promotion: requests / task", calls, TASKS + 1))
        rows.append(
            {
                "figure": "promoter: time per 1,000 due tasks (moto, in process)",
                "tasklane": round(elapsed * 1000 / (TASKS + 1) * 1000),
                "unit": "ms",
            }
        )
    return rows


def _row(label: str, calls: Counter[tuple[str, str]], tasks: int) -> dict[str, object]:
    detail = ", ".join(f"{op} {n / tasks:.3g}" for (_, op), n in sorted(calls.items()))
    return {"figure": label, "tasklane": round(sum(calls.values()) / tasks, 3), "detail": detail}


def _on_local_stack() -> list[dict[str, object]]:
    """The promoter's code in this process, against the local stack's table and lanes (HTTP)."""
    from scripts import localstack

    emulator = localstack.Emulator()
    if not emulator.healthy():
        return []
    for key, value in emulator.aws_env.items():
        os.environ[key] = value
    outputs = localstack.outputs()
    import boto3

    from bench.environment import lambda_environment
    from tasklane import settings
    from tasklane.data import aws, services
    from tasklane.logic.promotion import promote_due
    from tasklane.model import clock

    os.environ.update(lambda_environment("normal"))
    os.environ.update(
        TABLE_NAME=outputs.raw["TasksTableName"],
        **{f"{lane}_QUEUE_URL": outputs.raw[f"{lane.capitalize()}QueueUrl"] for lane in ("HIGH", "NORMAL", "LOW")},
    )
    for key, value in emulator.aws_env.items():
        os.environ[key] = value
    settings.settings.cache_clear()
    services.services.cache_clear()
    aws.reset()
    session = boto3.Session(region_name="us-east-1")
    dynamodb = session.client("dynamodb")
    # Items written as a scheduled submission writes them (the API would add its own time per request).
    from tasklane.data.tasks.codec import StoredTask, StoredValue, new_item
    from tasklane.model.lanes import Lane
    from tasklane.model.task import Task, TaskStatus

    layout = services.services().layout
    now = clock.now()
    for i in range(TASKS):
        run_at = clock.iso(now + timedelta(seconds=7200 + i))
        task = Task(
            task_id=__import__("uuid").uuid4().__str__(),
            task_type="echo",
            priority=Lane.LOW,
            status=TaskStatus.SCHEDULED,
            payload={},
            max_attempts=3,
            timeout_seconds=30,
            delay_seconds=7200 + i,
            run_at=run_at,
            created_at=clock.iso(now),
            updated_at=clock.iso(now),
        )
        item = new_item(StoredTask(task, "bench-owner"), None, StoredValue(2, text="{}"), layout)
        dynamodb.put_item(TableName=layout.table_name, Item=item)
    real_now = clock.now
    clock.now = lambda: real_now() + timedelta(seconds=7200 + TASKS)  # type: ignore[method-assign]
    try:
        started, cpu = time.perf_counter(), time.process_time()
        report = promote_due(services.services())
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        clock.now = real_now  # type: ignore[method-assign]
    per_thousand = 1000 * 1000 / max(1, report.promoted)
    return [
        {
            "figure": "promoter: time per 1,000 due tasks (local stack over HTTP, 32 shards in parallel)",
            "tasklane": round(elapsed * per_thousand),
            "unit": "ms",
            "detail": str(report.summary()),
        },
        {
            # The promoter's own CPU (botocore building and signing requests): what bounds one
            # invocation on AWS, where each request's wait is network, not CPU.
            "figure": "promoter: its own CPU per 1,000 due tasks (local stack)",
            "tasklane": round(cpu * per_thousand),
            "unit": "ms",
        },
    ]


def measure() -> list[dict[str, object]]:
    return _on_moto() + _on_local_stack()


if __name__ == "__main__":
    for row in measure():
        print(row)
