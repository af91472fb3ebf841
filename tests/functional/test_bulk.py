"""Bulk actions on moto: POST /tasks/bulk starts a job, the bulk function applies it page by page,
GET /tasks/bulk/{bulk_id} reports its counts."""

from __future__ import annotations

import json

import pytest

from tests.events import ALICE, BOB, api_event, sqs_event


def submit(tasklane, task_type="echo", owner=ALICE, **fields):
    body = {"task_type": task_type, "payload": {}} | fields
    answer = tasklane.call(api_event("submit_task", owner=owner, body=body, headers={"Idempotency-Key": None}))
    assert answer.status == 202, answer.body
    return answer.body["task_id"]


def get(tasklane, task_id, owner=ALICE):
    return tasklane.call(api_event("get_task", owner=owner, task_id=task_id)).body


def start(tasklane, body, owner=ALICE):
    return tasklane.call(api_event("start_bulk", owner=owner, body=body))


def progress(tasklane, bulk_id, owner=ALICE):
    e = api_event("get_bulk", owner=owner)
    e["pathParameters"] = {"bulk_id": bulk_id}
    e["path"] = f"/tasks/bulk/{bulk_id}"
    return tasklane.call(e)


def bulk_queue(tasklane):
    return tasklane.stack.names["BulkQueue"]


def run_bulk(tasklane, duplicate_each=False):
    """Deliver the bulk queue's messages to the bulk function until none is left (each one twice
    when `duplicate_each`, as a redelivery would); returns how many pages were delivered."""
    from tasklane.handlers import bulk

    delivered = 0
    while True:
        messages = tasklane.sqs.receive_message(
            QueueUrl=bulk_queue(tasklane), MaxNumberOfMessages=1, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return delivered
        delivered += 1
        times = 2 if duplicate_each else 1
        for n in range(times):
            message = dict(messages[0], Attributes={"ApproximateReceiveCount": str(n + 1)})
            answer = bulk.lambda_handler(sqs_event([message], "bulk"), tasklane.context)
            assert answer["batchItemFailures"] == []
        tasklane.sqs.delete_message(QueueUrl=bulk_queue(tasklane), ReceiptHandle=messages[0]["ReceiptHandle"])


def fail_now(tasklane, count, owner=ALICE, task_type="fail"):
    ids = [submit(tasklane, task_type, owner=owner, max_attempts=1) for _ in range(count)]
    tasklane.drain("normal")
    for task_id in ids:
        assert get(tasklane, task_id, owner)["status"] == "failed"
    return ids


def test_bulk_retry_retries_every_failed_task_of_the_caller_and_only_those(tasklane):
    mine = fail_now(tasklane, 3)
    theirs = fail_now(tasklane, 2, owner=BOB)
    completed = submit(tasklane)
    tasklane.drain("normal")
    answer = start(tasklane, {"action": "retry", "filter": {"status": "failed"}})
    assert answer.status == 202
    assert answer.body["status"] == "running"
    assert answer.headers["location"] == f"/v1/tasks/bulk/{answer.body['bulk_id']}"
    assert progress(tasklane, answer.body["bulk_id"]).body["status"] == "running"
    run_bulk(tasklane)
    done = progress(tasklane, answer.body["bulk_id"]).body
    assert (done["status"], done["matched"], done["changed"], done["skipped"]) == ("done", 3, 3, 0)
    assert all(get(tasklane, t)["status"] == "pending" for t in mine)
    assert all(get(tasklane, t, BOB)["status"] == "failed" for t in theirs)
    assert get(tasklane, completed)["status"] == "completed"
    assert len(tasklane.receive("normal")) == 3  # queued again on their lane


def test_another_owner_cannot_read_a_bulk_action(tasklane):
    bulk_id = start(tasklane, {"action": "cancel"}).body["bulk_id"]
    answer = progress(tasklane, bulk_id, owner=BOB)
    assert answer.status == 404
    assert answer.body["error"]["code"] == "bulk_not_found"
    assert progress(tasklane, "not-an-id").status == 404


def test_a_dry_run_counts_and_changes_nothing(tasklane):
    ids = [submit(tasklane, delay_seconds=600) for _ in range(4)]
    answer = start(tasklane, {"action": "cancel", "dry_run": True})
    assert answer.body["dry_run"] is True
    run_bulk(tasklane)
    done = progress(tasklane, answer.body["bulk_id"]).body
    assert (done["status"], done["matched"], done["changed"], done["skipped"], done["dry_run"]) == (
        "done",
        4,
        0,
        0,
        True,
    )
    assert all(get(tasklane, t)["status"] == "pending" for t in ids)


def test_bulk_cancel_pages_through_more_tasks_than_one_page(tasklane, monkeypatch):
    from tasklane.logic import bulk

    monkeypatch.setattr(bulk, "PAGE_SIZE", 3)
    ids = [submit(tasklane, delay_seconds=600) for _ in range(7)]
    bulk_id = start(tasklane, {"action": "cancel", "filter": {"status": "pending"}}).body["bulk_id"]
    assert run_bulk(tasklane) >= 3  # 7 tasks at 3 a page
    done = progress(tasklane, bulk_id).body
    assert (done["matched"], done["changed"], done["skipped"]) == (7, 7, 0)
    assert all(get(tasklane, t)["status"] == "cancelled" for t in ids)


def test_a_page_delivered_twice_counts_once(tasklane, monkeypatch):
    from tasklane.logic import bulk

    monkeypatch.setattr(bulk, "PAGE_SIZE", 2)
    ids = [submit(tasklane, delay_seconds=600) for _ in range(5)]
    bulk_id = start(tasklane, {"action": "cancel"}).body["bulk_id"]
    run_bulk(tasklane, duplicate_each=True)
    done = progress(tasklane, bulk_id).body
    assert (done["status"], done["matched"], done["changed"], done["skipped"]) == ("done", 5, 5, 0)
    assert all(get(tasklane, t)["status"] == "cancelled" for t in ids)


def test_a_dry_run_page_delivered_twice_counts_once(tasklane, monkeypatch):
    from tasklane.logic import bulk

    monkeypatch.setattr(bulk, "PAGE_SIZE", 2)
    for _ in range(5):
        submit(tasklane, delay_seconds=600)
    bulk_id = start(tasklane, {"action": "cancel", "dry_run": True}).body["bulk_id"]
    run_bulk(tasklane, duplicate_each=True)
    assert progress(tasklane, bulk_id).body["matched"] == 5


def test_two_deliveries_of_a_page_at_once_count_it_once(tasklane, monkeypatch):
    """Both read the job before either records the page: the conditional write lets one count."""
    from tasklane.data.bulk import BulkJobs
    from tasklane.data.services import services
    from tasklane.logic import bulk
    from tasklane.model.bulk import BulkPage

    for _ in range(3):
        submit(tasklane, delay_seconds=600)
    bulk_id = start(tasklane, {"action": "cancel", "dry_run": True}).body["bulk_id"]
    s = services()
    stale = s.bulk_jobs.get(bulk_id)
    bulk.run_page(BulkPage(bulk_id, 0, None), False, s.bulk_jobs, s.bulk_queue, s)
    with monkeypatch.context() as patched:
        patched.setattr(BulkJobs, "get", lambda self, _: stale)  # the second delivery's earlier read
        bulk.run_page(BulkPage(bulk_id, 0, None), False, s.bulk_jobs, s.bulk_queue, s)
    assert progress(tasklane, bulk_id).body["matched"] == 3


def test_a_workflows_task_is_left_to_its_workflow(tasklane):
    from dataclasses import replace

    from tasklane.data.services import services
    from tasklane.logic.bulk import matches
    from tasklane.model.bulk import BulkAction, BulkFilter, BulkJob

    task = services().store.get(submit(tasklane, delay_seconds=600)).task
    job = BulkJob("b", ALICE, BulkAction.CANCEL, BulkFilter(), False, "2026-12-06T00:00:00.000Z")
    assert matches(task, job)
    assert not matches(replace(task, workflow_id="0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"), job)


def test_a_task_moved_by_something_else_first_is_skipped(tasklane, monkeypatch):
    from tasklane.logic import commands

    ids = [submit(tasklane, delay_seconds=600) for _ in range(3)]
    original = commands.cancel_task

    def raced(task_id, owner, services):
        if task_id == ids[1]:
            original(task_id, owner, services)  # cancelled one by one just before the bulk's turn
        return original(task_id, owner, services)

    monkeypatch.setattr(commands, "cancel_task", raced)
    bulk_id = start(tasklane, {"action": "cancel"}).body["bulk_id"]
    run_bulk(tasklane)
    done = progress(tasklane, bulk_id).body
    assert (done["matched"], done["changed"], done["skipped"]) == (3, 2, 1)


def test_the_filter_narrows_by_type_priority_and_creation_time(tasklane):
    from tasklane.model import clock

    early = submit(tasklane, "echo", delay_seconds=600)
    tasklane.pass_time(60)
    middle_from = clock.iso(clock.now())
    middle = [submit(tasklane, "echo", delay_seconds=600), submit(tasklane, "echo", delay_seconds=600, priority="high")]
    other_type = submit(tasklane, "compute", delay_seconds=600, payload={"n": 1})
    tasklane.pass_time(60)
    middle_to = clock.iso(clock.now())
    tasklane.pass_time(60)
    late = submit(tasklane, "echo", delay_seconds=600)
    body = {
        "action": "cancel",
        "filter": {
            "task_type": "echo",
            "priority": "normal",
            "created_after": middle_from,
            "created_before": middle_to,
        },
    }
    bulk_id = start(tasklane, body).body["bulk_id"]
    run_bulk(tasklane)
    done = progress(tasklane, bulk_id).body
    assert (done["matched"], done["changed"]) == (1, 1)
    assert done["filter"] == body["filter"]
    assert get(tasklane, middle[0])["status"] == "cancelled"
    for task_id in (early, middle[1], other_type, late):
        assert get(tasklane, task_id)["status"] == "pending"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "delete"}, "action"),
        ({}, "action"),
        ({"action": "retry", "filter": {"status": "pending"}}, "filter.status"),
        ({"action": "cancel", "filter": {"status": "completed"}}, "filter.status"),
        ({"action": "cancel", "filter": {"colour": "red"}}, "filter.colour"),
        ({"action": "cancel", "filter": {"priority": "urgent"}}, "filter.priority"),
        ({"action": "cancel", "filter": {"created_after": "2026-12-01"}}, "filter.created_after"),
        ({"action": "cancel", "filter": {"created_after": 1700000000}}, "filter.created_after"),
        (
            {
                "action": "cancel",
                "filter": {"created_after": "2026-12-02T00:00:00Z", "created_before": "2026-12-01T00:00:00Z"},
            },
            "filter.created_after",
        ),
        ({"action": "cancel", "dry_run": "yes"}, "dry_run"),
        ({"action": "cancel", "filter": {"task_type": ""}}, "filter.task_type"),
        ({"action": "cancel", "filter": {"task_type": "x" * 65}}, "filter.task_type"),
    ],
)
def test_a_bad_request_is_a_422_naming_its_field(tasklane, body, field):
    answer = start(tasklane, body)
    assert answer.status == 422, answer.body
    assert field in [d["field"] for d in answer.body["error"]["details"]]
    assert tasklane.sqs.receive_message(QueueUrl=bulk_queue(tasklane)).get("Messages") is None  # nothing started


def test_boundaries_that_pass(tasklane):
    body = {"action": "cancel", "filter": {"task_type": "x" * 64, "status": "scheduled"}}
    assert start(tasklane, body).status == 202
    assert start(tasklane, {"action": "retry", "filter": {"status": "cancelled"}}).status == 202


def test_a_body_that_is_not_json_is_a_400(tasklane):
    e = api_event("start_bulk", raw_body="{not json")
    answer = tasklane.call(e)
    assert answer.status == 400
    assert tasklane.call(api_event("start_bulk", body=[1, 2])).status == 422


def test_the_page_message_round_trips():
    from tasklane.model.bulk import BulkPage

    for page in (BulkPage("b", 0, None), BulkPage("b", 7, "2026-12-06T10:00:00.000Z#001#x")):
        assert BulkPage.from_json(page.to_json()) == page
    for bad in ("{}", "[]", "nope", json.dumps({"bulk_id": 1, "page": 0, "position": None})):
        with pytest.raises(ValueError, match="not a bulk page message"):
            BulkPage.from_json(bad)


def test_the_openapi_document_describes_the_bulk_routes(tasklane):
    document = tasklane.call(api_event("openapi")).body
    start_op = document["paths"]["/tasks/bulk"]["post"]
    schema = start_op["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/BulkRequest"}
    assert set(document["components"]["schemas"]["BulkRequest"]["properties"]) == {"action", "filter", "dry_run"}
    progress_op = document["paths"]["/tasks/bulk/{bulk_id}"]["get"]
    assert progress_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("BulkProgress")
