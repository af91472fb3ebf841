"""Tables of named items per owner with a count item beside them (schedules, task types): what both
read the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The item that counts an owner's named items (kept with them, updated in the same transaction).
COUNT_ITEM = "#count"


def every_named_item(call: Callable[..., dict[str, Any]], table: str, owner: str) -> list[dict[str, Any]]:
    """Every named item of `owner` (its count item left out), by name, through all pages."""
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#owner = :owner",
        "ExpressionAttributeNames": {"#owner": "owner"},
        "ExpressionAttributeValues": {":owner": {"S": owner}},
    }
    found: list[dict[str, Any]] = []
    while True:
        response = call("query", **request)
        found += [item for item in response.get("Items", []) if item["name"]["S"] != COUNT_ITEM]
        if not response.get("LastEvaluatedKey"):
            return found
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
