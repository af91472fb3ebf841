"""The simulation's TransactWriteItems against moto's, answer for answer (all or nothing across tables,
the cancellation reasons, the old item on request, the request's own validation), and its
ClientRequestToken and faults on their own (moto ignores the token)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws

from tasklane.data.tasks.store import TaskStore
from tasklane.data.tasks.table import StoreUnavailable
from tasklane.data.tasks.workflow_tasks import FanIn
from tasklane.model.task import TaskError, TaskStatus
from tests.simulation.test_fake_dynamodb import E0, LAYOUT, T0, Both, _tables, _task
from tests.simulation.world.dynamodb import TASK_INDEXES, FakeDynamoDB
from tests.simulation.world.runtime import World
from tests.simulation.world.transactions import TOKEN_LIFETIME_MS


def _fake(world: World | None = None) -> FakeDynamoDB:
    if world is None:
        world = World(0)
        world.faults.quiet = True
    return FakeDynamoDB(world, {"tasks": ("task_id", TASK_INDEXES), "limits": ("limit_key", [])})


def _s(v: str) -> dict[str, str]:
    return {"S": v}


def _n(v: int) -> dict[str, str]:
    return {"N": str(v)}


def _answer(client: Any, **request: Any) -> tuple[str, Any]:
    try:
        return "ok", client.transact_write_items(**request)
    except ClientError as exc:
        reasons = exc.response.get("CancellationReasons")
        return exc.response["Error"]["Code"], reasons


def _moto_items(moto: Any, table: str) -> dict[str, Any]:
    key = "task_id" if table == "tasks" else "limit_key"
    return {i[key]["S"]: i for i in moto.scan(TableName=table)["Items"]}


def _counter(key: str, by: int, below: int | None = None) -> dict[str, Any]:
    update: dict[str, Any] = {
        "TableName": "limits",
        "Key": {"limit_key": _s(key)},
        "UpdateExpression": "ADD used :by",
        "ExpressionAttributeValues": {":by": _n(by)},
    }
    if below is not None:
        update["ConditionExpression"] = "attribute_not_exists(used) OR used < :below"
        update["ExpressionAttributeValues"][":below"] = _n(below)
    return {"Update": update}


def _put(task_id: str, new: bool = True) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": "tasks", "Item": {"task_id": _s(task_id), "status": _s("pending")}}
    if new:
        put["ConditionExpression"] = "attribute_not_exists(task_id)"
        put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {"Put": put}


def _check(task_id: str, status: str) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": "tasks",
            "Key": {"task_id": _s(task_id)},
            "ConditionExpression": "#status = :s",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":s": _s(status)},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _delete(task_id: str) -> dict[str, Any]:
    return {"Delete": {"TableName": "tasks", "Key": {"task_id": _s(task_id)}}}


CASES: list[list[dict[str, Any]]] = [
    [_put("a"), _counter("count#o", 1, below=2)],  # across tables: both applied
    [_put("b"), _counter("count#o", 1, below=2), _check("a", "pending")],  # with a passing check
    [_put("c"), _counter("count#o", 1, below=2)],  # the count is at its limit: nothing applied
    [_put("a"), _counter("count#x", 5)],  # the put's item exists: its old item comes back
    [_put("d"), _check("zz", "pending")],  # the check's item does not exist: no item returned
    [_check("a", "done"), _delete("b"), _counter("count#x", 1)],  # a failing check keeps b
    [_check("a", "pending"), _delete("b"), _put("e", new=False)],  # all pass: b deleted, e put
    [_put("f"), _counter("count#y", 1), _check("f", "pending")],  # two operations on one item
]


def test_transactions_agree_with_moto() -> None:
    with mock_aws():
        moto = boto3.client("dynamodb", region_name="us-east-1")
        _tables(moto)
        fake = _fake()
        codes = []
        for case in CASES:
            expected, got = _answer(moto, TransactItems=case), _answer(fake, TransactItems=case)
            codes.append(got[0])
            assert got[0] == expected[0], (case, expected, got)
            if expected[0] == "TransactionCanceledException":
                assert got[1] == expected[1], (case, expected, got)
            for table in ("tasks", "limits"):
                assert fake.items[table] == _moto_items(moto, table), (case, table)
        assert codes == ["ok", "ok"] + ["TransactionCanceledException"] * 4 + ["ok"] + ["ValidationException"]
        assert set(fake.items["tasks"]) == {"a", "e"}
        assert fake.items["limits"]["count#o"]["used"] == _n(2)


def test_a_workflow_tasks_end_and_its_countdown_agree_with_moto() -> None:
    """tasklane's own transaction (data/workflow_tasks.finish), sent to both: the task fails and its
    barrier counts down together; the same transition again is recognised; a barrier at zero refuses."""
    with mock_aws():
        moto = boto3.client("dynamodb", region_name="us-east-1")
        _tables(moto)
        both = Both(moto, _fake())
        store = TaskStore(both, LAYOUT)
        barrier = {"task_id": _s("wf#w#b0"), "workflow_id": _s("w"), "remaining": _n(1), "failed": _n(0)}
        both.put_item(TableName="tasks", Item=barrier)
        for task_id in ("x", "y"):
            store.put_new(_task(task_id))
            store.mark_processing(task_id, "o", T0, E0 + 100)
        error = TaskError("E", "m")
        failed = store.mark_failed("x", error, T0, attempt=1, fan_in=FanIn("wf#w#b0", True, "tok-x"))
        assert failed.task.status is TaskStatus.FAILED
        # the same transition past its token's life (moto ignores tokens: both see the condition refuse)
        again = store.mark_failed("x", error, T0, attempt=1, fan_in=FanIn("wf#w#b0", True, "tok-x-later"))
        assert again.task.status is TaskStatus.FAILED  # its own change, recognised
        got = both.get_item(TableName="tasks", Key={"task_id": _s("wf#w#b0")})["Item"]
        assert (got["remaining"], got["failed"]) == (_n(0), _n(1))
        # the barrier is at zero (it cannot be: a barrier counts its inputs): y's end is not applied
        with pytest.raises(StoreUnavailable):
            store.mark_failed("y", error, T0, attempt=1, fan_in=FanIn("wf#w#b0", True, "tok-y"))
        assert store.get("y").task.status is TaskStatus.PROCESSING


def test_a_token_makes_a_resend_answer_the_same_without_applying_twice() -> None:
    world = World(0)
    world.faults.quiet = True
    fake = _fake(world)
    request = [_counter("count#o", 1)]
    fake.transact_write_items(TransactItems=request, ClientRequestToken="t1")
    fake.transact_write_items(TransactItems=request, ClientRequestToken="t1")  # a resend: same success
    assert fake.items["limits"]["count#o"]["used"] == _n(1)
    with pytest.raises(ClientError) as mismatch:
        fake.transact_write_items(TransactItems=[_counter("count#o", 2)], ClientRequestToken="t1")
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    fake.transact_write_items(TransactItems=request, ClientRequestToken="t2")  # another token: applied
    assert fake.items["limits"]["count#o"]["used"] == _n(2)
    world.advance(TOKEN_LIFETIME_MS - 1)  # just under ten minutes: still remembered
    fake.transact_write_items(TransactItems=request, ClientRequestToken="t1")
    assert fake.items["limits"]["count#o"]["used"] == _n(2)
    world.advance(1)  # at ten minutes: a new request
    fake.transact_write_items(TransactItems=request, ClientRequestToken="t1")
    assert fake.items["limits"]["count#o"]["used"] == _n(3)
    assert fake.transactions.replays == 2


def test_a_cancelled_transaction_leaves_its_token_unused() -> None:
    fake = _fake()
    fake.put_item(TableName="limits", Item={"limit_key": _s("count#o"), "used": _n(0)})
    request = [_counter("count#o", 1, below=0)]
    with pytest.raises(ClientError) as cancelled:
        fake.transact_write_items(TransactItems=request, ClientRequestToken="t")
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert fake.items["limits"]["count#o"]["used"] == _n(0)
    fake.put_item(TableName="limits", Item={"limit_key": _s("count#o"), "used": _n(-1)})
    fake.transact_write_items(TransactItems=request, ClientRequestToken="t")  # decided afresh: applied
    assert fake.items["limits"]["count#o"]["used"] == _n(0)


def _stormy(fault: str) -> tuple[World, FakeDynamoDB]:
    world = World(0)
    world.faults.quiet = False
    for name in ("db_throttle", "db_retried", "db_lost", "crash"):
        setattr(world.faults, name, 0.0)
    setattr(world.faults, fault, 1.0)
    return world, _fake(world)


def test_an_answer_lost_and_retried_by_the_sdk_is_applied_once() -> None:
    _, fake = _stormy("db_retried")
    fake.transact_write_items(TransactItems=[_counter("count#o", 1)])  # no token: botocore's own
    assert fake.items["limits"]["count#o"]["used"] == _n(1)
    assert fake.transactions.replays == 1
    fake.transact_write_items(TransactItems=[_counter("count#o", 1)])  # another call: another token
    assert fake.items["limits"]["count#o"]["used"] == _n(2)


def test_an_answer_lost_for_good_was_applied() -> None:
    world, fake = _stormy("db_lost")
    with pytest.raises(ReadTimeoutError):
        fake.transact_write_items(TransactItems=[_counter("count#o", 1)], ClientRequestToken="t")
    assert fake.items["limits"]["count#o"]["used"] == _n(1)
    world.faults.quiet = True
    fake.transact_write_items(TransactItems=[_counter("count#o", 1)], ClientRequestToken="t")  # the caller's resend
    assert fake.items["limits"]["count#o"]["used"] == _n(1)


def test_a_throttled_transaction_applies_nothing() -> None:
    _, fake = _stormy("db_throttle")
    codes = set()
    for _ in range(30):
        with pytest.raises(ClientError) as refused:
            fake.transact_write_items(TransactItems=[_put("a"), _counter("count#o", 1)])
        response = refused.value.response
        reasons = [r["Code"] for r in response.get("CancellationReasons", [])]
        codes.add(response["Error"]["Code"] if not reasons else next(c for c in reasons if c != "None"))
        assert reasons == [] or len(reasons) == 2
    assert codes == {"ProvisionedThroughputExceededException", "ThrottlingError", "TransactionConflict"}
    assert fake.items["tasks"] == {}
    assert fake.items["limits"] == {}


def test_an_update_that_cannot_apply_cancels_the_transaction() -> None:
    fake = _fake()
    fake.put_item(TableName="limits", Item={"limit_key": _s("k"), "used": _s("text")})
    with pytest.raises(ClientError) as cancelled:
        fake.transact_write_items(TransactItems=[_put("a"), _counter("k", 1)])
    reasons = cancelled.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ValidationError"]
    assert fake.items["tasks"] == {}


@pytest.mark.parametrize("count", [100, 101])
def test_at_most_a_hundred_items(count: int) -> None:
    fake = _fake()
    request = [_put(f"t{i}") for i in range(count)]
    if count <= 100:
        fake.transact_write_items(TransactItems=request)
        assert len(fake.items["tasks"]) == count
    else:
        with pytest.raises(ClientError) as refused:
            fake.transact_write_items(TransactItems=request)
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert fake.items["tasks"] == {}
