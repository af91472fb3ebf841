"""Scheduled and recurring tasks on the local stack.

The local stack keeps only delays up to 30 s on SQS (samconfig.toml: QueueDelayHorizonSeconds=30;
AWS keeps 900 s), so a run_at 100 s ahead takes the path of a task due beyond SQS's 15 minutes: stored
`scheduled`, queued by the PromoterFunction (every minute, through EventBridge Scheduler) and run at
its time. The emulator fires schedules up to ~10 s late; the waits below allow for it.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.e2e


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_a_scheduled_task_stays_scheduled_then_is_queued_and_runs_at_its_time(alice):
    run_at = datetime.now(UTC) + timedelta(seconds=100)
    task = alice.submit("echo", {"at": "later"}, run_at=_iso(run_at))
    assert task["status"] == "scheduled"
    assert task["run_at"] == _iso(run_at)
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


def _tasks_of(caller, since: str) -> list[dict]:
    items = caller.request("GET", "/tasks", params={"task_type": "compute", "limit": 100}).json()["items"]
    return [t for t in items if t["created_at"] >= since]


def test_a_recurring_schedule_fires_tasks_and_stops_when_paused_and_deleted(alice, bob):
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    since = _iso(datetime.now(UTC))
    body = {"name": name, "rate": "1 minute", "task": {"task_type": "compute", "payload": {"n": 1234}}}
    created = alice.request("POST", "/schedules", json=body)
    assert created.status_code == 201, created.text
    assert len(created.json()["next_fire_times"]) == 5
    assert alice.request("POST", "/schedules", json=body).status_code == 409
    assert bob.request("GET", f"/schedules/{name}").status_code == 404  # another owner's name
    assert name not in [s["name"] for s in bob.request("GET", "/schedules").json()["items"]]
    invalid = alice.request("POST", "/schedules", json={**body, "name": name + "x", "cron": "0 9 * * MON *"})
    assert invalid.status_code == 422
    assert {d["field"] for d in invalid.json()["error"]["details"]} >= {"cron"}

    # The first firing is a minute after creation, give or take the emulator's ~10 s.
    deadline = time.monotonic() + 60 + 40
    fired: list[dict] = []
    while time.monotonic() < deadline and not fired:
        time.sleep(2)
        fired = _tasks_of(alice, since)
    assert len(fired) == 1, "no task a minute after the schedule was created"
    done = alice.wait(fired[0]["task_id"], timeout=60)
    assert done["status"] == "completed"
    assert done["result"] == 1234 * 1233 // 2
    assert _tasks_of(bob, since) == []  # fired as its owner only

    paused = alice.request("PATCH", f"/schedules/{name}", json={"paused": True})
    assert paused.status_code == 200
    assert paused.json()["paused"] is True
    time.sleep(75)  # past the next firing: none while paused
    assert len(_tasks_of(alice, since)) == 1
    assert alice.request("DELETE", f"/schedules/{name}").status_code == 204
    assert alice.request("GET", f"/schedules/{name}").status_code == 404
