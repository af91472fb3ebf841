"""Rate limits and fair share on the local stack (ministack on this machine, not AWS):
(a) 100 `send_email` tasks at its 5/s: the most starts in any one-second window, and the total time
against 100/5 s; (b) owner A floods the normal lane with 2,000 tasks, then owner B submits 20: how
long B's tasks wait, against the same 20 on an idle lane. (b) runs with OwnerConcurrencyCap=2 on a
stack redeployed for it; the emulator does not emulate SQS fair queues, so the cap is what is measured."""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.local_stack import _statuses  # noqa: E402
from scripts import localstack  # noqa: E402
from tests.e2e.conftest import Caller  # noqa: E402

NOTE = "local stack (ministack emulator on this machine)"
CAP = 2


def _wait(session: Any, table: str, ids: set[str], timeout: float = 900) -> dict[str, dict[str, Any]]:
    deadline, found = time.monotonic() + timeout, {}
    while True:
        found = _statuses(session, table, ids)
        if all(s["status"] == "completed" for s in found.values()) and len(found) == len(ids):
            return found
        if time.monotonic() > deadline:
            raise RuntimeError("tasks not completed in time")
        time.sleep(0.5)


def _submit(caller: Caller, items: list[dict[str, Any]]) -> list[str]:
    ids = []
    for start in range(0, len(items), 100):
        answer = caller.request("POST", "/tasks/batch", json={"tasks": items[start : start + 100]})
        ids += [r["task"]["task_id"] for r in answer.json()["results"]]
    return ids


def email_rate(caller: Caller, session: Any, table: str) -> tuple[int, float]:
    """The most starts in any one-second window, and the seconds from the first start to the last."""
    items = [{"task_type": "send_email", "payload": {"to": f"u{i}@example.com", "subject": "s"}} for i in range(100)]
    ids = _submit(caller, items)
    _wait(session, table, set(ids))
    tasks = [caller.get(t) for t in ids]
    starts = sorted(datetime.fromisoformat(t["started_at"]).timestamp() for t in tasks)
    busiest = max(sum(1 for s in starts if first <= s < first + 1) for first in starts)
    return busiest, starts[-1] - starts[0]


def b_wait(b: Caller, session: Any, table: str) -> float:
    """Median seconds from submit to completed of owner B's 20 tasks."""
    submitted = time.time()
    ids = _submit(b, [{"task_type": "echo", "payload": {"b": i}} for i in range(20)])
    done = _wait(session, table, set(ids))
    return statistics.median(datetime.fromisoformat(s["finished_at"]).timestamp() - submitted for s in done.values())


def measure() -> list[dict[str, object]]:
    started = localstack.start()
    try:
        localstack.deploy(quiet=True)
        outputs, session = localstack.outputs(), localstack._aws()
        table = outputs.raw["TasksTableName"]
        a = Caller(outputs.api_url, outputs.api_key, requests.Session())
        busiest, span = email_rate(a, session, table)
        localstack.deploy(quiet=True, overrides=f"OwnerConcurrencyCap={CAP}")
        apigateway = session.client("apigateway")
        key = apigateway.create_api_key(name=f"bench-b-{uuid.uuid4().hex[:8]}", enabled=True)
        plan = next(p["id"] for p in apigateway.get_usage_plans()["items"] if p["name"].startswith("tasklane-"))
        apigateway.create_usage_plan_key(usagePlanId=plan, keyId=key["id"], keyType="API_KEY")
        b = Caller(outputs.api_url, key["value"], requests.Session())
        idle = b_wait(b, session, table)
        _submit(a, [{"task_type": "sleep", "payload": {"seconds": 0.2}} for _ in range(2000)])
        flooded = b_wait(b, session, table)
        # What is left of the flood would weigh on the suites that follow.
        session.client("sqs").purge_queue(QueueUrl=outputs.raw["NormalQueueUrl"])
        localstack.deploy(quiet=True, overrides="OwnerConcurrencyCap=0")  # back (sam deploy keeps earlier values)
    finally:
        if started:
            localstack.stop()
    return [
        {
            "figure": f"send_email starts in the busiest second of 100 (5/s, no burst) ({NOTE})",
            "tasklane": busiest,
            "unit": "tasks",
            "target": "<= 5",
        },
        {
            "figure": f"100 send_email, first start to last vs 99/5 s ({NOTE})",
            "tasklane": round(span, 1),
            "reference": 19.8,
            "ratio": round(span / 19.8, 2),
            "unit": "s",
            "target": "within 20%",
        },
        {
            "figure": f"owner B's 20 tasks behind owner A's 2,000 vs idle, OwnerConcurrencyCap={CAP} ({NOTE})",
            "tasklane": round(flooded, 2),
            "reference": round(idle, 2),
            "ratio": round(flooded / idle, 2),
            "unit": "s",
            "target": "<= 3",
        },
    ]


if __name__ == "__main__":
    for row in measure():
        print(row)
