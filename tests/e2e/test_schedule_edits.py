"""Editing a recurring schedule on the local stack: PATCH sets EventBridge Scheduler's schedule to the
new rate, and the edited schedule fires the edited task at the new rate (the emulator fires up to
~10 s late). A file of its own: its minute of waiting runs on one worker beside the rest (make e2e)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import iso

pytestmark = pytest.mark.e2e


def test_an_edited_rate_is_set_on_scheduler_and_the_schedule_fires_the_edited_task_at_it(stack, alice, bob):
    scheduler = stack.session.client("scheduler")
    group = stack.outputs.raw["ScheduleGroupName"]

    def held() -> dict[str, dict]:
        names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
        return {n: scheduler.get_schedule(Name=n, GroupName=group) for n in names}

    name = f"e2e-edit-{uuid.uuid4().hex[:8]}"
    since = iso(datetime.now(UTC))
    before = set(held())
    body = {"name": name, "rate": "5 minutes", "task": {"task_type": "compute", "payload": {"n": 10}}}
    assert alice.request("POST", "/schedules", json=body).status_code == 201
    [ours] = set(held()) - before
    assert held()[ours]["ScheduleExpression"] == "rate(5 minutes)"

    assert alice.request("PATCH", f"/schedules/{name}", json={"timezone": "Europe"}).status_code == 422
    assert bob.request("PATCH", f"/schedules/{name}", json={"rate": "1 minute"}).status_code == 404
    edited = alice.request("PATCH", f"/schedules/{name}", json={"rate": "1 minute", "task": {"payload": {"n": 20}}})
    assert edited.status_code == 200, edited.text
    assert edited.json()["rate"] == "1 minute"
    assert held()[ours]["ScheduleExpression"] == "rate(1 minute)"  # Scheduler's own schedule changed
    assert alice.request("GET", f"/schedules/{name}").json()["task"]["payload"] == {"n": 20}

    # At five minutes it would not fire for minutes; at the edited minute it fires within ~70 s.
    deadline = time.monotonic() + 60 + 40
    fired: list[dict] = []
    while time.monotonic() < deadline and not fired:
        time.sleep(2)
        items = alice.request("GET", "/tasks", params={"task_type": "compute", "limit": 100}).json()["items"]
        fired = [t for t in items if t["created_at"] >= since and t.get("schedule") == name]
    assert fired, "no firing at the edited rate"
    done = alice.wait(fired[0]["task_id"], timeout=60)
    assert done["result"] == 20 * 19 // 2  # the edited payload

    assert alice.request("DELETE", f"/schedules/{name}").status_code == 204
    assert ours not in held()
