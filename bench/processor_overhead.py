"""Processor overhead per message: CPU time of tasklane's processor on batches of 10 no-op tasks, with
every AWS call answered by an in-process stub (no network), against a minimal hand-written loop that
makes the same AWS calls with raw botocore and the same client settings (retry mode, timeouts). The
stub's own time is measured and taken out of both. Runs in the Lambda-like environment of the cold
start benchmark: there botocore signs in Python, as in Lambda, not with awscrt."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/normal"


def _environment() -> dict[str, str]:
    """The deployed function's environment, read from the template here (the measuring child runs in a
    Lambda-like virtualenv without the template's YAML reader and gets it passed down)."""
    from bench.environment import lambda_environment

    lanes = dict.fromkeys(("HIGH_QUEUE_URL", "NORMAL_QUEUE_URL", "LOW_QUEUE_URL"), QUEUE_URL)
    return {**lambda_environment("normal"), **lanes}


BATCH, BATCHES, REPEATS = 10, 100, 5
OWNER = "arn:aws:iam::123456789012:user/bench"


def _item(task_id: str, status: str) -> dict[str, Any]:
    now = "2026-11-23T12:00:00.000Z"
    return {
        "task_id": {"S": task_id}, "owner": {"S": OWNER}, "created_key": {"S": f"{now}#000#{task_id}"},
        "task_type": {"S": "echo"}, "priority": {"S": "normal"}, "status": {"S": status},
        "payload": {"S": "{}"}, "attempts": {"N": "1"}, "max_attempts": {"N": "3"}, "timeout_seconds": {"N": "10"},
        "delay_seconds": {"N": "0"}, "created_at": {"S": now}, "updated_at": {"S": now}, "started_at": {"S": now},
        "lease_until": {"N": "9999999999"},
    }  # fmt: skip


class Stub:
    """Answers DynamoDB UpdateItem in-process, timing itself so its cost can be taken out."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        started = time.process_time()
        body = json.loads(request.body)
        status = "processing" if ":lease" in body.get("ExpressionAttributeValues", {}) else "completed"
        wanted = body.get("ReturnValues") == "ALL_NEW"
        answer = json.dumps({"Attributes": _item(body["Key"]["task_id"]["S"], status)} if wanted else {}).encode()
        response = AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.0"}, _Raw(answer))
        self.calls += 1
        self.seconds += time.process_time() - started
        return response


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body

    def read(self, *_: Any) -> bytes:
        return self.body


def _event(ids: list[str]) -> dict[str, Any]:
    records = []
    for task_id in ids:
        body = json.dumps(
            {"task_id": task_id, "owner": OWNER, "attempt": 1, "correlation_id": "c", "timeout_seconds": 10}
        )
        attributes = {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "x"}
        records.append({
            "messageId": task_id, "receiptHandle": "r", "body": body, "attributes": attributes,
            "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:normal", "awsRegion": "us-east-1",
        })  # fmt: skip
    return {"Records": records}


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "bench", 512, "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


def _tasklane(events: list[dict[str, Any]], stub: Stub) -> float:
    from tasklane.data import aws
    from tasklane.handlers import processor

    aws.dynamodb().meta.events.register_first("before-send.dynamodb", stub)
    started = time.process_time()
    for event in events:
        assert processor.lambda_handler(event, Context())["batchItemFailures"] == []
    return time.process_time() - started


def _record(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The exact DynamoDB requests tasklane makes for each message, so the floor makes the same ones."""
    from tasklane.data import aws

    calls: dict[str, list[dict[str, Any]]] = {}

    def keep(params: dict[str, Any], **_: Any) -> None:
        calls.setdefault(params["Key"]["task_id"]["S"], []).append(dict(params))

    aws.dynamodb().meta.events.register("provide-client-params.dynamodb.UpdateItem", keep)
    _tasklane(events, Stub())
    aws.dynamodb().meta.events.unregister("provide-client-params.dynamodb.UpdateItem", keep)
    return calls


def _baseline(events: list[dict[str, Any]], stub: Stub, calls: dict[str, list[dict[str, Any]]]) -> float:
    """The floor: a loop over the records that parses each message and makes the same two conditional
    UpdateItems with a plain botocore client, and nothing else."""
    import boto3

    from tasklane.data.aws import _CONFIG

    client = boto3.client("dynamodb", config=_CONFIG)
    client.meta.events.register_first("before-send.dynamodb", stub)
    started = time.process_time()
    for event in events:
        for record in event["Records"]:
            message = json.loads(record["body"])
            for params in calls[message["task_id"]]:
                client.update_item(**params)
    return time.process_time() - started


def measure() -> list[dict[str, object]]:
    """Run `_measure` in the Lambda-like environment and read its row back."""
    from bench.cold_start import lambda_python, package

    out = subprocess.run(  # noqa: S603
        [lambda_python(), __file__, "--json"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **_environment(), "PYTHONPATH": str(package())},  # the libraries as shipped
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _measure() -> list[dict[str, object]]:
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from tasklane import settings
    from tasklane.data import aws, services

    aws.reset()
    settings.settings.cache_clear()
    services.services.cache_clear()
    events = [_event([str(uuid.uuid4()) for _ in range(BATCH)]) for _ in range(BATCHES)]
    ours, floor = [], []
    with contextlib.redirect_stdout(io.StringIO()):
        from tasklane.observability import logger

        logger.registered_handler.setStream(io.StringIO())  # logs are written, as in Lambda, but not shown
        calls = _record(events)  # also warms first-use work (schemas, clients), which is cold start
        _baseline(events[:2], Stub(), calls)
        for _ in range(REPEATS):
            stub = Stub()
            ours.append((_tasklane(events, stub) - stub.seconds) / (BATCH * BATCHES))
            stub = Stub()
            floor.append((_baseline(events, stub, calls) - stub.seconds) / (BATCH * BATCHES))
    t, b = min(ours) * 1e6, min(floor) * 1e6
    return [
        {
            "figure": "processor CPU per no-op message, batches of 10, AWS stubbed (best of 5)",
            "tasklane": round(t),
            "reference": round(b),
            "unit": "us",
            "ratio": round(t / b, 2),
            "target": "<= 1.5",
        }
    ]


if __name__ == "__main__":
    if "--json" in sys.argv:
        print(json.dumps(_measure()))
    else:
        for row in measure():
            print(row)
