"""tasklane on the local emulator, through HTTP, as a user runs it after `make up`."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime

import pytest

pytestmark = pytest.mark.e2e

BUILTINS = [
    ("echo", {"hello": "world"}, {"hello": "world"}),
    ("compute", {"n": 1_000_000}, 499999500000),
    ("sleep", {"seconds": 1.5}, {"slept": 1.5}),
    ("fail", {"succeed_on_attempt": 1}, {"succeeded_on_attempt": 1}),
    ("resize_image", {"source_key": "uploads/cat.jpg", "width": 64, "height": 48}, None),
    ("generate_report", {"report": "sales", "rows": 500}, None),
    ("send_email", {"to": "ada@example.com", "subject": "Welcome"}, None),
]


@pytest.mark.parametrize(("task_type", "payload", "expected"), BUILTINS, ids=[b[0] for b in BUILTINS])
def test_each_builtin_type_completes_and_its_result_is_readable(alice, task_type, payload, expected):
    task = alice.wait(alice.submit(task_type, payload)["task_id"])
    assert task["status"] == "completed", task
    result = alice.request("GET", f"/tasks/{task['task_id']}/result").json()
    assert result["task_id"] == task["task_id"]
    if expected is not None:
        assert result["result"] == expected
    else:
        assert result["result"]


def test_sleep_reports_progress_to_100(alice):
    task = alice.wait(alice.submit("sleep", {"seconds": 2})["task_id"])
    assert task["progress"]["percent"] == 100


def test_a_batch_of_100_completes(alice):
    items = [{"task_type": "compute", "payload": {"n": i}, "priority": "high"} for i in range(100)]
    answer = alice.request("POST", "/tasks/batch", json={"tasks": items})
    assert answer.status_code == 202
    ids = [r["task"]["task_id"] for r in answer.json()["results"]]
    tasks = alice.wait_all(ids, timeout=120)
    assert [t["status"] for t in tasks] == ["completed"] * 100
    assert [t["result"] for t in tasks] == [sum(range(i)) for i in range(100)]


def _max_overlap(tasks):
    events = []
    for t in tasks:
        events += [(datetime.fromisoformat(t["started_at"]), 1), (datetime.fromisoformat(t["finished_at"]), -1)]
    running = peak = 0
    for _, step in sorted(events):
        running += step
        peak = max(peak, running)
    return peak


def test_lanes_are_lanes_high_overtakes_a_flooded_low_lane_within_its_concurrency(alice):
    flood = [{"task_type": "sleep", "payload": {"seconds": 0.3}, "priority": "low"} for _ in range(100)]
    low_ids = []
    for _ in range(2):
        answer = alice.request("POST", "/tasks/batch", json={"tasks": flood})
        low_ids += [r["task"]["task_id"] for r in answer.json()["results"]]
    submitted = time.monotonic()
    high = alice.wait(alice.submit("echo", {"urgent": True}, priority="high")["task_id"], timeout=60)
    high_latency = time.monotonic() - submitted
    assert high["status"] == "completed"
    still_pending = sum(alice.get(t)["status"] == "pending" for t in low_ids[-50:])
    assert still_pending > 0, "the low backlog drained before the high task finished"
    low = alice.wait_all(low_ids, timeout=300)
    low_drain = time.monotonic() - submitted
    assert all(t["status"] == "completed" for t in low)
    assert high_latency < low_drain / 4
    assert _max_overlap(low) <= 2  # LowLaneConcurrency


def test_a_failing_task_is_retried_to_max_attempts_then_failed_with_its_error(alice):
    task = alice.wait(alice.submit("fail", {"message": "nope"}, max_attempts=3)["task_id"], timeout=90)
    assert task["status"] == "failed"
    assert task["attempts"] == task["max_attempts"] == 3
    assert task["error"] == {"type": "IntentionalFailure", "message": "nope"}
    result = alice.request("GET", f"/tasks/{task['task_id']}/result")
    assert result.status_code == 409
    assert result.json()["error"]["details"]["error"]["type"] == "IntentionalFailure"


@contextmanager
def short_visibility(stack, lane: str, seconds: int):
    """Make a lane redeliver crashed messages after `seconds` instead of 6 x the function timeout,
    so five crashes fit in a test."""
    sqs = stack.session.client("sqs")
    url = stack.outputs.raw[f"{lane.capitalize()}QueueUrl"]
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(seconds)})
    try:
        yield
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=before)


def test_a_task_that_crashes_the_processor_reaches_the_dlq_and_is_marked_failed(stack, alice):
    with short_visibility(stack, "normal", 2):
        task_id = alice.submit("fail", {"mode": "crash"}, max_attempts=10, timeout_seconds=1)["task_id"]
        # Each crash is taken over only when its lease ends (its invocation could live: ~65 s): five take minutes.
        task = alice.wait(task_id, timeout=420)
    assert task["status"] == "failed"
    assert task["error"]["type"] == "DeadLettered"


def test_a_cancelled_delayed_task_never_runs(alice):
    task_id = alice.submit("echo", {"x": 1}, delay_seconds=3)["task_id"]
    cancelled = alice.request("DELETE", f"/tasks/{task_id}")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    time.sleep(5)
    task = alice.get(task_id)
    assert (task["status"], task["attempts"], task["started_at"]) == ("cancelled", 0, None)


def test_an_explicit_retry_runs_a_failed_task_again(alice):
    task = alice.wait(alice.submit("fail", max_attempts=1)["task_id"], timeout=60)
    assert task["status"] == "failed"
    retried = alice.request("POST", f"/tasks/{task['task_id']}/retry")
    assert retried.status_code == 202
    again = alice.wait(task["task_id"], timeout=60)
    assert again["status"] == "failed"
    assert again["finished_at"] > task["finished_at"]


def test_an_idempotency_key_replays_the_original_task(alice):
    body = {"task_type": "echo", "payload": {"order": 7}}
    key = {"Idempotency-Key": f"order-{time.time_ns()}"}
    first = alice.request("POST", "/tasks", json=body, headers=key)
    second = alice.request("POST", "/tasks", json=body, headers=key)
    assert first.status_code == second.status_code == 202
    assert first.json()["task_id"] == second.json()["task_id"]
    conflict = alice.request("POST", "/tasks", json={**body, "payload": {"order": 8}}, headers=key)
    assert conflict.status_code == 409


def test_requests_without_a_key_are_refused_before_any_lambda(stack):
    anonymous = stack.caller(None)
    assert anonymous.request("POST", "/tasks", json={"task_type": "echo"}).status_code == 403
    assert anonymous.request("GET", "/tasks").status_code == 403
    assert anonymous.request("GET", "/health").status_code == 200


def test_another_callers_task_is_404(alice, bob):
    task_id = alice.submit("echo")["task_id"]
    assert bob.request("GET", f"/tasks/{task_id}").status_code == 404
    assert bob.request("DELETE", f"/tasks/{task_id}").status_code == 404
    assert task_id not in [t["task_id"] for t in bob.request("GET", "/tasks").json()["items"]]
    assert alice.get(task_id)["task_id"] == task_id


def test_a_key_over_its_usage_plan_is_throttled_with_429(stack):
    throttled = stack.caller(stack.new_api_key(rate=1, burst=1))
    statuses = [throttled.request("GET", "/tasks?limit=1").status_code for _ in range(8)]
    assert 429 in statuses
    assert 200 in statuses


def test_the_openapi_document_is_served(alice):
    document = alice.request("GET", "/openapi.json").json()
    assert "/tasks/{task_id}/result" in document["paths"]


def test_an_echo_of_300_kib_completes_through_the_values_bucket(alice):
    """Payload plus result once passed DynamoDB's 400 KB item and left the task processing."""
    payload = {"blob": "z" * (300 * 1024)}
    task = alice.wait(alice.submit("echo", payload)["task_id"], timeout=60)
    assert task["status"] == "completed", task
    assert (task["payload"], task["result"]) == (None, None)
    assert task["payload_size"] == task["result_size"] == len('{"blob":""}') + 300 * 1024
    answer = alice.request("GET", f"/tasks/{task['task_id']}/result")
    assert answer.status_code == 200
    assert answer.json()["result"] == payload


def test_a_result_over_the_limit_fails_at_once_with_result_too_large(alice):
    limit = 10 * 1024 * 1024  # the stack's MaxResultBytes
    task = alice.wait(alice.submit("blob", {"size": limit})["task_id"], timeout=60)
    assert (task["status"], task["error"]["type"], task["attempts"]) == ("failed", "ResultTooLarge", 1)


def test_a_duplicate_of_a_delayed_task_never_starts_it_before_its_time(stack, alice):
    import json

    submitted = alice.submit("echo", {"x": 1}, delay_seconds=8)
    body = {"task_id": submitted["task_id"], "attempt": 1, "timeout_seconds": 10}
    owner_probe = stack.session.client("dynamodb").get_item(
        TableName=stack.outputs.raw["TasksTableName"], Key={"task_id": {"S": submitted["task_id"]}}
    )["Item"]["owner"]["S"]
    queue_url = stack.outputs.raw["NormalQueueUrl"]
    stack.session.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps({**body, "owner": owner_probe}))
    task = alice.wait(submitted["task_id"], timeout=60)
    assert task["status"] == "completed"
    created = datetime.fromisoformat(task["created_at"])
    started = datetime.fromisoformat(task["started_at"])
    assert (started - created).total_seconds() >= 8
