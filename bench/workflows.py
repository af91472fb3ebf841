"""Workflows: AWS requests per task run inside a workflow (chain step, group member, chord callback)
beside a lone task, counted on moto; and the simulation of random trees (tests/unit/workflow_sim.py).

    .venv/bin/python bench/workflows.py            # both
    .venv/bin/python bench/workflows.py simulate 10000
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.requests_per_task import WRITES, counted_stack  # noqa: E402


def _run_all(system: Any) -> None:
    while True:
        delivered = 0
        for lane in ("high", "normal", "low"):
            delivered += system.drain(lane)
        if not delivered:
            return


def _per_task(label: str, body: dict[str, Any], tasks: int) -> list[dict[str, object]]:
    from tests.events import api_event

    with counted_stack(DEMO_TASK_TYPES="true") as (system, calls):
        event = api_event("submit_workflow" if "root" in body else "submit_task", body=body)
        event["headers"].pop("Idempotency-Key", None)
        event["multiValueHeaders"].pop("Idempotency-Key", None)
        calls.clear()
        answer = system.call(event)
        assert answer.status == 202, answer.body
        _run_all(system)
        transactions = sum(n for (svc, op), n in calls.items() if svc == "dynamodb" and op == "TransactWriteItems")
        writes = sum(n for (svc, op), n in calls.items() if svc == "dynamodb" and op in WRITES)
        reads = sum(n for (svc, op), n in calls.items() if svc == "dynamodb" and op not in WRITES)
        sends = sum(n for (svc, op), n in calls.items() if svc == "sqs" and op.startswith("SendMessage"))
        detail = ", ".join(f"{op} {n}" for (_, op), n in sorted(calls.items()))
    return [
        {"figure": f"{label}: DynamoDB writes / task", "tasklane": round(writes / tasks, 2), "detail": detail},
        {"figure": f"{label}: of which transactions / task", "tasklane": round(transactions / tasks, 2)},
        {"figure": f"{label}: DynamoDB reads / task", "tasklane": round(reads / tasks, 2)},
        {"figure": f"{label}: SQS sends / task", "tasklane": round(sends / tasks, 2)},
    ]


def requests() -> list[dict[str, object]]:
    def add(n: int) -> dict[str, Any]:
        return {"task": {"task_type": "add", "payload": {"n": n}}}

    rows = _per_task("lone task", {"task_type": "add", "payload": {"n": 1}}, 1)
    rows += _per_task("chain of 10", {"root": {"chain": [add(i) for i in range(10)]}}, 10)
    rows += _per_task("group of 10", {"root": {"group": [add(i) for i in range(10)]}}, 10)
    rows += _per_task(
        "chord of 10 + callback", {"root": {"chord": {"group": [add(i) for i in range(10)], "then": add(0)}}}, 11
    )
    return rows


def simulate(trees: int = 10_000, per_run: int = 5) -> list[dict[str, object]]:
    from tests.unit.workflow_sim import simulate as run

    started = time.monotonic()
    totals = {"tasks": 0, "started_twice": 0, "never_started": 0, "started_early": 0, "not_finished": 0}
    violations: list[str] = []
    for seed in range(trees // per_run):
        outcome = run(10_000 + seed, trees=per_run, max_tasks=40)
        for key in totals:
            totals[key] += getattr(outcome, key)
        violations += outcome.violations
    seconds = round(time.monotonic() - started, 1)
    label = f"simulation of {trees} random trees ({totals['tasks']} tasks, {seconds} s)"
    return [
        {"figure": f"{label}: nodes started twice", "tasklane": totals["started_twice"], "target": "<= 0"},
        {"figure": f"{label}: nodes never started", "tasklane": totals["never_started"], "target": "<= 0"},
        {
            "figure": f"{label}: callbacks before their last child",
            "tasklane": totals["started_early"],
            "target": "<= 0",
        },
        {"figure": f"{label}: workflows not ended", "tasklane": totals["not_finished"], "target": "<= 0"},
        {"figure": f"{label}: other violations", "tasklane": len(violations), "target": "<= 0"},
    ]


def measure() -> list[dict[str, object]]:
    return requests() + simulate()


if __name__ == "__main__":
    import json
    import logging

    logging.disable(logging.CRITICAL)
    if sys.argv[1:2] == ["simulate"]:
        found = simulate(int(sys.argv[2]) if len(sys.argv) > 2 else 10_000)
    elif sys.argv[1:2] == ["requests"]:
        found = requests()
    else:
        found = measure()
    for row in found:
        print(json.dumps(row))
