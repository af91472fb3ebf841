"""AWS requests per task, counted (not estimated) on moto from submit to completed."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@contextmanager
def counted_stack(**env: str) -> Iterator[tuple[Any, Counter[tuple[str, str]]]]:
    """The stack on moto in this process (the tests' harness), and a counter of every DynamoDB and SQS
    request its functions make, by (service, operation)."""
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    import tests.conftest as harness
    from tasklane.data import aws
    from tests import cfn

    calls: Counter[tuple[str, str]] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[(model.service_model.service_name, model.name)] += 1

    with mock_aws():
        stack = cfn.build(boto3.Session(region_name="us-east-1"))
        os.environ.update(stack.environment(), POWERTOOLS_TRACE_DISABLED="true", **env)
        harness._reset_caches()
        system = harness.Tasklane(stack, boto3.Session(region_name="us-east-1"))
        aws.dynamodb().meta.events.register("before-call", count)
        aws.sqs().meta.events.register("before-call", count)
        yield system, calls
    harness._reset_caches()


def measure() -> list[dict[str, object]]:
    from tests.events import api_event

    rows: list[dict[str, object]] = []
    # As on the local stack: the cost scenarios use the demo type `fail`.
    with counted_stack(DEMO_TASK_TYPES="true") as (system, calls):

        def figures(label: str, tasks: int) -> None:
            ddb_writes = sum(n for (svc, op), n in calls.items() if svc == "dynamodb" and op in WRITES)
            ddb_all = sum(n for (svc, _), n in calls.items() if svc == "dynamodb")
            sqs_sends = sum(n for (svc, op), n in calls.items() if svc == "sqs" and op.startswith("SendMessage"))
            sqs_all = sum(n for (svc, _), n in calls.items() if svc == "sqs")
            detail = ", ".join(f"{op} {n}" for (_, op), n in sorted(calls.items()))
            rows.append(
                {"figure": f"{label}: DynamoDB writes / task", "tasklane": ddb_writes / tasks, "detail": detail}
            )
            rows.append({"figure": f"{label}: DynamoDB requests / task", "tasklane": ddb_all / tasks})
            rows.append({"figure": f"{label}: SQS sends / task", "tasklane": sqs_sends / tasks})
            rows.append({"figure": f"{label}: SQS requests / task (API side)", "tasklane": sqs_all / tasks})

        from tests.events import sqs_event

        def one_task(label: str, task_type: str, payload: dict[str, Any]) -> None:
            event = api_event(
                "submit_task", body={"task_type": task_type, "payload": payload}, headers={"Idempotency-Key": None}
            )
            calls.clear()
            assert system.call(event).status == 202
            # The harness receives with its own client (the event source mapping's work, not ours) ...
            messages = system.sqs.receive_message(QueueUrl=system.queue_url("normal"), AttributeNames=["All"])
            received = messages["Messages"]
            system.use_lane("normal")
            response = system._processor.lambda_handler(sqs_event(received), system.context)
            assert response["batchItemFailures"] == []
            task_id = json.loads(received[0]["Body"])["task_id"]
            assert system.item(task_id)["status"]["S"] == "completed"
            figures(label, 1)

        one_task("POST /tasks, submit -> completed", "echo", {"a": 1})
        # A rate-limited type (send_email, 5/s): its start is granted in the claim's own transaction.
        one_task(
            "POST /tasks, rate-limited type, submit -> completed",
            "send_email",
            {"to": "ada@example.com", "subject": "hi"},
        )

        calls.clear()
        body = {"tasks": [{"task_type": "echo", "payload": {"i": i}} for i in range(100)]}
        assert system.call(api_event("submit_batch", body=body)).status == 202
        figures("POST /tasks/batch x100, submit step", 100)
    return rows


if __name__ == "__main__":
    for row in measure():
        print(row)
