"""A rate-limited type's start is its task's claim: one transaction at one moment (issue 25). The rate
then holds on what users read, the tasks' `started_at`, whatever the processors' clocks and latencies;
a delivery that claims nothing spends no start; a claim whose answer was lost is recognised."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tasklane.model.rates import Rate
from tests.events import ALICE, api_event


def submit(tasklane, task_type="send_email", **fields):
    payload = {"to": "ada@example.com", "subject": "hi"} if task_type == "send_email" else {}
    body = {"task_type": task_type, "payload": payload, **fields}
    answer = tasklane.call(api_event("submit_task", body=body, headers={"Idempotency-Key": None}))
    assert answer.status == 202, answer.body
    return answer.body["task_id"]


def get(tasklane, task_id):
    return tasklane.call(api_event("get_task", task_id=task_id)).body


def next_start_ms(tasklane, key="rate#send_email"):
    item = tasklane.dynamodb.get_item(TableName=tasklane.stack.names["LimitsTable"], Key={"limit_key": {"S": key}})
    return int(item["Item"]["next_ms"]["N"]) if "Item" in item else None


def most_in_one_second(moments: list[datetime]) -> int:
    return max(sum(1 for m in moments if first <= m < first + timedelta(seconds=1)) for first in moments)


def test_two_processors_whose_clocks_differ_never_record_more_starts_in_a_second_than_the_rate(tasklane, monkeypatch):
    """Processor A's clock is 30 ms behind B's and the answer to its first request takes 210 ms; B
    answers at once. A takes the first start of send_email (5/s: one every 220 ms), B the next five,
    each as soon as it is due. Had A's start been granted on its clock before its claim's write, its
    `started_at` (the claim's moment) would fall 210 ms after its grant: six starts in one second."""
    from tasklane.data import aws
    from tasklane.model import clock

    base = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    world = {"ms": 0, "skew_ms": 0, "slow_ms": 0}  # the true time from base; this processor's clock; its latency
    monkeypatch.setattr(clock, "now", lambda: base + timedelta(milliseconds=world["ms"] + world["skew_ms"]))
    monkeypatch.setattr(clock, "sleep", lambda seconds: world.update(ms=world["ms"] + round(seconds * 1000)))

    def answer_arrives(**_):
        world["ms"] += world["slow_ms"]
        world["slow_ms"] = 0  # only its first answer is slow

    aws.dynamodb().meta.events.register("after-call.dynamodb", answer_arrives)
    world["ms"] = -5000  # the tasks are submitted first
    ids = [submit(tasklane) for _ in range(6)]
    messages = {json.loads(m["Body"])["task_id"]: m for m in tasklane.receive("normal")}
    assert sorted(messages) == sorted(ids)

    world.update(ms=0, skew_ms=-30, slow_ms=210)  # processor A
    assert tasklane.process("normal", [messages[ids[0]]])["batchItemFailures"] == []
    world.update(skew_ms=0, slow_ms=0)  # processor B, each start on time
    for n, task_id in enumerate(ids[1:], start=1):
        world["ms"] = max(world["ms"], 220 * n)
        assert tasklane.process("normal", [messages[task_id]])["batchItemFailures"] == []

    tasks = [get(tasklane, t) for t in ids]
    assert {t["status"] for t in tasks} == {"completed"}
    starts = sorted(datetime.fromisoformat(t["started_at"]) for t in tasks)
    assert most_in_one_second(starts) == 5, [s.isoformat() for s in starts]
    # The rate's next start is one interval after the last claim's own moment.
    assert next_start_ms(tasklane) == clock.epoch_ms(starts[-1]) + Rate(5, 1).interval_ms


def test_an_unlimited_type_claims_with_one_write_and_no_transaction(tasklane):
    from tasklane.data import aws

    operations: list[str] = []
    aws.dynamodb().meta.events.register("before-call.dynamodb", lambda model, **_: operations.append(model.name))
    task_id = submit(tasklane, "echo")
    operations.clear()
    tasklane.process("normal", tasklane.receive("normal"))
    assert operations == ["UpdateItem", "UpdateItem"]  # the claim, the outcome
    assert get(tasklane, task_id)["status"] == "completed"

    submit(tasklane)  # send_email, 5/s
    operations.clear()
    tasklane.process("normal", tasklane.receive("normal"))
    # The start and the claim together, the claimed task read back, the outcome: as many requests as a
    # separate start's UpdateItem and a claim that answers the task.
    assert operations == ["TransactWriteItems", "GetItem", "UpdateItem"]


@pytest.mark.parametrize("resend_answer", ["refused", "done"])
def test_a_claim_whose_answer_was_lost_is_recognised_and_runs_once(tasklane, monkeypatch, resend_answer):
    """The transaction applies, its answer is lost, the SDK sends it again with the same token. AWS (and
    the local emulator) answer the resend as done without applying it twice; a table that ignores the
    token refuses it, as the task is claimed already. Either way the claim is ours: the task runs once."""
    from tasklane.data import aws

    client = aws.dynamodb()
    real = client.transact_write_items
    tokens: list[str] = []

    def lost_answer(**request):
        tokens.append(request["ClientRequestToken"])
        real(**request)  # applied; its answer never arrives
        tokens.append(request["ClientRequestToken"])
        return real(**request) if resend_answer == "refused" else {}

    monkeypatch.setattr(client, "transact_write_items", lost_answer)
    task_id = submit(tasklane)
    assert tasklane.process("normal", tasklane.receive("normal"))["batchItemFailures"] == []
    task = get(tasklane, task_id)
    assert (task["status"], task["attempts"], task["result"]["to"]) == ("completed", 1, "ada@example.com")
    assert tokens == [tokens[0]] * 2
    assert len(tokens[0]) <= 36  # DynamoDB's limit for a ClientRequestToken
    started_ms = int(datetime.fromisoformat(task["started_at"]).timestamp() * 1000)
    assert next_start_ms(tasklane) == started_ms + Rate(5, 1).interval_ms  # one start, spent once


def test_two_deliveries_of_one_attempt_send_different_tokens():
    """A shared token would answer the second delivery's claim as done: it would run a task that
    another delivery runs."""
    from tasklane.data.claims import claim_change, claim_token

    now = datetime(2026, 1, 1, tzinfo=UTC)
    first, second = claim_change(ALICE, now, 100), claim_change(ALICE, now, 100)
    assert claim_token("t", 1, first) == claim_token("t", 1, first)
    assert claim_token("t", 1, first) != claim_token("t", 1, second)


# Review row 12: a delivery that may not claim its task spends none of its type's starts.
@pytest.mark.parametrize("which", ["finished", "early", "running elsewhere", "cancelled"])
def test_a_delivery_that_claims_nothing_spends_no_start(tasklane, which):
    from tasklane.model.message import TaskMessage

    if which == "early":
        run_at = (datetime.now(UTC) + timedelta(seconds=600)).isoformat()
        task_id = submit(tasklane, run_at=run_at)
    else:
        task_id = submit(tasklane)
        message = tasklane.receive("normal")
        if which == "finished":
            tasklane.process("normal", message)
        elif which == "cancelled":
            assert tasklane.call(api_event("cancel_task", task_id=task_id)).status == 200
        else:
            from tasklane.data.services import services
            from tasklane.model import clock

            services().store.mark_processing(task_id, ALICE, clock.now(), clock.epoch(clock.now()) + 600)
        tasklane.pass_time(5)  # any start spent before is long due again
    before = next_start_ms(tasklane)
    duplicate = TaskMessage(task_id, ALICE, 1, timeout_seconds=30, task_type="send_email").to_json()
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal"), MessageBody=duplicate)
    tasklane.process("normal", [m for m in tasklane.receive("normal") if m["Body"] == duplicate])
    assert next_start_ms(tasklane) == before
    assert (
        get(tasklane, task_id)["status"]
        == {
            "finished": "completed",
            "early": "pending",  # its message is 600 s away on the lane
            "running elsewhere": "processing",
            "cancelled": "cancelled",
        }[which]
    )


def test_a_claim_that_meets_another_transaction_on_its_rate_asks_again_in_place(tasklane, monkeypatch):
    """DynamoDB cancels a transaction that meets another one on the same item (TransactionConflict; the
    SDK does not retry a cancelled transaction): the claim asks again a moment later, in the same
    invocation, instead of failing its delivery."""
    from botocore.exceptions import ClientError

    from tasklane.data import aws

    client = aws.dynamodb()
    real, tries = client.transact_write_items, []

    def conflict_once(**request):
        tries.append(request["ClientRequestToken"])
        if len(tries) == 1:
            reasons = [{"Code": "None"}, {"Code": "TransactionConflict", "Message": "in use"}]
            error = {"Error": {"Code": "TransactionCanceledException", "Message": "conflict"}}
            raise ClientError({**error, "CancellationReasons": reasons}, "TransactWriteItems")
        return real(**request)

    monkeypatch.setattr(client, "transact_write_items", conflict_once)
    task_id = submit(tasklane)
    assert tasklane.process("normal", tasklane.receive("normal"))["batchItemFailures"] == []
    assert (get(tasklane, task_id)["status"], get(tasklane, task_id)["attempts"]) == ("completed", 1)
    assert len(set(tries)) == 2  # a new claim, with its own token
