"""Dollars per million uses of each feature on top of a task's own cost, from the requests each one
makes by its design (S3 for large values counted in docs/cost.md; the others are estimates from
their designs, marked as such, until they are measured like bench/cost.py measures the task).

Prices: bench/cost.py's, plus S3 Standard, EventBridge and EventBridge Scheduler (us-east-1 list
prices, first tier, read 2026-11-25). Each figure says what it assumes."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cost import PRICES

S3_PUT_PER_MILLION = 5.00  # $0.005 per 1,000 PUT/COPY/POST/LIST
S3_GET_PER_MILLION = 0.40  # $0.0004 per 1,000 GET
EVENTBRIDGE_PUT_EVENTS_PER_MILLION = 1.00  # custom events, per 64 KB chunk of an entry
SCHEDULER_PER_MILLION = 1.00  # EventBridge Scheduler invocations (one-time schedules included)

WRITE = PRICES["dynamodb_write_units_per_million"]
READ = PRICES["dynamodb_read_units_per_million"]
LAMBDA_REQUEST = PRICES["lambda_requests_per_million"]
SQS = PRICES["sqs_standard_per_million"]


def lambda_time(memory_mb: int, ms: float) -> float:
    """$ per million invocations of `ms` at `memory_mb` (arm64)."""
    return memory_mb / 1024 * ms / 1000 * PRICES["lambda_gb_second_arm64"] * 1e6


def features() -> list[tuple[str, float, str]]:
    """(feature, $ per million uses, what it assumes)."""
    events_batch = 100  # stream records per invocation of the events function (its batch size)
    return [
        (
            "a payload over 64 KiB (counted)",
            S3_PUT_PER_MILLION + S3_GET_PER_MILLION,
            "one PutObject at submit, one GetObject at the run; storage apart ($0.023 per GB-month)",
        ),
        (
            "a result over 64 KiB (counted)",
            S3_PUT_PER_MILLION + S3_GET_PER_MILLION,
            "one PutObject; one GET per read (the client's own when redirected)",
        ),
        (
            "completion events (estimate from the design)",
            EVENTBRIDGE_PUT_EVENTS_PER_MILLION + (LAMBDA_REQUEST + lambda_time(256, 100)) / events_batch,
            f"stream reads free for a Lambda trigger; one events invocation of 100 ms per {events_batch} "
            "finished tasks (the mapping's filter passes only finishes); PutEvents $1 per million entries",
        ),
        (
            "a webhook delivery (estimate from the design)",
            3 * SQS + LAMBDA_REQUEST + lambda_time(256, 300),
            "SQS send, receive and delete (batch of 1), one webhook invocation of 300 ms waiting on the "
            "callback; data transfer out apart",
        ),
        (
            "a wait of 10 s for a task (GET ?wait=20, finished after 10 s; estimate from the design)",
            lambda_time(256, 10_000) + 15 * READ * 1 + PRICES["api_gateway_rest_per_million"] + LAMBDA_REQUEST,
            "one API request; the status function held 10 s at 256 MB; a strongly consistent GetItem every "
            "~0.7 s (15). Polling once a second instead: 10 polls = 10x the status poll's price",
        ),
        (
            "a scheduled task, EventBridge Scheduler one-time schedule (estimate from the design)",
            SCHEDULER_PER_MILLION + 2 * WRITE,
            "one schedule invocation ($1 per million) and the write that moves the task from scheduled to "
            "pending (1 unit + entering Sweep)",
        ),
        (
            "a scheduled task, a sparse run_at index swept every minute (estimate from the design)",
            2 * WRITE + 2 * WRITE + 0.5 * READ,
            "entering and leaving the index (2 units), the write to pending (2), its share of the sweep's "
            "queries; the schedules function's minute runs are a fixed ~$0.02 a month, not per task",
        ),
    ]


def measure() -> list[dict[str, object]]:
    return [
        {"figure": f"$ per million uses: {name}", "tasklane": round(dollars, 2), "unit": "USD", "assumes": assumes}
        for name, dollars, assumes in features()
    ]


if __name__ == "__main__":
    for row in measure():
        print(row)
