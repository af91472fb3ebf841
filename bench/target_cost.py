"""Requests and dollars per million tasks of each kind of task type, counted on moto from submit to
completed, side by side in one run: the built-in `echo`, a url type run synchronously (a receiver on
127.0.0.1), a lambda type run synchronously (the Lambda API stubbed: it answers at once, and each
invocation is counted), and an async url type (the receiver answers 202; the task is completed by
`POST /tasks/{id}/complete` with the envelope's token).

Each kind runs one task first (a container's first task reads the type's definition and makes the
owner's secret), then TASKS tasks counted: what a warm container pays per task. DynamoDB capacity
is measured by bench/capacity.py (the item read before and after each write, the indexes' rules).
Priced as bench/cost.py prices a task: its list prices, its Lambda time per invocation, the event
source mapping's receive and delete per message (lanes delivering one at a time); plus the target's
run time, paid by the processor while it waits (sync kinds) and by the target function itself
(lambda), for each of RUN_SECONDS."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.capacity import CapacityMeter  # noqa: E402
from bench.cost import LAMBDA, PRICES, WRITE_UNITS  # noqa: E402

TASKS = 5
RUN_SECONDS = (0.1, 1.0)
TARGET_MB = 512  # the target function's memory (an assumption: the processor's default)
PROCESSOR_MB, PROCESSOR_MS = LAMBDA["processor_batch_of_10"]
SUBMIT_MB, SUBMIT_MS = LAMBDA["submit"]
ESM_REQUESTS = 2.0  # the mapping's ReceiveMessage and DeleteMessageBatch, lanes delivering one at a time
ARN = "arn:aws:lambda:us-east-1:123456789012:function:bench-target"
KINDS = ("echo", "url sync", "lambda sync", "async (url 202 + complete)")
SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


class _Receiver(BaseHTTPRequestHandler):
    """A target on 127.0.0.1: /sync answers its payload, /async accepts (202); keeps the last envelope."""

    last: ClassVar[dict[str, Any]] = {}

    def do_POST(self) -> None:
        envelope = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).last = envelope
        accepted = self.path == "/async"
        answer = b'{"accepted": true}' if accepted else json.dumps({"n": envelope["payload"]["n"]}).encode()
        self.send_response(202 if accepted else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


class _Functions:
    """The Lambda API as a target function answers at once; every invocation counted."""

    def __init__(self, calls: Counter[str]) -> None:
        self.calls = calls

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        import io

        self.calls["lambda:Invoke"] += 1
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(json.loads(Payload)["payload"]).encode())}


def count_requests() -> dict[str, Counter[str]]:  # noqa: PLR0915 (one kind after another)
    """Per kind: requests and capacity units per task (warm container), from submit to completed."""
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    import tests.conftest as harness
    from tasklane.data import aws
    from tests import cfn
    from tests.events import api_event

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    found: dict[str, Counter[str]] = {}
    saved = dict(os.environ)
    try:
        with mock_aws():
            session = boto3.Session(region_name="us-east-1")
            stack = cfn.build(session)
            os.environ.update(
                stack.environment(),
                POWERTOOLS_TRACE_DISABLED="true",
                CALLBACK_ALLOW_LOOPBACK="true",  # as on the local stack: the receiver is on 127.0.0.1
                TARGET_FUNCTION_ARNS="arn:aws:lambda:us-east-1:123456789012:function:bench-*",
            )
            harness._reset_caches()
            system = harness.Tasklane(stack, session)
            calls: Counter[str] = Counter()
            functions = _Functions(calls)
            client = lambda: functions  # noqa: E731
            client.cache_clear = lambda: None  # type: ignore[attr-defined]
            real_lambda_client, aws.lambda_client = aws.lambda_client, client  # type: ignore[assignment]
            meter = CapacityMeter(session.client("dynamodb"))
            meter.register(aws.dynamodb())

            def hook(model: Any, **_: Any) -> None:
                calls[f"{model.service_model.service_name}:{model.name}"] += 1

            for made in (aws.dynamodb(), aws.sqs(), aws.s3()):
                made.meta.events.register("before-call", hook)

            def api(event: dict[str, Any]) -> Any:
                calls["api"] += 1
                calls["invocation:submit"] += 1
                return system.call(event)

            targets = {
                "url sync": {"target": {"url": f"{base}/sync"}},
                "lambda sync": {"target": {"lambda": ARN}},
                "async (url 202 + complete)": {"target": {"url": f"{base}/async"}, "mode": "async"},
            }
            names = {"echo": "echo"}
            for i, (kind, target) in enumerate(targets.items()):
                names[kind] = f"bench-{i}"
                event = api_event("put_task_type", body={**target, "payload_schema": SCHEMA, "timeout_seconds": 20})
                event["pathParameters"], event["path"] = {"name": names[kind]}, f"/task-types/{names[kind]}"
                assert system.call(event).status == 201

            def one(kind: str, n: int) -> None:
                body = {"task_type": names[kind], "payload": {"n": n}}
                answer = api(api_event("submit_task", body=body, headers={"Idempotency-Key": None}))
                assert answer.status == 202, answer.body
                calls["invocation:processor"] += 1
                assert system.drain("normal") == 1
                task_id = answer.body["task_id"]
                if kind.startswith("async"):
                    token = _Receiver.last["completion"]["token"]
                    done = api_event("complete_task", owner=None, task_id=task_id, body={"token": token, "result": n})
                    assert api(done).status == 200
                status = system.item(task_id)["status"]["S"]  # the harness's own read, not counted
                assert status == "completed", (kind, status)

            for kind in KINDS:
                one(kind, 0)  # a container's first task of the kind
                calls.clear()
                meter.units.clear()
                for n in range(TASKS):
                    one(kind, n + 1)
                found[kind] = Counter({k: v / TASKS for k, v in (calls + meter.units).items()})
        harness._reset_caches()
    finally:
        server.shutdown()
        server.server_close()
        from tasklane.data import aws as restored

        if "real_lambda_client" in locals():
            restored.lambda_client = real_lambda_client  # type: ignore[assignment]
        restored.reset()
        os.environ.clear()
        os.environ.update(saved)  # the suites after this one see the environment they had
    return found


def dollars(counted: Counter[str], kind: str, run_seconds: float) -> dict[str, float]:
    """$ per million tasks: tasklane's bill, and the target function's own (lambda kinds)."""
    waits = kind in ("url sync", "lambda sync")
    gb_seconds = counted["invocation:submit"] * SUBMIT_MB / 1024 * SUBMIT_MS / 1000 + counted[
        "invocation:processor"
    ] * PROCESSOR_MB / 1024 * (PROCESSOR_MS / 1000 + (run_seconds if waits else 0))
    sqs = sum(v for k, v in counted.items() if k.startswith("sqs:")) + ESM_REQUESTS
    invocations = counted["invocation:submit"] + counted["invocation:processor"]
    ours = (
        counted["api"] * PRICES["api_gateway_rest_per_million"]
        + invocations * PRICES["lambda_requests_per_million"]
        + gb_seconds * PRICES["lambda_gb_second_arm64"] * 1e6
        + sqs * PRICES["sqs_standard_per_million"]
        + counted["write"] * PRICES["dynamodb_write_units_per_million"]
        + counted["read"] * PRICES["dynamodb_read_units_per_million"]
    )
    target = counted["lambda:Invoke"] * (
        PRICES["lambda_requests_per_million"] + TARGET_MB / 1024 * run_seconds * PRICES["lambda_gb_second_arm64"] * 1e6
    )
    return {"tasklane": ours, "target": target}


def processor_wait_per_second() -> float:
    """$ per million tasks for each second the processor waits on a target."""
    return PROCESSOR_MB / 1024 * PRICES["lambda_gb_second_arm64"] * 1e6


def measure() -> list[dict[str, object]]:
    counted = count_requests()
    echo = counted["echo"]
    rows: list[dict[str, object]] = []

    def aws_requests(c: Counter[str]) -> float:
        return sum(v for k, v in c.items() if k.split(":")[0] in ("dynamodb", "sqs", "s3", "lambda", "api"))

    for kind in KINDS:
        c = counted[kind]
        detail = ", ".join(f"{k} {v:g}" for k, v in sorted(c.items()) if v)
        rows.append(
            {
                "figure": f"requests per task the code makes, {kind} vs echo (API, DynamoDB, SQS, Lambda Invoke)",
                "tasklane": round(aws_requests(c), 2),
                "reference": round(aws_requests(echo), 2),
                "ratio": round(aws_requests(c) / aws_requests(echo), 2),
                "unit": "requests",
                "detail": detail,
            }
        )
        rows.append(
            {
                "figure": f"DynamoDB write / read units per task, {kind} (measured by the index rules)",
                "tasklane": f"{c['write']:g} / {c['read']:g}",
                "reference": f"{echo['write']:g} / {echo['read']:g}",
                "unit": "units",
            }
        )
    by_hand = WRITE_UNITS["PutItem"] + WRITE_UNITS["UpdateItem:claim"] + WRITE_UNITS["UpdateItem:complete"]
    rows.append(
        {
            "figure": "DynamoDB write units per echo task, measured vs bench/cost.py's WRITE_UNITS",
            "tasklane": echo["write"],
            "reference": by_hand,
            "ratio": round(echo["write"] / by_hand, 2),
            "unit": "units",
        }
    )
    for seconds in RUN_SECONDS:
        base = dollars(echo, "echo", seconds)["tasklane"]
        for kind in KINDS[1:]:
            cost = dollars(counted[kind], kind, seconds)
            paid = f"; + the target function's own ${cost['target']:.2f}" if cost["target"] else ""
            rows.append(
                {
                    "figure": f"$ per million tasks, {kind}, target runs {seconds * 1000:g} ms, vs echo{paid}",
                    "tasklane": round(cost["tasklane"], 2),
                    "reference": round(base, 2),
                    "ratio": round(cost["tasklane"] / base, 2),
                    "unit": "USD",
                }
            )
    # Sync costs rise with the target's run time (the processor waits); async's do not: they cross here.
    fixed_async = dollars(counted[KINDS[3]], KINDS[3], 0)["tasklane"]
    for kind in ("url sync", "lambda sync"):
        fixed_sync = dollars(counted[kind], kind, 0)["tasklane"]
        crossing = (fixed_async - fixed_sync) / processor_wait_per_second()
        rows.append(
            {
                "figure": f"async is cheaper than {kind} for targets running longer than (processor {PROCESSOR_MB} MB)",
                "tasklane": round(crossing * 1000),
                "unit": "ms",
            }
        )
    return rows


if __name__ == "__main__":
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        result = measure()
    for row in result:
        print(row)
