"""Scheduled and recurring tasks on the local stack.

The local stack keeps only delays up to 30 s on SQS (samconfig.toml: QueueDelayHorizonSeconds=30;
AWS keeps 900 s), so a run_at 100 s ahead takes the path of a task due beyond SQS's 15 minutes: stored
`scheduled`, queued by the PromoterFunction (every minute, through EventBridge Scheduler) and run at
its time. The emulator fires schedules up to ~10 s late; the waits below allow for it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import iso

pytestmark = pytest.mark.e2e


def test_a_scheduled_task_stays_scheduled_then_is_queued_and_runs_at_its_time(alice):
    run_at = datetime.now(UTC) + timedelta(seconds=100)
    task = alice.submit("echo", {"at": "later"}, run_at=iso(run_at))
    assert task["status"] == "scheduled"
    assert task["run_at"] == iso(run_at)
    # Not within the promoter's next minute yet: still scheduled, and listed as such.
    assert alice.get(task["task_id"])["status"] == "scheduled"
    listed = alice.request("GET", "/tasks", params={"status": "scheduled", "limit": 100}).json()["items"]
    assert task["task_id"] in [t["task_id"] for t in listed]
    done = alice.wait(task["task_id"], timeout=100 + 90)
    assert done["status"] == "completed"
    assert done["result"] == {"at": "later"}
    # Never before its time; queued in the minute before it, so it starts within seconds of it.
    assert done["started_at"] >= task["run_at"]
    started = datetime.fromisoformat(done["started_at"])
    assert started - run_at < timedelta(seconds=60), (done["started_at"], task["run_at"])


def test_a_scheduled_task_can_be_cancelled_and_never_runs(alice):
    task = alice.submit("echo", {"x": 1}, delay_seconds=3600)
    assert task["status"] == "scheduled"
    answer = alice.request("DELETE", f"/tasks/{task['task_id']}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    assert alice.get(task["task_id"])["status"] == "cancelled"
    assert alice.request("DELETE", f"/tasks/{task['task_id']}").status_code == 409


@pytest.mark.parametrize(
    "fields",
    [
        {"delay_seconds": 31_536_001},
        {"run_at": "2027-01-01T09:00:00"},
        {"run_at": "2027-01-01T09:00:00Z", "delay_seconds": 5},
    ],
)
def test_bad_start_times_are_422_naming_the_field(alice, fields):
    answer = alice.request("POST", "/tasks", json={"task_type": "echo", **fields})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"][0]["field"] in ("delay_seconds", "run_at")
