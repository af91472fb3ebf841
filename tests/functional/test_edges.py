"""Edges found on a second read: each test fails on the code before its fix."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from tests.events import ALICE, api_event
from tests.functional.test_faults import _throttle
from tests.functional.test_lifecycle import _make_due
from tests.functional.test_limits import _count, reconfigure, submit, submit_raw


def get(tasklane, task_id):
    return tasklane.call(api_event("get_task", task_id=task_id)).body


def _holders(tasklane, owner=ALICE, lane="normal"):
    item = tasklane.dynamodb.get_item(
        TableName=tasklane.stack.names["LimitsTable"], Key={"limit_key": {"S": f"slots#{lane}#{owner}"}}
    ).get("Item", {})
    return item.get("holders", {}).get("SS", [])


def test_an_owner_slot_is_given_back_when_the_claim_fails_with_a_service_error(tasklane, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data.tasks.store import TaskStore
    from tasklane.data.tasks.table import StoreUnavailable

    reconfigure(tasklane, monkeypatch, OWNER_CONCURRENCY_CAP="1")
    submit(tasklane)

    def down(*args, **kwargs):
        raise StoreUnavailable("UpdateItem failed: throttled")

    monkeypatch.setattr(TaskStore, "mark_processing", down)
    response = tasklane.process("normal", tasklane.receive("normal"))
    assert len(response["batchItemFailures"]) == 1
    assert _holders(tasklane) == []


def test_a_duplicate_in_the_same_second_never_frees_the_running_deliverys_slot(tasklane, monkeypatch):
    from tasklane.data.services import services
    from tasklane.logic import throttling
    from tasklane.model.message import TaskMessage

    reconfigure(tasklane, monkeypatch, OWNER_CONCURRENCY_CAP="2")
    message = TaskMessage("3f1c2a4e-8b7d-4c6e-9a1f-2b3c4d5e6f70", ALICE, 1, task_type="echo")
    lane = services().settings.processor_lane()
    running = throttling.slot_for(lane, message, 1000)
    duplicate = throttling.slot_for(lane, message, 1000)  # the same task and lease second
    assert throttling.admit(running, services()) is None
    assert throttling.admit(duplicate, services()) is None
    throttling.release(duplicate, services())  # the duplicate's claim is refused
    assert _holders(tasklane) == [running.entry]


def test_a_retry_with_a_long_error_whose_answer_was_lost_still_comes_back(tasklane, monkeypatch):
    """An error message over the stored length: the lost-answer check compares what was stored."""
    from pydantic import BaseModel

    from tasklane.task_types.registry import _TYPES, TaskType

    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    class Empty(BaseModel):
        pass

    def noisy(payload, ctx):
        _throttle(aws.dynamodb(), "UpdateItem", "ThrottlingException", 1, applied=True)
        raise RuntimeError("x" * 5000)

    _TYPES["noisy"] = TaskType("noisy", Empty, noisy, timeout_seconds=5, max_attempts=3)
    try:
        task_id = submit(tasklane, "noisy").body["task_id"]
        response = tasklane.process("normal", tasklane.receive("normal"))
    finally:
        del _TYPES["noisy"]
    assert len(response["batchItemFailures"]) == 1  # comes back after its backoff
    task = get(tasklane, task_id)
    assert (task["status"], len(task["error"]["message"])) == ("pending", 2000)


def test_a_delivery_held_by_its_owners_cap_spends_no_start_of_its_types_rate(tasklane, monkeypatch):
    from tasklane.data.services import services
    from tasklane.model import clock

    reconfigure(tasklane, monkeypatch, OWNER_CONCURRENCY_CAP="1")
    far = clock.epoch(clock.now()) + 600
    services().limits.hold_slot(f"slots#normal#{ALICE}", f"other@{far}@x", 1, clock.epoch(clock.now()))
    task_id = submit(tasklane, "send_email", {"to": "a@example.com", "subject": "s"}).body["task_id"]
    tasklane.process("normal", tasklane.receive("normal"))
    assert get(tasklane, task_id)["waiting_for"] == "owner_concurrency"
    rate = tasklane.dynamodb.get_item(
        TableName=tasklane.stack.names["LimitsTable"], Key={"limit_key": {"S": "rate#send_email"}}
    )
    assert "Item" not in rate


def test_the_reconciler_counts_held_messages_as_queued(tasklane):
    task_id = submit(tasklane).body["task_id"]
    tasklane.receive("normal")  # in flight: received, held back, not yet visible again
    _make_due(tasklane, task_id)
    report = tasklane.reconcile()
    assert (report["requeued"], report["waiting"]) == (0, 1)


def test_a_sweep_claim_whose_answer_was_lost_still_sends_the_task(tasklane, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    task_id = submit(tasklane).body["task_id"]
    for message in tasklane.receive("normal"):  # lost
        tasklane.sqs.delete_message(QueueUrl=tasklane.queue_url("normal"), ReceiptHandle=message["ReceiptHandle"])
    _make_due(tasklane, task_id)
    _throttle(aws.dynamodb(), "UpdateItem", "ThrottlingException", 1, applied=True)
    assert tasklane.reconcile()["requeued"] == 1


def test_an_explicit_retry_gives_back_the_dead_letter_redrives(tasklane):
    task_id = submit(tasklane).body["task_id"]
    tasklane.dynamodb.update_item(
        TableName=tasklane.stack.names["TasksTable"],
        Key={"task_id": {"S": task_id}},
        UpdateExpression="SET #s = :failed, redrives = :three",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":failed": {"S": "failed"}, ":three": {"N": "3"}},
    )
    assert tasklane.call(api_event("retry_task", task_id=task_id)).status == 202
    assert "redrives" not in tasklane.item(task_id)


def test_a_batch_record_stays_small_whatever_its_errors_echo(tasklane):
    """Unknown fields named in 12-byte-escaped characters: the record keeps codes, not details."""
    bad = {"task_type": "echo", **{f"{'😀' * 300}{i}": 1 for i in range(6)}}
    body = json.dumps({"tasks": [{"task_type": "echo"}] * 40 + [bad] * 60}, ensure_ascii=False)
    answer = submit_raw(tasklane, body, key="emoji", name="submit_batch")
    assert answer.status == 202
    record = tasklane.dynamodb.scan(TableName=tasklane.stack.names["IdempotencyTable"])["Items"][0]
    assert len(json.dumps(record)) < 50_000
    replay = submit_raw(tasklane, body, key="emoji", name="submit_batch")
    assert [r.get("task", {}).get("task_id") for r in replay.body["results"]] == [
        r.get("task", {}).get("task_id") for r in answer.body["results"]
    ]
    assert _count(tasklane) == 40


def test_a_batch_whose_write_and_lookup_both_fail_answers_per_item_and_its_replay_creates_nothing(
    tasklane, monkeypatch
):
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    client, calls = aws.dynamodb(), []
    original_write, original_get = client.batch_write_item, client.batch_get_item

    def write(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            original_write(**kwargs)  # stored, then the answer is lost
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "BatchWriteItem")
        return original_write(**kwargs)

    lookups = []

    def lookup(**kwargs):
        lookups.append(1)
        if len(lookups) == 1:  # the keyed batch's read of its items' own ids, before any write
            return original_get(**kwargs)
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "BatchGetItem")

    monkeypatch.setattr(client, "batch_write_item", write)
    monkeypatch.setattr(client, "batch_get_item", lookup)
    body = json.dumps({"tasks": [{"task_type": "echo", "payload": {"i": i}} for i in range(50)]})
    answer = submit_raw(tasklane, body, key="unsure", name="submit_batch")
    assert answer.status == 202, answer.body
    codes = ["task" if "task" in r else r["error"]["code"] for r in answer.body["results"]]
    assert codes == ["task"] * 25 + ["not_confirmed"] * 25
    monkeypatch.setattr(client, "batch_get_item", original_get)
    replay = submit_raw(tasklane, body, key="unsure", name="submit_batch")
    assert all("task" in r for r in replay.body["results"])  # all 50 were stored: the replay says so
    assert _count(tasklane) == 50


def test_a_keyed_batch_whose_items_cannot_be_looked_up_stores_nothing_and_can_be_replayed(tasklane, monkeypatch):
    """The read of a keyed batch's own ids comes before any write: when the table does not answer it,
    the request is a 503 that did nothing (an unconditional batch write must not overwrite a task that
    a first request stored), and the same key works once the table answers."""
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    client = aws.dynamodb()
    original_get = client.batch_get_item

    def down(**kwargs):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "BatchGetItem")

    monkeypatch.setattr(client, "batch_get_item", down)
    body = json.dumps({"tasks": [{"task_type": "echo", "payload": {"i": i}} for i in range(3)]})
    assert submit_raw(tasklane, body, key="later", name="submit_batch").status == 503
    assert _count(tasklane) == 0
    monkeypatch.setattr(client, "batch_get_item", original_get)
    replay = submit_raw(tasklane, body, key="later", name="submit_batch")
    assert [("task" in r) for r in replay.body["results"]] == [True] * 3
    assert _count(tasklane) == 3


def test_a_listing_while_the_table_is_throttled_is_a_503(tasklane, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    submit(tasklane)
    _throttle(aws.dynamodb(), "Query", "ThrottlingException", 40)
    answer = tasklane.call(api_event("list_tasks"))
    assert (answer.status, answer.body["error"]["code"]) == (503, "service_unavailable")
