"""An in-memory DynamoDB client (the calls tasklane's data/ makes) whose conditions and updates are
evaluated by world.expressions, with the faults a seed injects on each call.

A write may: apply and answer; fail before applying (throttled past the SDK's retries); apply and
lose its answer, the SDK then retrying the same request (FoundationDB's commit_unknown_result:
tasklane must recognise its own change); apply and lose its answer for good (the caller sees an
error although the write happened). Every call is also a point where the scheduler may switch to
another invocation, or crash this one (before or after the call takes effect).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, ReadTimeoutError

from tasklane.data.tasks.codec import BY_OWNER_INDEX, DUE_INDEX, SWEEP_INDEX
from tests.simulation.world.expressions import (
    Context,
    ValidationError,
    apply_update,
    holds,
    parse_condition,
    parse_update,
)
from tests.simulation.world.transactions import Transactions

if TYPE_CHECKING:
    from tests.simulation.world.runtime import World

Item = dict[str, Any]


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str


# The tasks table's global indexes, as template.yaml declares them.
TASK_INDEXES = [
    Index(BY_OWNER_INDEX, "owner_shard", "created_key"),
    Index(SWEEP_INDEX, "sweep_shard", "sweep_at"),
    Index(DUE_INDEX, "due_shard", "due_at"),
]


def client_error(code: str, operation: str, **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, **extra}, operation)  # type: ignore[arg-type]


class ConditionFailed(Exception):
    def __init__(self, old: Item | None) -> None:
        self.old = old


class FakeDynamoDB:
    """Tables by name, each {key value: item}, with their key attribute and global indexes."""

    def __init__(self, world: World, tables: dict[str, tuple[str, list[Index]]]) -> None:
        self.world = world
        self.keys = {name: key for name, (key, _) in tables.items()}
        self.indexes = {name: {i.name: i for i in indexes} for name, (_, indexes) in tables.items()}
        self.items: dict[str, dict[str, Item]] = {name: {} for name in tables}
        # Called with (table, old item, new item) on every applied change: the invariant checks.
        self.observers: list[Callable[[str, Item | None, Item | None], None]] = []
        self.transactions = Transactions(self)

    # --- the world's side -------------------------------------------------------------------------

    def request(
        self, operation: str, write: bool, apply: Callable[[], Any], refusal: Callable[[], ClientError] | None = None
    ) -> Any:
        """One request, as the network and the SDK make of it (see the module's docstring). A throttled
        request raises `refusal()` (by default ProvisionedThroughputExceededException)."""
        world = self.world
        world.point(f"dynamodb.{operation}")
        fault = world.faults.dynamodb(write)
        if fault == "throttled":
            world.note_fault(f"dynamodb {operation} throttled")
            raise refusal() if refusal else client_error("ProvisionedThroughputExceededException", operation)
        if fault == "crash-before":
            world.crash(f"before {operation}")
        try:
            answer = apply()
        except ConditionFailed as exc:
            answer = exc
        if fault == "crash-after":
            world.crash(f"after {operation}")
        if fault == "retried" and write:
            world.note_fault(f"{operation} answer lost, the SDK retried")
            try:
                answer = apply()
            except ConditionFailed as exc:
                answer = exc
        elif fault == "lost" and write:
            world.note_fault(f"{operation} applied, answer lost")
            raise ReadTimeoutError(endpoint_url="https://dynamodb.sim")
        if isinstance(answer, ConditionFailed):
            extra = {"Item": copy.deepcopy(answer.old)} if answer.old is not None else {}
            raise client_error("ConditionalCheckFailedException", operation, **extra)
        return answer

    def store(self, table: str, key: str, old: Item | None, new: Item | None) -> None:
        if new is None:
            self.items[table].pop(key, None)
        else:
            self.items[table][key] = new
        for observer in self.observers:
            observer(table, old, new)

    def key_of(self, table: str, key: dict[str, Any]) -> str:
        (value,) = key.values()
        return next(iter(value.values()))

    # --- the client's calls -----------------------------------------------------------------------

    def put_item(self, TableName: str, Item: Item, ConditionExpression: str | None = None, **kw: Any) -> dict:
        key = Item[self.keys[TableName]]["S"]

        def apply() -> dict:
            old = self.items[TableName].get(key)
            ctx = Context(old, kw.get("ExpressionAttributeNames", {}), kw.get("ExpressionAttributeValues", {}))
            if ConditionExpression and not holds(parse_condition(ConditionExpression), ctx):
                raise ConditionFailed(old if kw.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None)
            self.store(TableName, key, old, copy.deepcopy(Item))
            return {}

        return self.request("PutItem", True, apply)

    def get_item(self, TableName: str, Key: dict[str, Any], **kw: Any) -> dict:
        def apply() -> dict:
            item = self.items[TableName].get(self.key_of(TableName, Key))
            return {"Item": copy.deepcopy(item)} if item is not None else {}

        return self.request("GetItem", False, apply)

    def update_item(self, TableName: str, Key: dict[str, Any], UpdateExpression: str, **kw: Any) -> dict:
        key = self.key_of(TableName, Key)
        names, values = kw.get("ExpressionAttributeNames", {}), kw.get("ExpressionAttributeValues", {})

        def apply() -> dict:
            old = self.items[TableName].get(key)
            ctx = Context(old, names, values)
            condition = kw.get("ConditionExpression")
            if condition and not holds(parse_condition(condition), ctx):
                raise ConditionFailed(old if kw.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None)
            try:
                new = apply_update(parse_update(UpdateExpression), Context(old or dict(Key), names, values))
            except ValidationError as exc:
                raise client_error("ValidationException", "UpdateItem", Message=str(exc)) from None
            self.store(TableName, key, old, new)
            return {"Attributes": copy.deepcopy(new)} if kw.get("ReturnValues") == "ALL_NEW" else {}

        return self.request("UpdateItem", True, apply)

    def delete_item(self, TableName: str, Key: dict[str, Any], **kw: Any) -> dict:
        key = self.key_of(TableName, Key)

        def apply() -> dict:
            old = self.items[TableName].get(key)
            self.store(TableName, key, old, None)
            return {}

        return self.request("DeleteItem", True, apply)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict:
        def apply() -> dict:
            responses: dict[str, list[Item]] = {}
            for table, request in RequestItems.items():
                found = [self.items[table].get(self.key_of(table, k)) for k in request["Keys"]]
                responses[table] = [copy.deepcopy(i) for i in found if i is not None]
            return {"Responses": responses, "UnprocessedKeys": {}}

        return self.request("BatchGetItem", False, apply)

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict:
        def apply() -> dict:
            unprocessed: dict[str, list[Any]] = {}
            for table, requests in RequestItems.items():
                for request in requests:
                    if self.world.faults.unprocessed():
                        unprocessed.setdefault(table, []).append(request)
                        continue
                    if "DeleteRequest" in request:
                        key = self.key_of(table, request["DeleteRequest"]["Key"])
                        if key in self.items[table]:
                            self.store(table, key, self.items[table][key], None)
                        continue
                    item = request["PutRequest"]["Item"]
                    key = item[self.keys[table]]["S"]
                    self.store(table, key, self.items[table].get(key), copy.deepcopy(item))
            return {"UnprocessedItems": unprocessed}

        return self.request("BatchWriteItem", True, apply)

    def transact_write_items(self, TransactItems: list[dict[str, Any]], **kw: Any) -> dict:
        """All or nothing, with a ClientRequestToken (see world.transactions)."""
        return self.transactions.write(TransactItems, kw.get("ClientRequestToken"))

    def query(self, TableName: str, IndexName: str, KeyConditionExpression: str, **kw: Any) -> dict:
        index = self.indexes[TableName][IndexName]
        values = kw.get("ExpressionAttributeValues", {})
        names = kw.get("ExpressionAttributeNames", {})

        def apply() -> dict:
            tree = parse_condition(KeyConditionExpression)
            rows = [
                i for i in self.items[TableName].values()
                if index.hash_key in i and index.range_key in i and holds(tree, Context(i, names, values))
            ]  # fmt: skip
            rows.sort(key=lambda i: (_sortable(i[index.range_key]), i[self.keys[TableName]]["S"]))
            if kw.get("ScanIndexForward") is False:
                rows.reverse()
            start = kw.get("ExclusiveStartKey")
            if start:
                marker = (_sortable(start[index.range_key]), start[self.keys[TableName]]["S"])
                reverse = kw.get("ScanIndexForward") is False
                rows = [
                    r for r in rows
                    if ((_sortable(r[index.range_key]), r[self.keys[TableName]]["S"]) < marker) == reverse
                    and (_sortable(r[index.range_key]), r[self.keys[TableName]]["S"]) != marker
                ]  # fmt: skip
            limit = kw.get("Limit")
            page = rows[:limit] if limit else rows
            answer: dict[str, Any] = {"Items": [copy.deepcopy(i) for i in page]}
            if limit and len(rows) > limit:
                last = page[-1]
                answer["LastEvaluatedKey"] = {
                    k: last[k] for k in (self.keys[TableName], index.hash_key, index.range_key)
                }
            if kw.get("FilterExpression"):
                flt = parse_condition(kw["FilterExpression"])
                answer["Items"] = [i for i in answer["Items"] if holds(flt, Context(i, names, values))]
            return answer

        return self.request("Query", False, apply)


def _sortable(value: dict[str, Any]) -> Any:
    ((tag, inner),) = value.items()
    return Decimal(inner) if tag == "N" else inner
