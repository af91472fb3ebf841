"""A chord on the local stack: time from its last child's finish to its callback's start (p50 of 3),
and that the callback ran once.

    TASKLANE_EMULATOR_PORT=4572 .venv/bin/python bench/workflow_chord.py [children] [runs]

The stack must be deployed on the emulator (scripts/localstack.py deploy). Times are the tasks' own
`finished_at` and `started_at` (the processors' clocks, to the millisecond).
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from scripts import localstack  # noqa: E402
from tests.e2e.conftest import Caller  # noqa: E402


def _add(n: int) -> dict[str, Any]:
    return {"task": {"task_type": "add", "payload": {"n": n}}}


def _tasks(caller: Caller, workflow_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"workflow_id": workflow_id, "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = caller.request("GET", "/tasks", params=params).json()
        found += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def one_run(caller: Caller, children: int, timeout: float = 900) -> dict[str, Any]:
    body = {"root": {"chord": {"group": [_add(i) for i in range(children)], "then": _add(0)}}}
    answer = caller.request("POST", "/workflows", json=body)
    assert answer.status_code == 202, answer.text
    workflow_id = answer.json()["workflow_id"]
    deadline = time.monotonic() + timeout
    while True:
        workflow = caller.request("GET", f"/workflows/{workflow_id}").json()
        if workflow["status"] in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert workflow["status"] == "completed", workflow.get("counts")
    tasks = _tasks(caller, workflow_id)
    *group, callback = tasks
    last_child = max(datetime.fromisoformat(t["finished_at"]) for t in group)
    started = datetime.fromisoformat(callback["started_at"])
    return {
        "workflow_id": workflow_id,
        "fan_in_ms": (started - last_child).total_seconds() * 1000,
        "callback_attempts": callback["attempts"],
        "result_ok": workflow["result"] == sum(range(children)),
    }


def measure(children: int = 999, runs: int = 3) -> list[dict[str, object]]:
    """On the deployed local stack (started and deployed first when nothing runs there)."""
    started = localstack.start()
    try:
        if started:
            localstack.deploy(quiet=True)
        outputs = localstack.outputs()
        caller = Caller(outputs.api_url, outputs.api_key, requests.Session())
        results = [one_run(caller, children) for _ in range(runs)]
    finally:
        if started:
            localstack.stop()
    fan_in = [r["fan_in_ms"] for r in results]
    return [
        {
            "figure": f"chord of {children} on the local stack: last child's finish to the callback's start "
            f"(p50 of {runs})",
            "tasklane": round(statistics.median(fan_in)),
            "unit": "ms",
            "detail": ", ".join(f"{ms:.0f}" for ms in fan_in),
        },
        {
            "figure": f"chord of {children}: callbacks that ran more than once (of {runs})",
            "tasklane": sum(r["callback_attempts"] != 1 for r in results),
            "target": "<= 0",
        },
        {
            "figure": f"chord of {children}: wrong results (of {runs})",
            "tasklane": sum(not r["result_ok"] for r in results),
            "target": "<= 0",
        },
    ]


if __name__ == "__main__":
    import json

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 999
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    for row in measure(size, count):
        print(json.dumps(row))
