"""End-to-end figures on the local stack (an emulator: ministack on this machine, not AWS):
throughput of 1,000 echo tasks sent as batches of 100, POST /tasks latency, and how long a high
task takes while 500 low sleep tasks are queued, against the same on an idle stack."""

from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import localstack  # noqa: E402
from tests.e2e.conftest import Caller  # noqa: E402


def _statuses(session: Any, table: str, task_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Read task items straight from the table in bulk (BatchGetItem), to poll 1,000 tasks cheaply."""
    dynamodb = session.client("dynamodb")
    found: dict[str, dict[str, Any]] = {}
    ids = list(task_ids)
    for start in range(0, len(ids), 100):
        keys = [{"task_id": {"S": t}} for t in ids[start : start + 100]]
        response = dynamodb.batch_get_item(
            RequestItems={
                table: {
                    "Keys": keys,
                    "ProjectionExpression": "task_id, #s, finished_at",
                    "ExpressionAttributeNames": {"#s": "status"},
                }
            }
        )
        for item in response["Responses"][table]:
            found[item["task_id"]["S"]] = {
                "status": item["status"]["S"],
                "finished_at": item.get("finished_at", {}).get("S"),
            }
    return found


def throughput(caller: Caller, session: Any, table: str, tasks: int = 1000) -> float:
    started = time.monotonic()
    ids: set[str] = set()

    def send(batch: int) -> list[str]:
        items = [{"task_type": "echo", "payload": {"i": batch * 100 + i}} for i in range(100)]
        answer = caller.request("POST", "/tasks/batch", json={"tasks": items})
        return [r["task"]["task_id"] for r in answer.json()["results"]]

    with ThreadPoolExecutor(4) as pool:
        for batch_ids in pool.map(send, range(tasks // 100)):
            ids.update(batch_ids)
    pending = set(ids)
    while pending:
        done = {t for t, s in _statuses(session, table, pending).items() if s["status"] == "completed"}
        pending -= done
        if time.monotonic() - started > 600:
            raise RuntimeError(f"{len(pending)} tasks not completed after 600 s")
        time.sleep(0.2)
    return tasks / (time.monotonic() - started)


def submit_latency(caller: Caller, requests: int = 200) -> tuple[float, float]:
    times = []
    for i in range(requests):
        t0 = time.perf_counter()
        answer = caller.request("POST", "/tasks", json={"task_type": "echo", "payload": {"i": i}})
        times.append(time.perf_counter() - t0)
        assert answer.status_code == 202
    times.sort()
    return times[len(times) // 2] * 1000, times[int(len(times) * 0.99) - 1] * 1000


def high_latency(caller: Caller, runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.monotonic()
        task_id = caller.submit("echo", {"urgent": True}, priority="high")["task_id"]
        while caller.get(task_id)["status"] != "completed":
            time.sleep(0.05)
        samples.append(time.monotonic() - t0)
    return statistics.median(samples)


def flood_low(caller: Caller, tasks: int = 500, seconds: float = 0.2) -> None:
    for _ in range(tasks // 100):
        items = [{"task_type": "sleep", "payload": {"seconds": seconds}, "priority": "low"} for _ in range(100)]
        assert caller.request("POST", "/tasks/batch", json={"tasks": items}).status_code == 202


def measure() -> list[dict[str, object]]:
    started = localstack.start()
    try:
        localstack.deploy(quiet=True)
        outputs = localstack.outputs()
        session = localstack._aws()
        import requests

        caller = Caller(outputs.api_url, outputs.api_key, requests.Session())
        caller.submit("echo")  # warm the functions, as a running system is
        idle = high_latency(caller)
        p50, p99 = submit_latency(caller)
        rate = throughput(caller, session, outputs.raw["TasksTableName"])
        flood_low(caller)
        loaded = high_latency(caller)
    finally:
        if started:
            localstack.stop()
    note = "local stack (ministack emulator on this machine)"
    return [
        {
            "figure": f"throughput, 1,000 echo tasks in batches of 100 ({note})",
            "tasklane": round(rate, 1),
            "unit": "tasks/s",
            "target": ">= 100",
        },
        {"figure": f"POST /tasks latency p50 ({note})", "tasklane": round(p50, 1), "unit": "ms"},
        {"figure": f"POST /tasks latency p99 ({note})", "tasklane": round(p99, 1), "unit": "ms"},
        {
            "figure": f"high task latency with 500 low sleep tasks queued vs idle ({note})",
            "tasklane": round(loaded, 2),
            "reference": round(idle, 2),
            "unit": "s",
            "ratio": round(loaded / idle, 2),
            "target": "<= 2",
        },
    ]


if __name__ == "__main__":
    for row in measure():
        print(row)
