"""The task-types table: each owner's registered task types, keyed (owner, name), and a count per
owner held under the stack's MaxTaskTypesPerOwner by the transaction that adds one."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.data.attributes import s_attr
from tasklane.data.owned_items import COUNT_ITEM, every_named_item
from tasklane.model.errors import ServiceUnavailable, TaskTypeLimitReached
from tasklane.model.registered_types import RegisteredType

# The item that counts an owner's types; no type name can start with '#'.
_COUNT = COUNT_ITEM


class TaskTypesUnavailable(ServiceUnavailable):
    """The task-types table did not answer (after the SDK's retries)."""


def _key(owner: str, name: str) -> dict[str, Any]:
    return {"owner": s_attr(owner), "name": s_attr(name)}


def _item(task_type: RegisteredType) -> dict[str, Any]:
    definition = json.dumps(task_type.to_record(), separators=(",", ":"))
    return {**_key(task_type.owner, task_type.name), "definition": s_attr(definition)}


def _read(item: dict[str, Any]) -> RegisteredType:
    return RegisteredType.from_record(json.loads(item["definition"]["S"]))


class TaskTypeRecords:
    """Add, replace, read, list and delete an owner's task types."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def _call(self, action: str, **request: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = getattr(self._db, action)(**request)
        except (ClientError, BotoCoreError) as exc:
            raise TaskTypesUnavailable(f"{action} failed: {exc}") from exc
        return response

    def _count_change(self, owner: str, change: int, limit: int | None = None) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(owner, _COUNT),
            "UpdateExpression": "SET task_types = if_not_exists(task_types, :zero) + :change",
            "ExpressionAttributeValues": {":zero": {"N": "0"}, ":change": {"N": str(change)}},
        }
        if limit is not None:
            update["ConditionExpression"] = "attribute_not_exists(task_types) OR task_types < :limit"
            update["ExpressionAttributeValues"][":limit"] = {"N": str(limit)}
        return {"Update": update}

    def add(self, task_type: RegisteredType, limit: int) -> bool:
        """Store a new type (True) unless the owner has `limit` types already (TaskTypeLimitReached);
        False when one of that name exists (the caller replaces it)."""
        put = {
            "Put": {
                "TableName": self._table,
                "Item": _item(task_type),
                "ConditionExpression": "attribute_not_exists(#name)",
                "ExpressionAttributeNames": {"#name": "name"},
            }
        }
        try:
            self._db.transact_write_items(TransactItems=[put, self._count_change(task_type.owner, 1, limit)])
        except ClientError as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return False
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                raise TaskTypeLimitReached(limit) from None
            raise TaskTypesUnavailable(f"TransactWriteItems failed: {exc}") from exc
        except BotoCoreError as exc:
            raise TaskTypesUnavailable(f"TransactWriteItems failed: {exc}") from exc
        return True

    def replace(self, task_type: RegisteredType) -> bool:
        """Overwrite an existing type; False when it is gone (deleted meanwhile)."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item=_item(task_type),
                ConditionExpression="attribute_exists(#name)",
                ExpressionAttributeNames={"#name": "name"},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise TaskTypesUnavailable(f"PutItem failed: {exc}") from exc
        except BotoCoreError as exc:
            raise TaskTypesUnavailable(f"PutItem failed: {exc}") from exc
        return True

    def get(self, owner: str, name: str, *, consistent: bool = True) -> RegisteredType | None:
        if name == _COUNT:
            return None
        response = self._call("get_item", TableName=self._table, Key=_key(owner, name), ConsistentRead=consistent)
        item = response.get("Item")
        return _read(item) if item else None

    def list(self, owner: str) -> list[RegisteredType]:
        """Every type of `owner`, by name (at most the stack's limit per owner)."""
        return [_read(item) for item in every_named_item(self._call, self._table, owner)]

    def delete(self, owner: str, name: str) -> bool:
        """Remove a type and count it out; False when the owner has none of that name."""
        delete = {
            "Delete": {
                "TableName": self._table,
                "Key": _key(owner, name),
                "ConditionExpression": "attribute_exists(#name)",
                "ExpressionAttributeNames": {"#name": "name"},
            }
        }
        try:
            self._db.transact_write_items(TransactItems=[delete, self._count_change(owner, -1)])
        except ClientError as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return False
            raise TaskTypesUnavailable(f"TransactWriteItems failed: {exc}") from exc
        except BotoCoreError as exc:
            raise TaskTypesUnavailable(f"TransactWriteItems failed: {exc}") from exc
        return True
