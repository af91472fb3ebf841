"""The simulation's DynamoDB against moto's: tasklane's own lifecycle writes, limits writes and index
queries, each sent to both, must answer alike and leave the same items (moto is too slow for the
simulation itself: 3.3 ms an UpdateItem against microseconds here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tasklane.data.claims import RatedClaims, RateRefused, RateStart, claim_change
from tasklane.data.rates import LimitsTable
from tasklane.data.tasks.codec import StoredTask, StoredValue, TableLayout, new_item
from tasklane.data.tasks.indexes import DueEntry, SweepEntry, TaskIndexes
from tasklane.data.tasks.store import TaskStore
from tasklane.data.tasks.table import TransitionRejected
from tasklane.model.lanes import Lane
from tasklane.model.rates import parse_rate
from tasklane.model.task import Task, TaskError, TaskStatus
from tests.simulation.world.dynamodb import TASK_INDEXES, FakeDynamoDB
from tests.simulation.world.runtime import World

LAYOUT = TableLayout("tasks", timedelta(days=7), sweep_shards=1, owner_shards=1, pending_grace_seconds=60, due_shards=1)
T0 = datetime(2026, 9, 21, tzinfo=UTC)
E0 = int(T0.timestamp())


def _tables(client: Any) -> None:
    def gsi(name: str, key: str, sort: str) -> dict[str, Any]:
        return {"IndexName": name, "KeySchema": [{"AttributeName": key, "KeyType": "HASH"},
                {"AttributeName": sort, "KeyType": "RANGE"}], "Projection": {"ProjectionType": "ALL"}}  # fmt: skip

    attrs = [("task_id", "S"), ("owner_shard", "S"), ("created_key", "S"), ("sweep_shard", "S"), ("sweep_at", "N"),
             ("due_shard", "S"), ("due_at", "N")]  # fmt: skip
    client.create_table(
        TableName="tasks", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "task_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in attrs],
        GlobalSecondaryIndexes=[gsi(i.name, i.hash_key, i.range_key) for i in TASK_INDEXES],
    )  # fmt: skip
    client.create_table(
        TableName="limits",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "limit_key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "limit_key", "AttributeType": "S"}],
    )


class Both:
    """A client that sends every call to moto and to the fake, and checks they agree."""

    def __init__(self, moto: Any, fake: FakeDynamoDB) -> None:
        self.moto, self.fake, self.calls = moto, fake, 0

    def __getattr__(self, operation: str) -> Any:
        def call(**request: Any) -> Any:
            answers = []
            for client in (self.moto, self.fake):
                try:
                    answers.append(("ok", getattr(client, operation)(**request)))
                except ClientError as exc:
                    extra = {k: exc.response[k] for k in ("Item", "CancellationReasons") if k in exc.response}
                    answers.append((exc.response["Error"]["Code"], extra))
            (kind_a, a), (kind_b, b) = answers
            assert kind_a == kind_b, (operation, request, answers)
            if kind_a != "ok":
                assert a == b, (operation, request, answers)
                raise ClientError({"Error": {"Code": kind_a, "Message": ""}, **a}, operation)  # type: ignore[typeddict-item]
            for key in ("Item", "Attributes"):
                assert a.get(key) == b.get(key), (operation, request, answers)
            if "Items" in a:
                assert [i["task_id"] for i in a["Items"]] == [i["task_id"] for i in b["Items"]]
            self.calls += 1
            return a

        return call


def _task(task_id: str, status: TaskStatus = TaskStatus.PENDING, run_at: str | None = None) -> dict[str, Any]:
    task = Task(task_id=task_id, task_type="t", priority=Lane.NORMAL, status=status, payload={}, max_attempts=2,
                timeout_seconds=10, created_at="2026-09-21T00:00:00.000Z", updated_at="2026-09-21T00:00:00.000Z",
                run_at=run_at)  # fmt: skip
    return new_item(StoredTask(task, "o"), "cid", StoredValue(2, text="{}"), LAYOUT)


def _rejects(call: Any) -> StoredTask | None:
    try:
        call()
    except TransitionRejected as exc:
        return exc.stored
    raise AssertionError("the change was not rejected")


def test_tasklane_writes_agree_with_moto() -> None:
    with mock_aws():
        moto = boto3.client("dynamodb", region_name="us-east-1")
        _tables(moto)
        world = World(0)
        world.faults.quiet = True
        fake = FakeDynamoDB(world, {"tasks": ("task_id", TASK_INDEXES), "limits": ("limit_key", [])})
        both = Both(moto, fake)
        store, indexes, limits = TaskStore(both, LAYOUT), TaskIndexes(both, LAYOUT), LimitsTable(both, "limits")
        store.put_new(_task("a"))
        store.put_new(_task("a"))  # the SDK's retry of the same put: recognised
        store.put_new(_task("s", TaskStatus.SCHEDULED, run_at="2026-09-21T01:00:00.000Z"))
        assert [e.task_id for e in indexes.due_for_sweep("0", 10**10)] == ["a"]
        assert store.mark_waiting("a", "rate_limit") is None
        assert store.mark_waiting("a", "rate_limit") is None  # shown already: rejected, recognised
        claimed = store.mark_processing("a", "o", T0, E0 + 100)
        assert claimed.task.attempts == 1
        assert _rejects(lambda: store.mark_processing("a", "o", T0, E0 + 100)).task.status is TaskStatus.PROCESSING
        store.mark_processing("a", "o", T0 + timedelta(seconds=200), E0 + 300)  # the lease ran out: taken over
        assert _rejects(lambda: store.cancel("a", "o", T0)) is not None
        store.mark_retrying("a", 2, TaskError("E", "m"), T0, 5)
        assert _rejects(lambda: store.mark_processing("a", "o", T0, E0 + 100)).not_before_ms is not None
        assert _rejects(lambda: store.mark_processing("a", "o", T0 + timedelta(seconds=9), E0 + 100)).task.attempts == 2
        store.mark_failed("a", TaskError("DeadLettered", "m"), T0)
        store.reopen("a", "o", T0, "c2")
        store.mark_processing("a", "o", T0 + timedelta(seconds=10), E0 + 100)
        store.mark_completed("a", 3, StoredValue(2, text="{}"), T0)
        assert _rejects(lambda: store.mark_completed("a", 2, StoredValue(2, text="{}"), T0)) is not None
        due = indexes.due_by("0", 10**10)[0]
        assert [e.task_id for e in due] == ["s"]
        assert store.promote(due[0], T0, 0) is True
        assert store.promote(due[0], T0, 0) is True  # the same change again: recognised as its own
        assert store.promote(due[0], T0 + timedelta(seconds=1), 0) is False
        store.cancel("s", "o", T0)
        entry = (
            SweepEntry(**{**indexes.due_for_sweep("0", 10**10)[0].__dict__})
            if indexes.due_for_sweep("0", 10**10)
            else None
        )
        assert entry is None or store.claim_sweep(entry, 10**10) is not None
        # A rate-limited claim: the claim and the start in one transaction, or neither.
        claims, start = RatedClaims(both, LAYOUT, "limits"), RateStart("rate#t", parse_rate("5/s").interval_ms)
        store.put_new(_task("r1"))
        store.put_new(_task("r2"))
        ms = E0 * 1000
        assert claims.claim_with_start("r1", 1, claim_change("o", T0, E0 + 100), start, ms).task.attempts == 1
        assert (
            _rejects(lambda: claims.claim_with_start("r1", 1, claim_change("o", T0, E0 + 100), start, ms)) is not None
        )
        later = T0 + timedelta(milliseconds=100)
        with pytest.raises(RateRefused) as refused:
            claims.claim_with_start("r2", 1, claim_change("o", later, E0 + 100), start, ms + 100)
        assert refused.value.wait_ms == start.interval_ms - 100
        assert store.get("r2").task.status is TaskStatus.PENDING  # refused by the rate: not claimed either
        assert limits.hold_slot("slots#x", "a@5@1", 1, 0) is True
        assert limits.hold_slot("slots#x", "b@5@2", 1, 0) is False
        assert limits.hold_slot("slots#x", "b@9@2", 1, 6) is True  # the ended lease is freed on the way
        limits.free_slot("slots#x", "b@9@2")
        assert DueEntry
        assert both.calls >= 20
