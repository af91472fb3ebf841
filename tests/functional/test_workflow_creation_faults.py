"""A workflow's creation whose batch write loses its answer (found by the simulation, seed 7): the
write is looked up, and the workflow's barriers — items that are not tasks — are recognised as
written too, instead of failing the submission with a TypeError (500)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.functional.workflow_helpers import add, read, run_all, submit, transactions_copy_once

pytestmark = pytest.mark.usefixtures("transactions_copy_once")
assert transactions_copy_once  # the fixture, imported for this module


def _lose_answers(client, monkeypatch, *, written: bool) -> list[int]:
    original = client.batch_write_item
    calls: list[int] = []

    def write(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            if written:
                original(**kwargs)  # stored, then the answer is lost
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "BatchWriteItem")
        return original(**kwargs)

    monkeypatch.setattr(client, "batch_write_item", write)
    return calls


def test_a_workflow_whose_write_answer_is_lost_is_created_and_runs(tasklane, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    calls = _lose_answers(aws.dynamodb(), monkeypatch, written=True)
    body = submit(tasklane, {"chord": {"group": [add(1), add(2)], "then": add(10)}})
    assert calls == [1]  # one write, its answer lost, the lookup found every item
    run_all(tasklane)
    assert read(tasklane, body["workflow_id"])["status"] == "completed"


def test_a_workflow_whose_write_failed_is_a_503_and_leaves_nothing(tasklane, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    _lose_answers(aws.dynamodb(), monkeypatch, written=False)
    answer = submit(tasklane, {"chain": [add(1), add(2)]}, expect=503)
    assert answer["error"]["code"] == "service_unavailable"
    items = tasklane.dynamodb.scan(TableName=tasklane.stack.names["TasksTable"])["Items"]
    assert items == []


def test_an_undone_creation_cut_short_keeps_its_record_until_every_other_item_is_gone(tasklane, monkeypatch):
    """Found by the simulation (seed 29): the record was deleted in the same BatchWriteItem as the
    tasks; a task left unprocessed, and the invocation ended before its retry: the task stayed
    `waiting` for good with no record left for the sweep to find it by. The record goes last, alone."""
    from tasklane.data import aws
    from tasklane.data.services import services
    from tasklane.data.tasks.table import StoreUnavailable

    body = submit(tasklane, {"chain": [add(1), add(2)]})
    store = services().store.workflows()
    workflow = store.get_workflow(body["workflow_id"])
    client = aws.dynamodb()
    original = client.batch_write_item
    calls: list[int] = []

    def cut_short(**kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "BatchWriteItem")
        ((table, requests),) = kwargs["RequestItems"].items()
        original(RequestItems={table: requests[1:]})  # the first left unprocessed
        return {"UnprocessedItems": {table: requests[:1]}}

    monkeypatch.setattr(client, "batch_write_item", cut_short)
    with pytest.raises(StoreUnavailable):
        store.delete_all(workflow)
    monkeypatch.setattr(client, "batch_write_item", original)
    assert store.get_workflow(body["workflow_id"]) is not None  # the sweep can still find what is left
    store.delete_all(workflow)
    assert tasklane.dynamodb.scan(TableName=tasklane.stack.names["TasksTable"])["Items"] == []
