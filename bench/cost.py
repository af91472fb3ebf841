"""AWS requests and dollars per million tasks, counted on moto, priced at published us-east-1 rates.

Requests are counted from the calls the functions make (botocore hooks), for: a single submit run to
completion, a batch submit of 100, one status poll, an explicit retry, and a dead-letter. DynamoDB
write units add the index writes each change causes (see WRITE_UNITS). docs/cost.md explains it."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

# us-east-1 list prices, read 2026-11-23 from the AWS pricing pages (first tier, no free tier).
PRICES = {
    "api_gateway_rest_per_million": 3.50,
    "lambda_requests_per_million": 0.20,
    "lambda_gb_second_arm64": 0.0000133334,
    "sqs_standard_per_million": 0.40,  # each 64 KiB chunk of a payload is one request
    "dynamodb_write_units_per_million": 0.625,  # on-demand
    "dynamodb_read_units_per_million": 0.125,  # on-demand; a strongly consistent read of <= 4 KB is 1
}
PRICES_DATE = "2026-11-23"

# Write units of each write of a small task item (< 1 KB), counting the indexes:
# ByOwner (owner_shard, created_key; projects only task_type, priority, created_at, which never
# change, so only the put writes it), ByType (type_shard, created_key; projects priority: likewise
# written once, by the put), BySchedule (sparse: only a schedule's firings carry its key, so it is
# priced with the schedules, not here) and Sweep (sweep_shard, sweep_at; sparse: only unfinished
# tasks carry its key). An update that changes an index's key is a delete plus a put there (2); one that
# changes only projected attributes is 1; one that changes neither is 0; entering or leaving a
# sparse index is 1.
WRITE_UNITS = {
    "PutItem": 1 + 1 + 1 + 1,  # table, ByOwner, ByType, Sweep (enters)
    # status -> processing: the sweep time stays, but Sweep projects status, attempts and lease_until,
    # so its entry is rewritten (bench/target_cost.py measures this by the index rules)
    "UpdateItem:claim": 1 + 0 + 1,
    "UpdateItem:complete": 1 + 0 + 1,  # status -> completed; leaves Sweep
    "UpdateItem:retry": 1 + 0 + 2,
    "UpdateItem:fail": 1 + 0 + 1,
    "UpdateItem:redrive": 1 + 0 + 2,
    "UpdateItem:requeue": 1 + 0 + 1,  # failed -> pending; enters Sweep again
    "BatchWriteItem": 4,  # per item, as PutItem
}
# Read units: a strongly consistent read of <= 4 KB is 1, an eventually consistent one 0.5; a Query
# is charged on the bytes it reads, each listing's shard query reads well under 4 KB of keys.
READ_UNITS = {"GetItem": 1.0, "Query": 0.5, "BatchGetItem:items": 0.5}

# Lambda time per invocation (ms, arm64) at the template's memory: measured on the local stack and
# rounded up; Lambda bills per ms.
LAMBDA = {"submit": (256, 25), "status": (256, 10), "processor_batch_of_10": (512, 60), "dead_letter": (256, 10)}


def count_requests() -> dict[str, Counter[str]]:  # noqa: PLR0915 (one scenario after another)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    import tests.conftest as harness
    from tasklane.data import aws
    from tests import cfn
    from tests.events import api_event, sqs_event

    scenarios: dict[str, Counter[str]] = {}
    with mock_aws():
        stack = cfn.build(boto3.Session(region_name="us-east-1"))
        # As on the local stack: the cost scenarios use the demo type `fail`.
        os.environ.update(stack.environment(), POWERTOOLS_TRACE_DISABLED="true", DEMO_TASK_TYPES="true")
        harness._reset_caches()
        system = harness.Tasklane(stack, boto3.Session(region_name="us-east-1"))
        calls: Counter[str] = Counter()

        def hook(model: Any, params: dict[str, Any], **_: Any) -> None:  # API parameters, before serialising
            name = model.name
            if name == "UpdateItem":
                values = params.get("ExpressionAttributeValues", {})
                markers = [(":lease", "claim"), (":completed", "complete"), (":cid", "requeue"), (":max", "redrive")]
                markers += [(":failed", "fail"), (":error", "retry")]
                kind = next((kind for marker, kind in markers if marker in values), "other")
                name = f"UpdateItem:{kind}"
            if name == "BatchWriteItem":
                calls["BatchWriteItem:items"] += sum(len(v) for v in params["RequestItems"].values())
            if name == "BatchGetItem":
                calls["BatchGetItem:items"] += sum(len(v["Keys"]) for v in params["RequestItems"].values())
            calls[f"{model.service_model.service_name}:{name}"] += 1

        aws.dynamodb().meta.events.register("before-parameter-build", hook)
        aws.sqs().meta.events.register("before-parameter-build", hook)

        def scenario(name: str, run: Any) -> None:
            calls.clear()
            run()
            scenarios[name] = Counter(calls)

        def single() -> None:
            body = {"task_type": "echo", "payload": {"a": 1}}
            system.call(api_event("submit_task", body=body, headers={"Idempotency-Key": None}))
            received = system.sqs.receive_message(QueueUrl=system.queue_url("normal"), AttributeNames=["All"])[
                "Messages"
            ]
            system.use_lane("normal")
            system._processor.lambda_handler(sqs_event(received), system.context)
            system.sqs.delete_message(QueueUrl=system.queue_url("normal"), ReceiptHandle=received[0]["ReceiptHandle"])
            scenario_state["task_id"] = json.loads(received[0]["Body"])["task_id"]

        scenario_state: dict[str, str] = {}
        scenario("single submit, run to completion", single)
        body = {"tasks": [{"task_type": "echo", "payload": {"i": i}} for i in range(100)]}
        scenario("batch submit of 100 (submit step)", lambda: system.call(api_event("submit_batch", body=body)))
        scenario("one status poll", lambda: system.call(api_event("get_task", task_id=scenario_state["task_id"])))
        scenario(
            "a listing page of 20 (of 100 tasks)", lambda: system.call(api_event("list_tasks", query={"limit": "20"}))
        )

        def failed_then_retried() -> None:
            task = system.call(
                api_event(
                    "submit_task", body={"task_type": "fail", "max_attempts": 1}, headers={"Idempotency-Key": None}
                )
            ).body
            system.drain("normal")
            calls.clear()
            system.call(api_event("retry_task", task_id=task["task_id"]))

        scenario("explicit retry (the retry call)", failed_then_retried)

        def dead_letter() -> None:
            system.call(api_event("submit_task", body={"task_type": "echo"}, headers={"Idempotency-Key": None}))
            message = system.receive("normal")[0]
            system.sqs.send_message(QueueUrl=system.queue_url("normal", dead=True), MessageBody=message["Body"])
            calls.clear()
            system.dead_letters("normal")

        scenario("a dead letter (of a task that never ran)", dead_letter)
    return scenarios


def dollars_per_million(
    scenario: Counter[str], api_requests: float, invocations: dict[str, float], tasks: int
) -> float:
    """The cost of one million runs of a scenario that concerns `tasks` tasks, divided per task."""
    wcu = sum(
        WRITE_UNITS.get(k.split(":", 1)[1], 0) * n
        for k, n in scenario.items()
        if k.startswith("dynamodb:") and "BatchWriteItem" not in k
    )
    wcu += WRITE_UNITS["BatchWriteItem"] * scenario.get("BatchWriteItem:items", 0)
    rcu = sum(
        READ_UNITS[k.removeprefix("dynamodb:")] * n
        for k, n in scenario.items()
        if k.removeprefix("dynamodb:") in READ_UNITS
    )
    sqs = sum(n for k, n in scenario.items() if k.startswith("sqs:"))
    lam_requests = sum(invocations.values())
    gb_seconds = sum(n * LAMBDA[f][0] / 1024 * LAMBDA[f][1] / 1000 for f, n in invocations.items())
    cost = (
        api_requests * PRICES["api_gateway_rest_per_million"]
        + lam_requests * PRICES["lambda_requests_per_million"]
        + gb_seconds * PRICES["lambda_gb_second_arm64"] * 1e6
        + sqs * PRICES["sqs_standard_per_million"]
        + wcu * PRICES["dynamodb_write_units_per_million"]
        + rcu * PRICES["dynamodb_read_units_per_million"]
    )
    return cost / tasks


def measure() -> list[dict[str, object]]:
    scenarios = count_requests()
    rows: list[dict[str, object]] = []
    for name, calls in scenarios.items():
        rows.append(
            {
                "figure": f"requests: {name}",
                "tasklane": ", ".join(f"{k} {v}" for k, v in sorted(calls.items())),
                "unit": "",
            }
        )
    # The event source mapping's own SQS work per message: a receive and a delete, each shared by a batch.
    esm_per_task_single, esm_per_task_batched = 2.0, 0.2
    single = scenarios["single submit, run to completion"] + Counter({"sqs:esm": esm_per_task_single})
    ours_single = dollars_per_million(single, 1, {"submit": 1, "processor_batch_of_10": 1}, 1)
    batch = scenarios["batch submit of 100 (submit step)"] + Counter(
        {"sqs:esm": esm_per_task_batched * 100, "dynamodb:UpdateItem:claim": 100, "dynamodb:UpdateItem:complete": 100}
    )
    ours_batch = dollars_per_million(batch, 1, {"submit": 1, "processor_batch_of_10": 10}, 100)
    # The floor: any design with a status record stores the task, queues it, and records its outcome:
    # one API request, one put and one final write (no indexes), one send, a batch's share of the
    # receive and delete, one submit and a share of a processor invocation.
    floor_single = (
        dollars_per_million(
            Counter({"dynamodb:floor_put": 1, "dynamodb:floor_final": 1, "sqs:SendMessage": 1, "sqs:esm": 2}),
            1,
            {"submit": 1, "processor_batch_of_10": 1},
            1,
        )
        + 2 * PRICES["dynamodb_write_units_per_million"]
    )
    floor_batch = dollars_per_million(
        Counter({"sqs:SendMessageBatch": 10, "sqs:esm": 20}), 1, {"submit": 1, "processor_batch_of_10": 10}, 100
    ) + (2 * PRICES["dynamodb_write_units_per_million"])
    poll = dollars_per_million(scenarios["one status poll"], 1, {"status": 1}, 1)
    listing = dollars_per_million(scenarios["a listing page of 20 (of 100 tasks)"], 1, {"status": 1}, 1)
    # The round-2 targets ($9.70, $4.20) plus the one write unit per task of the ByType index, which a
    # filled filtered page needs (docs/cost.md, "Listing"): a target moved by exactly what was asked.
    by_type = PRICES["dynamodb_write_units_per_million"]
    single_target, batch_target = 9.70 + by_type, 4.20 + by_type
    rows += [
        {
            "figure": "$ per million tasks, single submit (batch of 1 in the lane)",
            "tasklane": round(ours_single, 2),
            "reference": round(floor_single, 2),
            "unit": "USD",
            "ratio": round(ours_single / floor_single, 2),
            "target": f"<= {single_target:.2f} (9.70 + ByType)",
            "pass": ours_single <= single_target,
        },
        {
            "figure": "$ per million tasks, batch submit of 100 (lanes batch 10)",
            "tasklane": round(ours_batch, 2),
            "reference": round(floor_batch, 2),
            "unit": "USD",
            "ratio": round(ours_batch / floor_batch, 2),
            "target": f"<= {batch_target:.2f} (4.20 + ByType)",
            "pass": ours_batch <= batch_target,
        },
        {"figure": "$ per million status polls", "tasklane": round(poll, 2), "unit": "USD"},
        {
            "figure": "$ per million listing pages of 20 (8 shard queries of keys + BatchGetItem of the page)",
            "tasklane": round(listing, 2),
            "unit": "USD",
        },
    ]
    return rows


if __name__ == "__main__":
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        result = measure()
    for row in result:
        print(row)
