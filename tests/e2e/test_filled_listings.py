"""A filtered listing on the local stack: a page of two is full when two tasks in a hundred match, and
the cursor walks the matches once and ends (the ByType index and the server-side status read)."""

from __future__ import annotations

import pytest


@pytest.fixture
def erin(stack):
    """A caller of her own, so that her listings see her tasks alone."""
    return stack.caller(stack.new_api_key())


def walk(caller, query: dict[str, str]) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        answer = caller.request("GET", "/tasks", params={**query, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        pages.append([t["task_id"] for t in answer.json()["items"]])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 20, "the cursor never ends"


def test_a_filtered_page_is_filled_through_the_api(erin):
    # Scheduled an hour ahead: nothing runs, so the statuses stay as set here.
    later = {"delay_seconds": 3600}
    common = [{"task_type": "echo", "payload": {"n": n}, **later} for n in range(98)]
    rare = [{"task_type": "compute", "payload": {"n": n}, "priority": "high", **later} for n in range(2)]
    tasks = common[:30] + rare[:1] + common[30:80] + rare[1:] + common[80:]
    answer = erin.request("POST", "/tasks/batch", json={"tasks": tasks})
    assert answer.status_code == 202, answer.text
    ids = [r["task"]["task_id"] for r in answer.json()["results"]]
    computes = [i for i, t in zip(ids, tasks, strict=True) if t["task_type"] == "compute"][::-1]

    first = erin.request("GET", "/tasks", params={"task_type": "compute", "priority": "high", "limit": "2"})
    assert first.status_code == 200, first.text
    assert [t["task_id"] for t in first.json()["items"]] == computes
    assert walk(erin, {"task_type": "compute", "priority": "high", "limit": "2"}) == [computes]

    # A status: two cancelled among a hundred scheduled, found by reading on at the server.
    cancelled = [ids[10], ids[60]]
    for task_id in cancelled:
        assert erin.request("DELETE", f"/tasks/{task_id}").status_code == 200
    assert walk(erin, {"status": "cancelled", "limit": "2"}) == [cancelled[::-1]]
    assert walk(erin, {"status": "failed", "limit": "2"}) == [[]]
