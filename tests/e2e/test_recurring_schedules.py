"""A recurring schedule on the local stack: it fires a task a minute after creation (the emulator fires
up to ~10 s late), fires nothing while paused, and is gone once deleted. A file of its own: its
minutes of waiting run on one worker beside the rest of the suite (make e2e)."""

from __future__ import annotations

import time
import uuid

import pytest

pytestmark = pytest.mark.e2e


def _tasks_of(caller, schedule: str) -> list[dict]:
    """The caller's tasks that the schedule fired (listed by its name: other tests of the same owner
    submit compute tasks meanwhile)."""
    answer = caller.request("GET", "/tasks", params={"schedule": schedule, "limit": 100})
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert all(t["schedule"] == schedule for t in items), items
    return items


def test_a_recurring_schedule_fires_tasks_and_stops_when_paused_and_deleted(alice, bob):
    name = f"e2e-{uuid.uuid4().hex[:8]}"
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
        fired = _tasks_of(alice, name)
    assert len(fired) == 1, "no task a minute after the schedule was created"
    done = alice.wait(fired[0]["task_id"], timeout=60)
    assert done["status"] == "completed"
    assert done["result"] == 1234 * 1233 // 2
    assert _tasks_of(bob, name) == []  # fired as its owner only

    paused = alice.request("PATCH", f"/schedules/{name}", json={"paused": True})
    assert paused.status_code == 200
    assert paused.json()["paused"] is True
    time.sleep(75)  # past the next firing: none while paused
    assert len(_tasks_of(alice, name)) == 1
    assert alice.request("DELETE", f"/schedules/{name}").status_code == 204
    assert alice.request("GET", f"/schedules/{name}").status_code == 404
