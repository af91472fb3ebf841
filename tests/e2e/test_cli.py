"""The `tasklane` command against the local stack, found on its own (no flags), as after `make up`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

COMMAND = [sys.executable, "-m", "tasklane_client.cli"]
# The command finds the local stack itself; only the emulator's port (when moved) is passed on.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("TASKLANE_") or k == "TASKLANE_EMULATOR_PORT"}
ENV["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "client")


def tasklane(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=timeout, env=ENV, check=False)


def test_submit_and_wait_on_a_sleep_task_with_a_progress_bar(stack):
    # Long enough for the command to start and see it move on a loaded host (3 s were not).
    submitted = tasklane("submit", "sleep", "--payload", '{"seconds": 8}', "--priority", "high")
    assert submitted.returncode == 0, submitted.stderr
    task_id = submitted.stdout.strip()
    waited = tasklane("wait", task_id)
    assert waited.returncode == 0, waited.stderr
    bars = [line for line in waited.stdout.splitlines() if line.startswith("[")]
    assert len(bars) >= 2  # the bar moved while the task slept
    assert "100.0%" in bars[-1]
    assert "completed" in waited.stdout
    result = tasklane("--json", "result", task_id)
    assert json.loads(result.stdout) == {"slept": 8.0}


def test_wait_exits_non_zero_on_a_failed_task(stack):
    task_id = tasklane("submit", "fail", "--max-attempts", "1").stdout.strip()
    waited = tasklane("wait", task_id)
    assert waited.returncode == 3
    assert "IntentionalFailure" in waited.stdout


def test_dlq_retry_requeues_dead_lettered_tasks_through_the_api(stack):
    sqs = stack.session.client("sqs")
    submitted = [tasklane("submit", "echo", "--payload", json.dumps({"n": i}), "--delay", "30") for i in range(2)]
    ids = [answer.stdout.strip() for answer in submitted]
    # Dead-letter them the way five deliveries that each died would: the run is over, the message in the DLQ.
    dynamodb = stack.session.client("dynamodb")
    for task_id in ids:
        dynamodb.update_item(
            TableName=stack.outputs.raw["TasksTableName"],
            Key={"task_id": {"S": task_id}},
            UpdateExpression="SET #s = :processing, lease_until = :over, attempts = :one",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":processing": {"S": "processing"}, ":over": {"N": "0"}, ":one": {"N": "1"}},
        )
        body = json.dumps({"task_id": task_id, "owner": _owner(stack, task_id), "attempt": 1})
        sqs.send_message(QueueUrl=stack.outputs.raw["NormalDeadLetterQueueUrl"], MessageBody=body)
    listed = _wait_for_dead_letters(ids)
    assert sorted(listed) == sorted(ids)
    retried = tasklane("dlq", "retry", "--yes")
    assert retried.returncode == 0, retried.stderr
    for task_id in ids:
        waited = tasklane("--json", "wait", task_id, "--timeout", "60")
        assert json.loads(waited.stdout)["status"] == "completed"


def test_stats_shows_every_lane(stack):
    stats = tasklane("--json", "stats")
    assert stats.returncode == 0, stats.stderr
    assert [row["lane"] for row in json.loads(stats.stdout)] == ["high", "normal", "low"]


def test_an_unknown_task_says_what_to_check(stack):
    answer = tasklane("get", "0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d")
    assert answer.returncode == 1
    assert "not found" in answer.stderr


def test_a_wrong_endpoint_says_so():
    answer = tasklane("--endpoint", "http://127.0.0.1:9/v1", "--api-key", "k", "list")
    assert answer.returncode == 1
    assert "cannot reach" in answer.stderr


def _owner(stack, task_id: str) -> str:
    item = stack.session.client("dynamodb").get_item(
        TableName=stack.outputs.raw["TasksTableName"], Key={"task_id": {"S": task_id}}
    )
    return item["Item"]["owner"]["S"]


def _wait_for_dead_letters(ids: list[str]) -> list[str]:
    import time

    deadline = time.monotonic() + 60
    while True:
        listed = [t["task_id"] for t in json.loads(tasklane("--json", "dlq", "list").stdout) if t["task_id"] in ids]
        if len(listed) == len(ids) or time.monotonic() > deadline:
            return listed
        time.sleep(1)
