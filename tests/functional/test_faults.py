"""Faults injected at every step: each test ends with every task finished or visibly pending with
its reason, none lost and none completed twice."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from tasklane.data.queues import QueueUnavailable
from tasklane.task_types.registry import _TYPES, TaskType
from tests.events import ALICE, api_event, sqs_event


def submit(tasklane, task_type="echo", payload=None, **fields):
    body = {"task_type": task_type, "payload": payload or {}, **fields}
    answer = tasklane.call(api_event("submit_task", body=body, headers={"Idempotency-Key": None}))
    assert answer.status == 202, answer.body
    return answer.body["task_id"]


def get(tasklane, task_id):
    return tasklane.call(api_event("get_task", task_id=task_id)).body


class Clock:
    """Moves tasklane's clock forward, as if time passed (leases expire, sweeps fall due)."""

    def __init__(self, monkeypatch):
        from tasklane.model import clock

        self.offset = timedelta()
        real = clock.now
        monkeypatch.setattr(clock, "now", lambda: real() + self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


class Crash(BaseException):
    """Stands for the process dying (OOM, Lambda timeout): nothing below it gets to run."""


@pytest.fixture
def crashing_type():
    """A task type whose first run dies mid-task and whose later runs succeed, counting its runs."""
    from pydantic import BaseModel

    runs: list[int] = []

    class Empty(BaseModel):
        pass

    def run(payload, ctx):
        runs.append(ctx.attempt)
        if len(runs) == 1:
            raise Crash
        return {"runs": len(runs)}

    _TYPES["crash_once"] = TaskType("crash_once", Empty, run, timeout_seconds=5, max_attempts=3)
    yield runs
    del _TYPES["crash_once"]


def redeliver(tasklane, lane, message):
    tasklane.sqs.change_message_visibility(
        QueueUrl=tasklane.queue_url(lane), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )


def test_a_crash_after_claiming_and_before_the_result_is_taken_over_once_the_lease_ends(tasklane, clock, crashing_type):
    task_id = submit(tasklane, "crash_once")
    message = tasklane.receive("normal")[0]
    with pytest.raises(Crash):
        tasklane._processor.lambda_handler(sqs_event([message]), tasklane.context)  # the invocation dies
    assert get(tasklane, task_id)["status"] == "processing"
    redeliver(tasklane, "normal", message)
    tasklane.drain("normal")  # too early: the lease still holds, the delivery is deferred
    assert get(tasklane, task_id)["attempts"] == 1
    from tasklane.logic.execution import LEASE_SKEW_SECONDS

    # The lease lasts as long as the invocation that held it could have lived.
    clock.advance(tasklane.context.remaining_ms // 1000 + LEASE_SKEW_SECONDS + 1)
    redeliver(
        tasklane,
        "normal",
        tasklane.sqs.receive_message(QueueUrl=tasklane.queue_url("normal"), VisibilityTimeout=0).get(
            "Messages", [message]
        )[0],
    )
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert (task["status"], task["attempts"], task["result"]) == ("completed", 2, {"runs": 2})
    assert crashing_type == [1, 2]


def test_a_crash_after_the_result_and_before_the_ack_does_not_run_the_task_again(tasklane):
    task_id = submit(tasklane, "send_email", {"to": "ada@example.com", "subject": "once"})
    message = tasklane.receive("normal")[0]
    from tasklane.handlers import processor

    tasklane.use_lane("normal")
    processor.lambda_handler(sqs_event([message]), tasklane.context)  # result written, ack lost
    finished = get(tasklane, task_id)
    redeliver(tasklane, "normal", message)
    assert tasklane.drain("normal") == 1
    assert get(tasklane, task_id) == finished


def _throttle(client, operation: str, code: str, times: int, *, applied: bool = False) -> list[str]:
    """Answer the next `times` calls of `operation` with a throttling error, which botocore retries.
    With `applied`, the write reaches the table first and only its answer is lost."""
    from moto.core.models import botocore_stubber

    seen: list[str] = []

    def answer(request, **kwargs):
        target = request.headers.get("X-Amz-Target", b"")
        if len(seen) < times and (target.decode() if isinstance(target, bytes) else target).endswith(operation):
            seen.append(operation)
            if applied:
                botocore_stubber(request=request, **kwargs)
            body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "slow down"}).encode()
            return AWSResponse(request.url, 400, {"x-amzn-ErrorType": code}, _Raw(body))
        return None

    client.meta.events.register_first("before-send", answer)
    return seen


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body

    def read(self, *_):
        return self.body


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_dynamodb_throttling_on_every_transition_is_retried_and_the_task_completes(tasklane, code, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    seen_put = _throttle(aws.dynamodb(), "PutItem", code, 2)
    seen_update = _throttle(aws.dynamodb(), "UpdateItem", code, 4)
    task_id = submit(tasklane, "generate_report", {"report": "r", "rows": 10})
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert task["status"] == "completed"
    assert task["attempts"] == 1
    assert (len(seen_put), len(seen_update)) == (2, 4)


def test_writes_whose_answer_was_lost_are_recognised_when_the_sdk_retries_them(tasklane, monkeypatch):
    """DynamoDB applied the write, the answer was lost, botocore sent it again: the condition now fails
    against our own change, which must count as done, not as a conflict or a second run."""
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    _throttle(aws.dynamodb(), "PutItem", "ThrottlingException", 1, applied=True)
    seen = _throttle(aws.dynamodb(), "UpdateItem", "ThrottlingException", 2, applied=True)
    task_id = submit(tasklane)
    assert tasklane.drain("normal") == 1
    task = get(tasklane, task_id)
    assert (task["status"], task["attempts"]) == ("completed", 1)
    assert len(seen) == 2


def test_a_failure_whose_answer_was_lost_is_recognised_when_the_sdk_retries_it(tasklane, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws
    from tasklane.data.services import services
    from tasklane.model import clock
    from tasklane.model.task import TaskError

    task_id = submit(tasklane)
    store = services().store
    store.mark_processing(task_id, ALICE, clock.now(), lease_until=clock.epoch(clock.now()) + 60)
    seen = _throttle(aws.dynamodb(), "UpdateItem", "ThrottlingException", 1, applied=True)
    failed = store.mark_failed(task_id, TaskError(type="Boom", message="m"), clock.now(), attempt=1)
    assert (failed.task.status, failed.task.error) == ("failed", TaskError(type="Boom", message="m"))
    assert len(seen) == 1


def test_dynamodb_down_at_claim_leaves_every_message_on_the_lane_without_raising(tasklane, monkeypatch):
    from tasklane.data.tasks.store import TaskStore

    ids = [submit(tasklane) for _ in range(3)]

    def unavailable(*args, **kwargs):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "UpdateItem")

    monkeypatch.setattr(TaskStore, "mark_processing", unavailable)
    messages = tasklane.receive("normal")
    response = tasklane.process("normal", messages)
    assert len(response["batchItemFailures"]) == 3
    assert {get(tasklane, t)["status"] for t in ids} == {"pending"}


def test_a_lost_race_at_completion_never_changes_a_finished_task(tasklane, monkeypatch):
    """The reconciler failed the task as stuck while it ran: the late result is dropped, not written."""
    from tasklane.data.services import services
    from tasklane.data.tasks.store import TaskStore
    from tasklane.model import clock
    from tasklane.model.task import TaskError

    task_id = submit(tasklane)
    original = TaskStore.mark_completed

    def after_a_concurrent_failure(self, task_id, attempt, result_json, now, **kwargs):
        services().store.mark_failed(task_id, TaskError(type="TaskStuck", message="x"), clock.now(), attempt=attempt)
        return original(self, task_id, attempt, result_json, now, **kwargs)

    monkeypatch.setattr(TaskStore, "mark_completed", after_a_concurrent_failure)
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert (task["status"], task["result"]) == ("failed", None)


def test_a_cancel_racing_the_claim_wins_or_loses_cleanly(tasklane, monkeypatch):
    from tasklane.data.tasks.store import TaskStore

    task_id = submit(tasklane)
    original = TaskStore.mark_processing

    def cancelled_just_before(self, *args, **kwargs):
        tasklane.call(api_event("cancel_task", task_id=task_id))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TaskStore, "mark_processing", cancelled_just_before)
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert (task["status"], task["attempts"]) == ("cancelled", 0)


def test_out_of_order_and_stale_deliveries_after_the_task_finished_are_acknowledged(tasklane):
    task_id = submit(tasklane, "fail", {"succeed_on_attempt": 2})
    first = tasklane.receive("normal")[0]
    tasklane.process("normal", [first])  # attempt 1 fails: retry scheduled
    tasklane.pass_time(900)  # the backoff ends
    redeliver(tasklane, "normal", first)
    tasklane.drain("normal")  # attempt 2 completes
    done = get(tasklane, task_id)
    assert done["status"] == "completed"
    stale = {
        "Body": json.dumps({"task_id": task_id, "owner": ALICE, "attempt": 1}),
        "ReceiptHandle": "x",
        "MessageId": "stale",
    }
    later = {
        "Body": json.dumps({"task_id": task_id, "owner": ALICE, "attempt": 3}),
        "ReceiptHandle": "y",
        "MessageId": "later",
    }
    response = tasklane._processor.lambda_handler(sqs_event([later, stale]), tasklane.context)
    assert response["batchItemFailures"] == []
    assert get(tasklane, task_id) == done


def test_concurrent_reconcilers_send_each_lost_task_once(tasklane, monkeypatch):
    from tasklane.data.queues import LaneQueues
    from tasklane.data.tasks.indexes import TaskIndexes

    with monkeypatch.context() as patch:
        patch.setattr(
            LaneQueues,
            "send",
            lambda *a, **k: (_ for _ in ()).throw(QueueUnavailable("SendMessage failed: Boom")),
        )
        ids = [submit(tasklane) for _ in range(4)]
    for task_id in ids:
        tasklane.dynamodb.update_item(
            TableName=tasklane.stack.names["TasksTable"],
            Key={"task_id": {"S": task_id}},
            UpdateExpression="SET sweep_at = :past",
            ExpressionAttributeValues={":past": {"N": "0"}},
        )
    original = TaskIndexes.due_for_sweep
    nested = {"ran": False}

    def interleaved(self, shard, now, limit=100):
        due = original(self, shard, now, limit)
        if due and not nested["ran"]:
            nested["ran"] = True
            tasklane.reconcile()  # a second reconciler runs to the end between our read and our claims
        return due

    monkeypatch.setattr(TaskIndexes, "due_for_sweep", interleaved)
    outer = tasklane.reconcile()
    messages = []
    while batch := tasklane.receive("normal"):
        messages += batch
        for m in batch:
            tasklane.sqs.delete_message(QueueUrl=tasklane.queue_url("normal"), ReceiptHandle=m["ReceiptHandle"])
    assert sorted(json.loads(m["Body"])["task_id"] for m in messages) == sorted(ids)
    assert outer["skipped"] >= 1


def test_the_lambda_timeout_mid_task_then_the_lease_takeover_completes_it(tasklane, clock, crashing_type):
    """The Lambda timeout kills the process like a crash: the lease runs out, another delivery runs it."""
    task_id = submit(tasklane, "crash_once")
    message = tasklane.receive("normal")[0]
    with pytest.raises(Crash):
        tasklane._processor.lambda_handler(sqs_event([message]), tasklane.context)
    clock.advance(3600)
    redeliver(tasklane, "normal", message)
    tasklane.drain("normal")
    assert get(tasklane, task_id)["status"] == "completed"
