"""The fan-in on moto: a task's end and its barrier's countdown in one transaction, a lost answer of
that transaction, a crash between it and the next step (the reconciler finishes it), and the
workflow's end as an event and a webhook."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ConnectionClosedError

from tasklane.model.workflow import WORKFLOW_RECHECK_SECONDS
from tests.functional.workflow_helpers import add, failing, read, run_all, statuses, submit, transactions_copy_once

pytestmark = pytest.mark.usefixtures("transactions_copy_once")
assert transactions_copy_once  # the fixture, imported for this module


def _barrier(tasklane, workflow_id: str, index: int) -> dict:
    return tasklane.item(f"wf#{workflow_id}#b{index}")


def test_a_tasks_end_and_its_barriers_countdown_are_one_transaction_with_a_token(tasklane, monkeypatch):
    from tasklane.data import aws

    client = aws.dynamodb()
    seen: list[dict] = []
    original = client.transact_write_items

    def spy(**request):
        seen.append(request)
        return original(**request)

    monkeypatch.setattr(client, "transact_write_items", spy)
    body = submit(tasklane, {"chord": {"group": [add(1), add(2)], "then": add(0)}})
    seen.clear()
    tasklane.drain("normal")
    ends = [r for r in seen if len(r["TransactItems"]) == 2 and "remaining" in json.dumps(r)]
    assert len(ends) == 3  # each child's end and the callback's own
    for request in ends:
        task_update, countdown = (item["Update"] for item in request["TransactItems"])
        assert "processing" in json.dumps(task_update["ExpressionAttributeValues"])
        assert countdown["UpdateExpression"].startswith("ADD remaining :minus")
        assert len(request["ClientRequestToken"]) == 36
    assert len({r["ClientRequestToken"] for r in ends}) == 3
    assert read(tasklane, body["workflow_id"])["result"] == 3


def test_a_lost_answer_of_the_fan_in_write_is_not_counted_twice(tasklane, monkeypatch):
    """The transaction is applied but its answer never arrives: the processor writes again (same
    request, same token), which must count the barrier down once only."""
    from tasklane.data import aws

    body = submit(tasklane, {"chord": {"group": [add(1), add(2), add(3)], "then": add(10)}})
    wid = body["workflow_id"]
    client = aws.dynamodb()
    original = client.transact_write_items
    lost: list[str] = []

    tokens: list[str] = []

    def apply_then_lose_the_answer(**request):
        tokens.append(request["ClientRequestToken"])
        answer = original(**request)
        if not lost and "remaining" in json.dumps(request):
            lost.append(request["ClientRequestToken"])
            raise ConnectionClosedError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
        return answer

    monkeypatch.setattr(client, "transact_write_items", apply_then_lose_the_answer)
    messages = tasklane.receive("normal")
    tasklane.process("normal", messages[:1])
    assert lost  # the answer of the first child's end was lost, and the write was made again
    assert tokens.count(lost[0]) == 2  # the same request, with the same ClientRequestToken
    assert _barrier(tasklane, wid, 1)["remaining"] == {"N": "2"}  # 3 children, 1 ended: counted once
    assert statuses(tasklane, wid)[0] == "completed"
    tasklane.process("normal", messages[1:])
    assert _barrier(tasklane, wid, 1)["remaining"] == {"N": "0"}
    run_all(tasklane)
    done = read(tasklane, wid)
    assert (done["status"], done["result"]) == ("completed", 16)


def test_the_reconciler_finishes_a_half_done_fan_in(tasklane, monkeypatch):
    """The last child's end and the countdown to zero are stored, then the process stops before the
    callback is queued: the reconciler finds the barrier at zero with nothing started after it."""
    from tasklane.logic.workflows import progress

    body = submit(tasklane, {"chord": {"group": [add(1), add(2)], "then": add(10)}})
    wid = body["workflow_id"]
    after_end = progress.after_end
    monkeypatch.setattr(progress, "after_end", lambda *a, **k: None)  # the process stops here
    tasklane.drain("normal")
    assert _barrier(tasklane, wid, 1)["remaining"] == {"N": "0"}
    assert "fired" not in _barrier(tasklane, wid, 1)
    assert statuses(tasklane, wid) == ["completed", "completed", "waiting"]
    monkeypatch.setattr(progress, "after_end", after_end)
    tasklane.reconcile()  # not due yet: a step in flight is left alone for a while
    assert statuses(tasklane, wid)[2] == "waiting"
    tasklane.pass_time(WORKFLOW_RECHECK_SECONDS + 1)
    tasklane.reconcile()
    assert statuses(tasklane, wid)[2] == "pending"
    assert _barrier(tasklane, wid, 1)["fired"] == {"BOOL": True}
    run_all(tasklane)
    done = read(tasklane, wid)
    assert (done["status"], done["result"]) == ("completed", 13)
    tasklane.pass_time(300)
    tasklane.reconcile()  # a second pass finds nothing to do and starts nothing twice
    assert statuses(tasklane, wid) == ["completed"] * 3


def test_the_reconciler_fails_a_workflow_whose_failure_step_was_cut_short(tasklane, monkeypatch):
    from tasklane.logic.workflows import progress

    body = submit(tasklane, {"chain": [failing(), add(2)]})
    wid = body["workflow_id"]
    after_end = progress.after_end
    monkeypatch.setattr(progress, "after_end", lambda *a, **k: None)
    run_all(tasklane)
    assert read(tasklane, wid)["status"] == "running"
    monkeypatch.setattr(progress, "after_end", after_end)
    tasklane.pass_time(WORKFLOW_RECHECK_SECONDS + 1)
    tasklane.reconcile()
    done = read(tasklane, wid)
    assert done["status"] == "failed"
    assert statuses(tasklane, wid) == ["failed", "cancelled"]
    tasklane.pass_time(121)
    tasklane.reconcile()  # the ended workflow's cancel is done: it leaves the sweep
    assert "sweep_at" not in tasklane.item(f"wf#{wid}")


def test_a_creation_cut_short_is_removed_by_the_reconciler(tasklane, monkeypatch):
    from tasklane.data.tasks.workflows import WorkflowStore

    def stop(*args, **kwargs):
        raise RuntimeError("the submit function stopped")

    move = WorkflowStore.move
    monkeypatch.setattr(WorkflowStore, "move", stop)
    body = {"root": {"chain": [add(1), add(2)]}}
    from tests.events import api_event

    answer = tasklane.call(api_event("submit_workflow", body=body, headers={"Idempotency-Key": None}))
    assert answer.status == 500
    monkeypatch.setattr(WorkflowStore, "move", move)
    scan = tasklane.dynamodb.scan(TableName=tasklane.stack.names["TasksTable"])["Items"]
    assert len(scan) == 1 + 2 + 3  # the record (creating), two waiting tasks, three barriers
    assert tasklane.receive("normal") == []  # nothing ran
    tasklane.pass_time(301)
    tasklane.reconcile()
    assert tasklane.dynamodb.scan(TableName=tasklane.stack.names["TasksTable"])["Items"] == []


def test_a_workflows_end_is_an_event_and_a_signed_webhook(tasklane, bus, stream, resolver, receivers):
    from tasklane_client import verify_signature

    from tests.functional.notify import run_events, run_webhooks, webhook_messages
    from tests.functional.test_webhook_delivery import HOOK, secret_of

    resolver.names["hooks.example.com"] = ["93.184.215.14"]
    body = submit(tasklane, {"chain": [add(1), add(2)]}, callback_url=HOOK)
    wid = body["workflow_id"]
    run_all(tasklane)
    assert run_events(stream.records()) == {"batchItemFailures": []}
    ends = [d for e, d in zip(bus.entries, bus.details(), strict=True) if e["DetailType"].startswith("Workflow")]
    assert [e["DetailType"] for e in bus.entries if e["DetailType"].startswith("Workflow")] == ["Workflow Completed"]
    assert (ends[0]["workflow_id"], ends[0]["status"], ends[0]["previous_status"]) == (wid, "completed", "running")
    # The task events go on as before, each task's own.
    assert sum(e["DetailType"] == "Task Completed" for e in bus.entries) == 2
    assert run_webhooks(webhook_messages(tasklane)) == {"batchItemFailures": []}
    (post,) = receivers.posts
    assert verify_signature(secret_of(tasklane), post.headers["Tasklane-Signature"], post.body)
    posted = json.loads(post.body)
    assert posted["event"] == "Workflow Completed"
    assert posted["workflow"]["workflow_id"] == wid
    assert posted["workflow"]["status"] == "completed"
    assert "result" not in posted["workflow"]


def test_a_cancelled_workflow_is_a_workflow_cancelled_event(tasklane, bus, stream):
    from tests.functional.notify import run_events
    from tests.functional.workflow_helpers import cancel

    body = submit(tasklane, {"chain": [add(1), add(2)]})
    assert cancel(tasklane, body["workflow_id"]).status == 200
    assert run_events(stream.records()) == {"batchItemFailures": []}
    assert [e["DetailType"] for e in bus.entries if e["DetailType"].startswith("Workflow")] == ["Workflow Cancelled"]
