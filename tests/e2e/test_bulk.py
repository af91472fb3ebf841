"""Bulk actions on the local stack: POST /tasks/bulk starts a job that the bulk function runs off
its queue, page after page; GET /tasks/bulk/{bulk_id} shows its counts."""

from __future__ import annotations

import time

import pytest


@pytest.fixture
def dave(stack):
    """A caller of his own, so that the bulk actions see his tasks alone."""
    return stack.caller(stack.new_api_key())


def follow(caller, bulk_id: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        answer = caller.request("GET", f"/tasks/bulk/{bulk_id}")
        assert answer.status_code == 200, answer.text
        if answer.json()["status"] == "done":
            return answer.json()
        assert time.monotonic() < deadline, answer.json()
        time.sleep(0.5)


def start(caller, body: dict) -> dict:
    answer = caller.request("POST", "/tasks/bulk", json=body)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "running"
    assert answer.headers["Location"].endswith(f"/tasks/bulk/{answer.json()['bulk_id']}")
    return answer.json()


def test_a_dry_run_counts_then_a_bulk_cancel_cancels_only_the_callers_matching_tasks(stack, dave, alice):
    mine = [dave.submit("echo", {"n": n}, delay_seconds=3600)["task_id"] for n in range(3)]
    other_type = dave.submit("compute", {"n": 5}, delay_seconds=3600)["task_id"]
    theirs = alice.submit("echo", {"n": 0}, delay_seconds=3600)["task_id"]
    counted = follow(
        dave, start(dave, {"action": "cancel", "filter": {"task_type": "echo"}, "dry_run": True})["bulk_id"]
    )
    assert (counted["matched"], counted["changed"], counted["dry_run"]) == (3, 0, True)
    assert all(dave.get(t)["status"] == "scheduled" for t in mine)
    done = follow(dave, start(dave, {"action": "cancel", "filter": {"task_type": "echo"}})["bulk_id"])
    assert (done["matched"], done["changed"], done["skipped"]) == (3, 3, 0)
    assert [dave.get(t)["status"] for t in mine] == ["cancelled"] * 3
    assert dave.get(other_type)["status"] == "scheduled"
    assert alice.get(theirs)["status"] == "scheduled"
    # Another caller cannot read it.
    assert alice.request("GET", f"/tasks/bulk/{done['bulk_id']}").status_code == 404


def test_a_bulk_retry_runs_failed_tasks_again(dave):
    failed = [dave.submit("fail", {"mode": "raise"}, max_attempts=1)["task_id"] for _ in range(2)]
    dave.wait_all(failed)
    done = follow(dave, start(dave, {"action": "retry", "filter": {"status": "failed"}})["bulk_id"])
    assert (done["matched"], done["changed"]) == (2, 2)
    assert [t["attempts"] for t in [dave.wait(t, until=("failed",)) for t in failed]] == [2, 2]


def test_a_bad_bulk_request_is_a_422_naming_the_field(dave):
    answer = dave.request("POST", "/tasks/bulk", json={"action": "retry", "filter": {"status": "pending"}})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["field"] == "filter.status"
