"""Messages a processor sends back for later (held, backing off, put back unstarted) go back together:
one ChangeMessageVisibilityBatch for those deferred since the batch's last claim, made before its next
claim and at its end, each message away for its own delay; and a change SQS refuses loses no task."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.functional.test_limits import reconfigure
from tests.functional.test_rate_limits import get, submit


@pytest.fixture
def sqs_requests(tasklane):
    """Every SQS request the functions make, as (operation, parameters), in order."""
    from tasklane.data import aws

    requests: list[tuple[str, dict]] = []
    aws.sqs().meta.events.register(
        "before-parameter-build.sqs", lambda model, params, **_: requests.append((model.name, params))
    )
    return requests


def received(tasklane, ids: list[str]) -> list[dict]:
    """The lane's messages of these tasks, in this order."""
    by_task = {json.loads(m["Body"])["task_id"]: m for m in tasklane.receive("normal")}
    return [by_task[task_id] for task_id in ids]


def failures(response) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def warnings(caplog) -> list[dict]:
    """The processor's warnings of visibility changes not made, with their fields."""
    return [vars(r) for r in caplog.records if r.getMessage().startswith("visibility not changed")]


def test_a_batch_defers_its_messages_together_each_away_for_its_own_delay(tasklane, monkeypatch, sqs_requests):
    reconfigure(tasklane, monkeypatch, RATE_LIMITS="send_email=1/m")
    tasklane.context.remaining_ms = 150_000  # a 200 s task cannot start in it
    runs, held = submit(tasklane), submit(tasklane)
    retried = submit(tasklane, "fail", {"message": "boom"}, max_attempts=3)
    unstarted = submit(tasklane, "sleep", {"seconds": 0}, timeout_seconds=200)
    messages = received(tasklane, [runs, held, retried, unstarted])
    sqs_requests.clear()
    response = tasklane.process("normal", messages)
    assert failures(response) == [m["MessageId"] for m in messages[1:]]
    # The hold goes before the retried task's claim; the backoff and the unstarted one at the end.
    assert [name for name, _ in sqs_requests] == ["ChangeMessageVisibilityBatch"] * 2
    seconds = {e["ReceiptHandle"]: e["VisibilityTimeout"] for _, params in sqs_requests for e in params["Entries"]}
    assert [len(params["Entries"]) for _, params in sqs_requests] == [1, 2]
    assert 65 <= seconds[messages[1]["ReceiptHandle"]] <= 66  # when its type's next start is due
    assert 2 <= seconds[messages[2]["ReceiptHandle"]] <= 4  # the first retry's backoff
    assert seconds[messages[3]["ReceiptHandle"]] == 0  # at once, for an invocation with time to run it
    assert [json.loads(m["Body"])["task_id"] for m in tasklane.receive("normal")] == [unstarted]
    assert [get(tasklane, t)["status"] for t in (runs, held, retried, unstarted)] == ["completed"] + ["pending"] * 3


def test_a_hold_goes_back_before_the_next_task_of_its_batch_runs(tasklane, monkeypatch, sqs_requests):
    from tasklane.data import aws

    reconfigure(tasklane, monkeypatch, RATE_LIMITS="send_email=1/m")
    for operation in ("UpdateItem", "TransactWriteItems"):  # a rate-limited type's claim is a transaction
        aws.dynamodb().meta.events.register(
            f"before-parameter-build.dynamodb.{operation}",
            lambda params, **_: sqs_requests.append(("claim", params)),
        )
    ids = [submit(tasklane), submit(tasklane), submit(tasklane, "echo", {"n": 1})]
    messages = received(tasklane, ids)
    sqs_requests.clear()
    tasklane.process("normal", messages)
    claims = [i for i, (name, params) in enumerate(sqs_requests) if name == "claim" and ":lease" in str(params)]
    change = [i for i, (name, _) in enumerate(sqs_requests) if name == "ChangeMessageVisibilityBatch"]
    assert len(claims) == 3  # the first email's, the second email's (refused by the rate: held) and the echo's
    assert len(change) == 1
    assert claims[1] < change[0] < claims[2]
    assert get(tasklane, ids[2])["status"] == "completed"


def test_a_held_message_is_away_for_its_delay_from_when_it_was_held(tasklane, monkeypatch, visibility_calls):
    reconfigure(tasklane, monkeypatch, RATE_LIMITS="send_email=1/m,echo=40/m")
    first_echo, email, held = submit(tasklane, "echo", {"n": 0}), submit(tasklane), submit(tasklane)
    second_echo = submit(tasklane, "echo", {"n": 1})  # waits ~1.6 s in place (under WAIT_IN_PLACE_MS) to claim
    tasklane.process("normal", received(tasklane, [first_echo, email, held, second_echo]))
    assert len(visibility_calls) == 1
    # 66 s from the hold: its change goes out before the next claim waits in place for its start.
    assert 65 <= visibility_calls[0] <= 66


def test_a_change_sqs_refuses_still_reports_its_record_failed_and_the_others_go_through(tasklane, sqs_requests, caplog):
    tasklane.context.remaining_ms = 150_000
    ids = [submit(tasklane, "sleep", {"seconds": 0}, timeout_seconds=200) for _ in range(2)]
    good, stale = received(tasklane, ids)
    sqs_requests.clear()
    response = tasklane.process("normal", [good, dict(stale, ReceiptHandle="no-longer-valid")])
    assert failures(response) == [good["MessageId"], stale["MessageId"]]
    assert [name for name, _ in sqs_requests] == ["ChangeMessageVisibilityBatch"]
    # The refused one comes back after the lane's visibility timeout instead; the other at once.
    assert [json.loads(m["Body"])["task_id"] for m in tasklane.receive("normal")] == [ids[0]]
    assert [(w["task_id"], w["reason"].split(":")[0]) for w in warnings(caplog)] == [(ids[1], "ReceiptHandleIsInvalid")]


def test_a_failed_request_still_reports_every_deferred_record_failed(tasklane, monkeypatch, caplog):
    from tasklane.data import aws

    def down(**_):
        raise ClientError(
            {"Error": {"Code": "InternalError", "Message": "SQS is down"}}, "ChangeMessageVisibilityBatch"
        )

    monkeypatch.setattr(aws.sqs(), "change_message_visibility_batch", down)
    tasklane.context.remaining_ms = 150_000
    ids = [submit(tasklane, "sleep", {"seconds": 0}, timeout_seconds=200) for _ in range(2)]
    ran = submit(tasklane, "echo", {})
    messages = received(tasklane, [*ids, ran])
    response = tasklane.process("normal", messages)
    assert failures(response) == [m["MessageId"] for m in messages[:2]]
    assert get(tasklane, ran)["status"] == "completed"
    assert sorted(w["task_id"] for w in warnings(caplog)) == sorted(ids)


def test_more_than_ten_deferred_messages_go_in_tens(tasklane, sqs_requests):
    tasklane.context.remaining_ms = 150_000
    ids = [submit(tasklane, "sleep", {"seconds": 0}, timeout_seconds=200) for _ in range(12)]
    messages = tasklane.receive("normal") + tasklane.receive("normal")
    assert sorted(json.loads(m["Body"])["task_id"] for m in messages) == sorted(ids)
    sqs_requests.clear()
    response = tasklane.process("normal", messages)
    assert len(response["batchItemFailures"]) == 12
    assert [(name, len(params["Entries"])) for name, params in sqs_requests] == [
        ("ChangeMessageVisibilityBatch", 10),
        ("ChangeMessageVisibilityBatch", 2),
    ]


def test_a_record_that_errs_beside_a_deferred_one_fails_alone_and_the_deferral_is_made(
    tasklane, monkeypatch, sqs_requests
):
    from tasklane.data.tasks.store import TaskStore
    from tasklane.model.errors import ServiceUnavailable

    def table_down(*_, **__):
        raise ServiceUnavailable("UpdateItem failed: the table is down")

    tasklane.context.remaining_ms = 150_000
    unstarted = submit(tasklane, "sleep", {"seconds": 0}, timeout_seconds=200)
    broken = submit(tasklane, "echo", {})
    messages = received(tasklane, [unstarted, broken])
    monkeypatch.setattr(TaskStore, "mark_processing", table_down)
    sqs_requests.clear()
    response = tasklane.process("normal", messages)
    assert failures(response) == [m["MessageId"] for m in messages]
    assert [(name, len(params["Entries"])) for name, params in sqs_requests] == [("ChangeMessageVisibilityBatch", 1)]
    # The deferred one is back at once; the one whose claim failed after the lane's visibility timeout.
    assert [json.loads(m["Body"])["task_id"] for m in tasklane.receive("normal")] == [unstarted]
