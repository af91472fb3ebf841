"""Scheduled tasks: run_at and delay_seconds up to a year, the `scheduled` status, the promoter, and
the promise that a task never starts before its time (duplicates included)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.events import ALICE, BOB, api_event, event

YEAR = 31_536_000


def submit(tasklane, owner=ALICE, **fields):
    body = {"task_type": "echo", "payload": {"x": 1}, **fields}
    return tasklane.call(api_event("submit_task", owner=owner, body=body, headers={"Idempotency-Key": None}))


def at(seconds: float) -> str:
    """ISO 8601 UTC text `seconds` from tasklane's clock (which tests move)."""
    from tasklane.model import clock

    return (clock.now() + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def promote(tasklane):
    """One minute's runs of the promoter: one invocation per group of shards, as the template has it."""
    from tasklane.handlers import promoter

    total: dict[str, int] = {}
    for group in range(4):
        run = promoter.lambda_handler({**event("promoter"), "group": group}, tasklane.context)
        total = {k: total.get(k, 0) + v for k, v in run.items()}
    return total


def test_each_promoter_run_reads_only_its_group_of_shards(tasklane):
    from tasklane.handlers import promoter

    for i in range(40):
        submit(tasklane, delay_seconds=1000 + i)
    tasklane.pass_time(1100)
    runs = [promoter.lambda_handler({"group": g, "groups": 4}, tasklane.context)["promoted"] for g in range(4)]
    assert sum(runs) == 40
    assert all(0 < n < 40 for n in runs)  # 40 tasks over 32 shards: every quarter holds some


def fields_of(answer):
    return [d["field"] for d in answer.body["error"]["details"]]


@pytest.mark.parametrize(("delay", "status"), [(YEAR, 202), (YEAR + 1, 422), (0, 202), (-1, 422)])
def test_delay_seconds_is_accepted_up_to_one_year(tasklane, delay, status):
    answer = submit(tasklane, delay_seconds=delay)
    assert answer.status == status, answer.body
    if status == 422:
        assert fields_of(answer) == ["delay_seconds"]


@pytest.mark.parametrize(
    ("run_at", "ok"),
    [
        ("2027-06-01T09:00:00Z", True),
        ("2027-06-01T09:00:00.250Z", True),
        ("2027-06-01T10:00:00+01:00", True),
        ("2030-01-01T09:00:00", False),  # no zone: whose nine o'clock?
        ("next tuesday", False),
        (1893488400, False),  # a number is not ISO 8601 text
        ("2030-02-30T09:00:00Z", False),
    ],
)
def test_run_at_must_be_iso_8601_with_a_zone(tasklane, run_at, ok):
    answer = submit(tasklane, run_at=run_at)
    if ok:
        assert answer.status == 202, answer.body
        assert answer.body["status"] == "scheduled"
    else:
        assert answer.status == 422
        assert fields_of(answer) == ["run_at"]


def test_run_at_more_than_a_year_ahead_is_refused(tasklane):
    assert submit(tasklane, run_at=at(YEAR - 60)).status == 202
    answer = submit(tasklane, run_at=at(YEAR + 60))
    assert answer.status == 422
    assert fields_of(answer) == ["run_at"]


def test_run_at_with_delay_seconds_is_a_422(tasklane):
    answer = submit(tasklane, run_at=at(3600), delay_seconds=10)
    assert answer.status == 422
    assert fields_of(answer) == ["run_at"]
    assert "not both" in answer.body["error"]["details"][0]["message"]
    assert tasklane.receive("normal") == []


def test_a_past_run_at_runs_now(tasklane):
    answer = submit(tasklane, run_at="2020-01-01T00:00:00Z")
    assert answer.status == 202
    task = answer.body
    assert task["status"] == "pending"
    assert task["run_at"] is None
    assert task["delay_seconds"] == 0
    assert tasklane.drain("normal") == 1
    assert tasklane.call(api_event("get_task", task_id=task["task_id"])).body["status"] == "completed"


def test_a_delay_within_the_queue_horizon_rides_on_the_message(tasklane):
    task = submit(tasklane, delay_seconds=900).body
    assert task["status"] == "pending"
    assert task["run_at"] is not None
    assert "due_at" not in tasklane.item(task["task_id"])


def test_a_task_due_later_is_scheduled_and_has_no_message(tasklane):
    task = submit(tasklane, delay_seconds=901).body
    assert task["status"] == "scheduled"
    assert task["delay_seconds"] == 901
    assert tasklane.receive("normal") == []
    item = tasklane.item(task["task_id"])
    assert "sweep_at" not in item  # the reconciler never takes it for a lost pending task
    assert int(item["due_at"]["N"]) == int(datetime.fromisoformat(task["run_at"]).timestamp())


def test_the_reconciler_leaves_a_scheduled_task_alone(tasklane):
    task = submit(tasklane, run_at=at(7200)).body
    tasklane.pass_time(3 * 3600)  # long past its due time, and the promoter never ran
    tasklane.reconcile()
    assert tasklane.receive("normal") == []
    assert tasklane.call(api_event("get_task", task_id=task["task_id"])).body["status"] == "scheduled"


def test_the_promoter_queues_a_task_in_the_minute_before_it_is_due(tasklane):
    task = submit(tasklane, run_at=at(3600)).body
    assert promote(tasklane)["promoted"] == 0
    tasklane.pass_time(3600 - 200)
    assert promote(tasklane)["promoted"] == 0  # not yet within the promoter's next minute
    tasklane.pass_time(150)  # 50 s before run_at
    assert promote(tasklane) == {"promoted": 1, "skipped": 0, "unsent": 0, "errors": 0}
    got = tasklane.call(api_event("get_task", task_id=task["task_id"])).body
    assert got["status"] == "pending"
    assert "due_at" not in tasklane.item(task["task_id"])
    assert promote(tasklane)["promoted"] == 0  # promoted once


def test_a_scheduled_task_never_starts_before_its_time_even_on_a_duplicate(tasklane):
    task = submit(tasklane, run_at=at(1800)).body
    tasklane.pass_time(1800 - 40)
    assert promote(tasklane)["promoted"] == 1
    # A duplicate delivered now, 40 s early: the claim refuses it.
    body = json.dumps({"task_id": task["task_id"], "owner": ALICE, "attempt": 1})
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal"), MessageBody=body)
    tasklane.drain("normal")
    assert tasklane.call(api_event("get_task", task_id=task["task_id"])).body["attempts"] == 0
    tasklane.pass_time(45)
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal"), MessageBody=body)
    tasklane.drain("normal")
    done = tasklane.call(api_event("get_task", task_id=task["task_id"])).body
    assert done["status"] == "completed"
    assert done["started_at"] >= task["run_at"]


def test_a_scheduled_task_can_be_cancelled_and_is_then_never_promoted(tasklane):
    task = submit(tasklane, run_at=at(3600)).body
    answer = tasklane.call(api_event("cancel_task", task_id=task["task_id"]))
    assert answer.status == 200
    assert answer.body["status"] == "cancelled"
    assert "due_at" not in tasklane.item(task["task_id"])
    tasklane.pass_time(3600)
    assert promote(tasklane)["promoted"] == 0
    assert tasklane.receive("normal") == []


def test_another_owner_cannot_cancel_a_scheduled_task(tasklane):
    task = submit(tasklane, run_at=at(3600)).body
    assert tasklane.call(api_event("cancel_task", owner=BOB, task_id=task["task_id"])).status == 404


def test_listing_filters_scheduled_tasks(tasklane):
    later = submit(tasklane, run_at=at(7200)).body
    submit(tasklane)
    answer = tasklane.call(api_event("list_tasks", query={"status": "scheduled"}))
    assert answer.status == 200
    assert [t["task_id"] for t in answer.body["items"]] == [later["task_id"]]
    assert answer.body["items"][0]["run_at"] == later["run_at"]


def test_a_batch_keeps_scheduled_tasks_off_the_lanes(tasklane):
    body = {"tasks": [{"task_type": "echo", "delay_seconds": 3600}, {"task_type": "echo"}]}
    answer = tasklane.call(api_event("submit_batch", body=body, headers={"Idempotency-Key": None}))
    assert answer.status == 202
    assert [r["task"]["status"] for r in answer.body["results"]] == ["scheduled", "pending"]
    assert len(tasklane.receive("normal")) == 1


def test_a_failed_send_at_promotion_is_left_to_the_reconciler(tasklane, monkeypatch):
    from tasklane.data.queues import LaneQueues

    task = submit(tasklane, run_at=at(1000)).body
    tasklane.pass_time(1000)
    with monkeypatch.context() as patched:
        patched.setattr(LaneQueues, "send_many", lambda self, lane, messages: [m.task_id for m, _ in messages])
        assert promote(tasklane)["unsent"] == 1
    tasklane.pass_time(1)
    assert tasklane.reconcile()["requeued"] == 1
    tasklane.drain("normal")
    assert tasklane.call(api_event("get_task", task_id=task["task_id"])).body["status"] == "completed"


def test_the_promoter_reads_every_shard_and_many_pages(tasklane):
    ids = [submit(tasklane, delay_seconds=3600 + i).body["task_id"] for i in range(30)]
    tasklane.pass_time(3600)
    assert promote(tasklane)["promoted"] == 30
    listed = tasklane.call(api_event("list_tasks", query={"status": "pending", "limit": "100"})).body["items"]
    assert {t["task_id"] for t in listed} == set(ids)


def test_the_promoted_message_waits_out_what_remains_of_the_delay(tasklane, monkeypatch):
    from tasklane.data.queues import LaneQueues

    sent = []
    monkeypatch.setattr(LaneQueues, "send_many", lambda self, lane, messages: sent.extend(messages) or [])
    submit(tasklane, run_at=at(1000))
    tasklane.pass_time(1000 - 30)
    promote(tasklane)
    assert len(sent) == 1
    assert 29 <= sent[0][1] <= 31


def test_a_retried_cancelled_scheduled_task_is_scheduled_again_for_its_time(tasklane):
    task = submit(tasklane, run_at=at(7200)).body
    tasklane.call(api_event("cancel_task", task_id=task["task_id"]))
    retried = tasklane.call(api_event("retry_task", task_id=task["task_id"]))
    assert retried.status == 202
    assert retried.body["status"] == "scheduled"
    assert retried.body["run_at"] == task["run_at"]
    assert tasklane.drain("normal") == 0  # not before its time: the promoter queues it when due
    tasklane.pass_time(7200)
    assert promote(tasklane)["promoted"] == 1
    tasklane.drain("normal")
    assert tasklane.call(api_event("get_task", task_id=task["task_id"])).body["status"] == "completed"


def test_a_stale_dead_letter_of_a_scheduled_task_leaves_it_scheduled(tasklane):
    task = submit(tasklane, run_at=at(3600)).body
    body = json.dumps({"task_id": task["task_id"], "owner": ALICE, "attempt": 1})
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal", dead=True), MessageBody=body)
    assert tasklane.dead_letters("normal")["batchItemFailures"] == []
    assert tasklane.call(api_event("get_task", task_id=task["task_id"])).body["status"] == "scheduled"
    assert tasklane.receive("normal") == []  # not redriven either: it is not due
