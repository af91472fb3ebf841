"""The limits table: execution rates per task type and running slots per owner, shared by every
processor. Each decision is one conditional write, so concurrent processors never exceed a limit
between them.

Rates are held as the next moment a start is allowed (a generic cell rate algorithm without burst):
a start is granted when that moment has come, and moves it one interval on; it is taken in the
claim's own transaction (tasklane.data.claims). Slots are a string set of "task_id@lease" entries,
so that a run that died frees its slot when its lease ends.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.data.tasks.table import StoreUnavailable


def _update(db: Any, table: str, key: str, **request: Any) -> dict[str, Any] | None:
    """One conditional UpdateItem: None when it was applied, else the item as it was."""
    try:
        db.update_item(
            TableName=table, Key={"limit_key": {"S": key}}, ReturnValuesOnConditionCheckFailure="ALL_OLD", **request
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise StoreUnavailable(f"UpdateItem on the limits table failed: {exc}") from exc
        item: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
        return item
    except BotoCoreError as exc:
        raise StoreUnavailable(f"UpdateItem on the limits table failed: {exc}") from exc
    return None


def _lease(entry: str) -> int:
    """The lease end of a slot entry "task_id@lease_epoch@delivery"."""
    return int(entry.split("@")[1])


class LimitsTable:
    """Hold and free an owner's running slot."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def hold_slot(self, key: str, entry: str, cap: int, now: int) -> bool:
        """Hold one of `cap` slots under `key` for `entry` ("task_id@lease_epoch@delivery"); False when all
        are held by runs whose lease has not ended (ended ones are freed on the way)."""
        for _ in range(2):
            refused = _update(
                self._db,
                self._table,
                key,
                UpdateExpression="ADD holders :entry",
                ConditionExpression="attribute_not_exists(holders) OR size(holders) < :cap OR contains(holders, :one)",
                ExpressionAttributeValues={":entry": {"SS": [entry]}, ":cap": {"N": str(cap)}, ":one": {"S": entry}},
            )
            if refused is None:
                return True
            ended = [e for e in refused.get("holders", {}).get("SS", []) if _lease(e) < now]
            if not ended:
                return False
            self.free_slot(key, *ended)
        return False

    def free_slot(self, key: str, *entries: str) -> None:
        """Give slots back (a run ended, or its lease did)."""
        _update(
            self._db,
            self._table,
            key,
            UpdateExpression="DELETE holders :entries",
            ExpressionAttributeValues={":entries": {"SS": list(entries)}},
        )
