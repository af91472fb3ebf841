"""A filtered listing fills its page when matches exist, however rare among the caller's tasks: the
index whose key carries the filter is read (ByType, BySchedule), what it leaves is filtered in the
index or, for a status, read on until the page is full; the cursor walks every match once and ends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tasklane.data import aws
from tasklane.data.tasks.listing import plan
from tasklane.model.lanes import Lane
from tasklane.model.listing import ListQuery
from tasklane.model.task import TaskStatus
from tests.events import ALICE, BOB, api_event
from tests.functional.test_schedules import create as create_schedule
from tests.functional.test_schedules import fire

SPREAD = 50  # one match per this many tasks of the caller


def submit_batch(tasklane, tasks: list[dict[str, Any]], owner: str = ALICE) -> list[str]:
    ids = []
    for start in range(0, len(tasks), 100):
        answer = tasklane.call(
            api_event(
                "submit_batch",
                owner=owner,
                body={"tasks": tasks[start : start + 100]},
                headers={"Idempotency-Key": None},
            )
        )
        assert answer.status == 202, answer.body
        ids += [r["task"]["task_id"] for r in answer.body["results"]]
    return ids


def walk(tasklane, query: dict[str, str], owner: str = ALICE) -> list[list[str]]:
    """Every page of a listing, following next_cursor to its end."""
    pages, cursor = [], None
    while True:
        answer = tasklane.call(
            api_event("list_tasks", owner=owner, query={**query, **({"cursor": cursor} if cursor else {})})
        )
        assert answer.status == 200, answer.body
        pages.append([t["task_id"] for t in answer.body["items"]])
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor never ends"


def rare(kind: dict[str, Any], common: dict[str, Any], matches: int) -> list[dict[str, Any]]:
    """`matches` tasks of `kind`, each among SPREAD - 1 `common` ones, the first match the oldest."""
    tasks: list[dict[str, Any]] = []
    for _ in range(matches):
        tasks += (
            [dict(common) for _ in range(SPREAD // 2)] + [dict(kind)] + [dict(common) for _ in range(SPREAD // 2 - 1)]
        )
    return tasks


def matching(ids: list[str], tasks: list[dict[str, Any]], kind: dict[str, Any]) -> list[str]:
    """The ids of the tasks of `kind`, newest first (a batch's later items are newer)."""
    return [task_id for task_id, task in zip(ids, tasks, strict=True) if task == kind][::-1]


@pytest.mark.parametrize(
    ("query", "kind", "common"),
    [
        ({"task_type": "compute"}, {"task_type": "compute", "payload": {"n": 3}}, {"task_type": "echo"}),
        ({"priority": "high"}, {"task_type": "echo", "priority": "high"}, {"task_type": "echo"}),
        (
            {"task_type": "echo", "priority": "low"},
            {"task_type": "echo", "priority": "low"},
            {"task_type": "echo", "priority": "normal"},
        ),
    ],
    ids=["type", "priority", "type+priority"],
)
def test_a_page_of_two_is_full_when_one_task_in_fifty_matches(tasklane, query, kind, common):
    tasks = rare(kind, common, matches=3)
    ids = submit_batch(tasklane, tasks)
    expected = matching(ids, tasks, kind)
    pages = walk(tasklane, {**query, "limit": "2"})
    assert pages[0] == expected[:2]  # full, newest first
    assert [task_id for page in pages for task_id in page] == expected  # each match once, then the end
    assert all(len(page) == 2 for page in pages[:-1])


def test_a_status_filter_fills_its_page_from_tasks_read_on_the_server(tasklane):
    tasks = rare({"task_type": "echo", "delay_seconds": 1}, {"task_type": "echo"}, matches=3)
    ids = submit_batch(tasklane, tasks)
    cancelled = matching(ids, tasks, {"task_type": "echo", "delay_seconds": 1})
    for task_id in cancelled:
        assert tasklane.call(api_event("cancel_task", task_id=task_id)).status == 200
    pages = walk(tasklane, {"status": "cancelled", "limit": "2"})
    assert pages == [cancelled[:2], cancelled[2:]]


def test_the_issue_example_completed_echo_high_fills_its_page(tasklane):
    """GET /tasks?status=completed&task_type=echo&priority=high&limit=2 among tasks matching two of
    the three filters, or none."""
    echo_high = {"task_type": "echo", "priority": "high", "payload": {"done": True}}
    others = (
        [{"task_type": "echo", "priority": "normal"}] * 40  # not run: pending
        + [{"task_type": "compute", "priority": "high", "payload": {"n": 2}}] * 20  # completed, another type
        + [{"task_type": "echo", "priority": "high", "delay_seconds": 1}] * 40  # cancelled below
    )
    tasks = [*others[:50], echo_high, *others[50:], echo_high]
    ids = submit_batch(tasklane, tasks)
    for task_id, task in zip(ids, tasks, strict=True):
        if task.get("delay_seconds"):
            assert tasklane.call(api_event("cancel_task", task_id=task_id)).status == 200
    tasklane.drain("high")
    expected = matching(ids, tasks, echo_high)
    query = {"status": "completed", "task_type": "echo", "priority": "high", "limit": "2"}
    answer = tasklane.call(api_event("list_tasks", query=query)).body
    assert [t["task_id"] for t in answer["items"]] == expected
    assert {t["status"] for t in answer["items"]} == {"completed"}
    assert walk(tasklane, query) == [expected]


def test_boundaries_limit_one_limit_max_and_no_match(tasklane):
    kind = {"task_type": "compute", "payload": {"n": 4}}
    tasks = rare(kind, {"task_type": "echo"}, matches=3)
    ids = submit_batch(tasklane, tasks)
    expected = matching(ids, tasks, kind)
    assert walk(tasklane, {"task_type": "compute", "limit": "1"}) == [[task_id] for task_id in expected]
    assert walk(tasklane, {"task_type": "compute", "limit": "100"}) == [expected]
    # Nothing matches: an empty page, and no cursor to follow.
    for query in ({"task_type": "generate_report"}, {"priority": "low"}, {"status": "failed"}, {"schedule": "nope"}):
        answer = tasklane.call(api_event("list_tasks", query={**query, "limit": "2"})).body
        assert answer == {"items": [], "next_cursor": None}, query
    # Limits just past the bounds are refused, naming the field.
    for limit in ("0", "101"):
        answer = tasklane.call(api_event("list_tasks", query={"task_type": "compute", "limit": limit}))
        assert answer.status == 422
        assert answer.body["error"]["details"][0]["field"] == "limit"


def test_a_schedules_tasks_are_listed_by_its_name_newest_first(tasklane):
    assert create_schedule(tasklane).status == 201
    assert create_schedule(tasklane, name="other").status == 201
    fired = []
    for hour in range(3):
        submit_batch(tasklane, [{"task_type": "echo"}] * SPREAD)
        fired.append(fire(tasklane, scheduled_time=f"2026-11-24T0{hour}:00:00Z"))
        fire(tasklane, name="other", scheduled_time=f"2026-11-24T0{hour}:00:00Z")
    newest_first = fired[::-1]
    assert walk(tasklane, {"schedule": "nightly-report", "limit": "2"}) == [newest_first[:2], newest_first[2:]]
    listed = tasklane.call(api_event("list_tasks", query={"schedule": "nightly-report"})).body["items"]
    assert {t["schedule"] for t in listed} == {"nightly-report"}
    # With the schedule's type and lane it is the same list; with another type, none.
    assert walk(tasklane, {"schedule": "nightly-report", "task_type": "echo", "priority": "normal"}) == [newest_first]
    assert walk(tasklane, {"schedule": "nightly-report", "task_type": "compute"}) == [[]]
    # Another caller's schedule of the same name is not theirs to list.
    assert walk(tasklane, {"schedule": "nightly-report"}, owner=BOB) == [[]]
    too_long = tasklane.call(api_event("list_tasks", query={"schedule": "x" * 65}))
    assert too_long.status == 422
    assert too_long.body["error"]["details"][0]["field"] == "schedule"


def test_each_filter_is_served_by_the_index_whose_key_carries_it(tasklane):
    queries: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        queries.append(params)

    aws.dynamodb().meta.events.register("provide-client-params.dynamodb.Query", hook)
    expected = {
        (): ("ByOwner", None),
        (("task_type", "echo"),): ("ByType", None),
        (("task_type", "echo"), ("priority", "high")): ("ByType", "#priority = :priority"),
        (("schedule", "nightly"), ("task_type", "echo")): ("BySchedule", "task_type = :task_type"),
        (("priority", "low"),): ("ByOwner", "#priority = :priority"),
    }
    for query, (index, residual) in expected.items():
        queries.clear()
        assert tasklane.call(api_event("list_tasks", query=dict(query))).status == 200
        assert {q["IndexName"] for q in queries} == {index}, query
        assert {q.get("FilterExpression") for q in queries} == {residual}, query
    # The key is the owner's (and the type's, or the schedule's): never another caller's tasks.
    queries.clear()
    tasklane.call(api_event("list_tasks", query={"task_type": "echo"}))
    assert all(q["ExpressionAttributeValues"][":key"]["S"].startswith(f"{ALICE}#echo#") for q in queries)


def test_the_plan_puts_the_most_selective_filter_in_the_key():
    def index_of(**filters: Any) -> tuple[str, str | None, int]:
        p = plan(ListQuery(owner="o", limit=2, **filters), owner_shards=8)
        return p.index, p.filter_expression, len(p.partitions)

    assert index_of() == ("ByOwner", None, 8)
    assert index_of(status=TaskStatus.FAILED) == ("ByOwner", None, 8)  # a status is checked on the tasks read
    assert index_of(task_type="echo", status=TaskStatus.FAILED) == ("ByType", None, 8)
    assert index_of(schedule="s", priority=Lane.HIGH) == ("BySchedule", "#priority = :priority", 1)
    assert index_of(schedule="s", task_type="echo", priority=Lane.LOW) == (
        "BySchedule",
        "task_type = :task_type AND #priority = :priority",
        1,
    )


def test_the_cli_lists_a_schedules_tasks_and_a_lane(tasklane):
    from tests.functional.test_client import cli

    assert create_schedule(tasklane).status == 201
    submit_batch(tasklane, [{"task_type": "echo", "priority": "low"}] * 3 + [{"task_type": "echo"}] * SPREAD)
    fired = [fire(tasklane, scheduled_time=f"2026-11-24T0{hour}:00:00Z") for hour in range(2)]
    code, out, _ = cli(tasklane, "--json", "list", "--schedule", "nightly-report", "--limit", "5")
    assert code == 0
    assert [t["task_id"] for t in json.loads(out)] == fired[::-1]
    code, out, _ = cli(tasklane, "--json", "list", "--priority", "low", "--limit", "2")
    assert [t["priority"] for t in json.loads(out)] == ["low", "low"]
    with pytest.raises(SystemExit) as refused:
        cli(tasklane, "list", "--priority", "urgent")
    assert refused.value.code == 2


def test_a_page_that_spends_its_read_budget_is_short_and_its_cursor_goes_on(tasklane, monkeypatch):
    from tasklane.data.tasks import listing

    monkeypatch.setattr(listing, "MAX_TASK_READS", 20)
    monkeypatch.setattr(listing, "MAX_ROUNDS", 2)
    tasks = [{"task_type": "echo", "delay_seconds": 1}] + [{"task_type": "echo"}] * 99
    ids = submit_batch(tasklane, tasks)
    assert tasklane.call(api_event("cancel_task", task_id=ids[0])).status == 200  # the oldest of 100
    pages = walk(tasklane, {"status": "cancelled", "limit": "2"})
    assert len(pages) > 1  # the budget ran out before the match: short pages, each with a cursor
    assert [task_id for page in pages for task_id in page] == [ids[0]]
    assert pages[-1] == [ids[0]]  # and the last page has no cursor
