"""`make soak`: 2,000 tasks of mixed types and priorities on the local stack while faults are injected
(processor crashes, duplicate and malformed lane messages, concurrent reconcilers, cancels). At the end
it prints how many were submitted, completed, failed, cancelled, lost (must be 0) and run to
completion more than once (must be 0), and exits non-zero otherwise. Bounded in time."""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from scripts import localstack  # noqa: E402
from tests.e2e.conftest import Caller  # noqa: E402

TASKS = 2000
DEADLINE_SECONDS = 480
SOAK_VISIBILITY = "30"  # seconds: five crashes reach the DLQ within minutes, not the stack's 6 x 60 s
FINISHED = {"completed", "failed", "cancelled"}

# (weight, task spec, what it should end as)
MIX: list[tuple[int, dict[str, Any], str]] = [
    (35, {"task_type": "echo", "payload": {"soak": True}}, "completed"),
    (20, {"task_type": "compute", "payload": {"n": 20_000}}, "completed"),
    (10, {"task_type": "sleep", "payload": {"seconds": 0.2}}, "completed"),
    (8, {"task_type": "fail", "payload": {"succeed_on_attempt": 2}, "max_attempts": 3}, "completed"),
    (8, {"task_type": "fail", "payload": {"message": "soak failure"}, "max_attempts": 2}, "failed"),
    (5, {"task_type": "sleep", "payload": {"seconds": 3}, "timeout_seconds": 1, "max_attempts": 1}, "failed"),
    (2, {"task_type": "fail", "payload": {"mode": "crash"}, "timeout_seconds": 1, "max_attempts": 10}, "failed"),
    (12, {"task_type": "echo", "payload": {"cancel": True}, "delay_seconds": 600}, "cancelled"),
]


def plan(rng: random.Random) -> list[tuple[dict[str, Any], str]]:
    weights = [w for w, _, _ in MIX]
    chosen = rng.choices(MIX, weights=weights, k=TASKS)
    return [({**spec, "priority": rng.choice(["high", "normal", "low"])}, expected) for _, spec, expected in chosen]


def items(session: Any, table: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    dynamodb = session.client("dynamodb")
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 100):
        keys = [{"task_id": {"S": t}} for t in ids[start : start + 100]]
        for item in dynamodb.batch_get_item(RequestItems={table: {"Keys": keys}})["Responses"][table]:
            found[item["task_id"]["S"]] = item
    return found


def completions(log_file: Path, ids: set[str]) -> Counter[str]:
    """Runs that reached the end of the task function, per task, read from the functions' own logs."""
    ran: Counter[str] = Counter()
    with log_file.open("rb") as log:
        for raw in log:
            if b"task completed" not in raw and b"result not recorded" not in raw:
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if record.get("task_id") in ids:
                ran[record["task_id"]] += 1
    return ran


def inject_faults(session: Any, outputs: dict[str, str], rng: random.Random, bodies: list[str]) -> Counter[str]:
    """Duplicates and garbage on the lanes, and the reconciler invoked twice at once."""
    sqs, lam = session.client("sqs"), session.client("lambda")
    injected: Counter[str] = Counter()
    for body in rng.sample(bodies, min(100, len(bodies))):
        sqs.send_message(QueueUrl=outputs[f"{rng.choice(['High', 'Normal', 'Low'])}QueueUrl"], MessageBody=body)
        injected["duplicate messages"] += 1
    for garbage in ("not json", "{}", json.dumps({"task_id": "nope", "owner": "x", "attempt": 1})):
        sqs.send_message(QueueUrl=outputs["NormalQueueUrl"], MessageBody=garbage)
        injected["malformed messages"] += 1
    reconciler = next(
        f["FunctionName"] for f in lam.list_functions()["Functions"] if "ReconcilerFunction" in f["FunctionName"]
    )
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: lam.invoke(FunctionName=reconciler, Payload=b"{}"), range(2)))
    injected["concurrent reconciler runs"] += 2
    return injected


def main() -> int:
    rng = random.Random(2026)
    started = localstack.start()
    session = localstack._aws()
    try:
        localstack.deploy(quiet=True)
        out = localstack.outputs()
        sqs = session.client("sqs")
        for lane in ("High", "Normal", "Low"):
            sqs.set_queue_attributes(
                QueueUrl=out.raw[f"{lane}QueueUrl"], Attributes={"VisibilityTimeout": SOAK_VISIBILITY}
            )
        caller = Caller(out.api_url, out.api_key, requests.Session())
        planned = plan(rng)
        t0 = time.monotonic()
        expected: dict[str, str] = {}
        for start in range(0, TASKS, 100):
            chunk = planned[start : start + 100]
            results = caller.request("POST", "/tasks/batch", json={"tasks": [spec for spec, _ in chunk]}).json()[
                "results"
            ]
            for result, (_, outcome) in zip(results, chunk, strict=True):
                expected[result["task"]["task_id"]] = outcome
        ids = list(expected)
        bodies = [
            json.dumps({"task_id": t, "owner": _owner(session, out, t), "attempt": 1}) for t in rng.sample(ids, 100)
        ]
        injected = inject_faults(session, out.raw, rng, bodies)
        cancel_ok = sum(
            caller.request("DELETE", f"/tasks/{t}").status_code == 200
            for t, outcome in expected.items()
            if outcome == "cancelled"
        )
        while time.monotonic() - t0 < DEADLINE_SECONDS:
            current = items(session, out.raw["TasksTableName"], ids)
            open_tasks = [t for t in ids if current.get(t, {}).get("status", {}).get("S") not in FINISHED]
            print(f"  {time.monotonic() - t0:5.0f}s  unfinished {len(open_tasks)}", flush=True)
            if not open_tasks:
                break
            time.sleep(5)
        elapsed = time.monotonic() - t0
        current = items(session, out.raw["TasksTableName"], ids)
        statuses = Counter(current[t]["status"]["S"] if t in current else "missing" for t in ids)
        lost = sum(n for s, n in statuses.items() if s not in FINISHED)
        unexpected = Counter(
            f"{expected[t]}->{current[t]['status']['S']}"
            for t in ids
            if t in current and current[t]["status"]["S"] != expected[t]
        )
        twice = sum(1 for n in completions(localstack.LOG_FILE, set(ids)).values() if n > 1)
        errors = Counter(
            current[t].get("error", {}).get("M", {}).get("type", {}).get("S") for t in ids if statuses and t in current
        )
    finally:
        if started:
            localstack.stop()
    planned_failures = sum(1 for outcome in expected.values() if outcome == "failed")
    print(f"""
soak on the local stack (ministack emulator) in {elapsed:.0f} s
  submitted                      {len(ids)}
  completed                      {statuses["completed"]}
  failed                         {statuses["failed"]}   (by error: { {k: v for k, v in errors.items() if k} })
  cancelled                      {statuses["cancelled"]}   (cancel answered 200: {cancel_ok})
  lost (unfinished at the end)   {lost}
  run to completion twice        {twice}
  outcomes other than planned    {dict(unexpected) or 0}
  faults injected                {dict(injected)}, {planned_failures} failing/timing-out/crashing tasks
""")
    return 1 if lost or twice else 0


def _owner(session: Any, out: Any, task_id: str) -> str:
    item = session.client("dynamodb").get_item(TableName=out.raw["TasksTableName"], Key={"task_id": {"S": task_id}})
    return item["Item"]["owner"]["S"]


if __name__ == "__main__":
    sys.exit(main())
