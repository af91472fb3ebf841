"""The tasks table's item machinery: create, read, and one conditional write that recognises its own
retried change. The lifecycle transitions built on it are in tasklane.data.tasks.store."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.data.attributes import n_attr, s_attr
from tasklane.data.tasks.codec import StoredTask, TableLayout, to_stored
from tasklane.model import clock
from tasklane.model.errors import ServiceUnavailable
from tasklane.records import record

_BATCH_WRITE_LIMIT = 25
_BATCH_RETRIES = 6


class StoreUnavailable(ServiceUnavailable):
    """The table did not take or return an item (throttled or failing past the SDK's retries)."""

    public_message = "the task table did not answer; try again shortly"


class TransitionRejected(Exception):
    """The condition of a transition did not hold; `stored` is the item as it was, if any."""

    def __init__(self, stored: StoredTask | None) -> None:
        super().__init__("transition rejected")
        self.stored = stored


@record
class Change:
    """One conditional UpdateItem of a task: when it may happen, what it does, how to recognise it."""

    condition: str
    update: str
    values: dict[str, Any]
    names: dict[str, str] = field(default_factory=dict)
    applied: Callable[[StoredTask], bool] | None = None

    def request(self, table: str, task_id: str) -> dict[str, Any]:
        """The conditional update of `task_id`'s item in `table`, as an UpdateItem's parameters or a
        TransactWriteItems' Update: only an existing task, only where the condition holds."""
        return {
            "TableName": table,
            "Key": {"task_id": s_attr(task_id)},
            "ConditionExpression": f"attribute_exists(task_id) AND ({self.condition})",
            "UpdateExpression": self.update,
            "ExpressionAttributeValues": self.values,
            "ExpressionAttributeNames": {"#status": "status", **self.names},
        }


@dataclass
class BatchOutcome:
    """The ids of a batch write that were not stored, and those whose fate could not be learnt."""

    unwritten: set[str] = field(default_factory=set)
    unconfirmed: set[str] = field(default_factory=set)


def _same(found: dict[str, Any] | None, item: dict[str, Any]) -> bool:
    """Whether `found` is the item a batch wrote: a task (or a workflow's record) by its creation key,
    anything else (a workflow's barrier) by its whole content."""
    if found is None:
        return False
    if "created_key" in item:
        return found.get("created_key") == item["created_key"]
    return found == item


class Table:
    """Puts, gets and the conditional UpdateItem of task items."""

    def __init__(self, client: Any, layout: TableLayout) -> None:
        self._db = client
        self._table = layout.table_name
        self.layout = layout

    # --- creation -------------------------------------------------------------------------------

    def put_new(self, item: dict[str, Any]) -> None:
        try:
            self._db.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(task_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            existing: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
            # The SDK retried a put whose first answer was lost: the item there is this very task.
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException" and all(
                existing.get(k) == item[k] for k in ("owner", "created_key")
            ):
                return
            raise StoreUnavailable(f"PutItem failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"PutItem failed: {exc}") from exc

    def put_many(self, items: list[dict[str, Any]]) -> BatchOutcome:
        """BatchWriteItem in chunks of 25, retrying unprocessed items. A chunk whose request fails
        outright is looked up, so that items written before an answer was lost count as written;
        when the lookup fails too, its items are unconfirmed (stored or not: a replay tells)."""
        outcome = BatchOutcome()
        for start in range(0, len(items), _BATCH_WRITE_LIMIT):
            chunk = items[start : start + _BATCH_WRITE_LIMIT]
            ids = [item["task_id"]["S"] for item in chunk]
            try:
                outcome.unwritten.update(self._put_chunk(chunk))
            except (ClientError, BotoCoreError):
                try:
                    written = {i["task_id"]["S"]: i for i in self.read_many(ids, consistent=True)}
                except StoreUnavailable:
                    outcome.unconfirmed.update(ids)
                    continue
                outcome.unwritten.update(
                    i["task_id"]["S"] for i in chunk if not _same(written.get(i["task_id"]["S"]), i)
                )
        return outcome

    def _put_chunk(self, chunk: list[dict[str, Any]]) -> list[str]:
        requests = [{"PutRequest": {"Item": item}} for item in chunk]
        for attempt in range(_BATCH_RETRIES):
            response = self._db.batch_write_item(RequestItems={self._table: requests})
            requests = response.get("UnprocessedItems", {}).get(self._table, [])
            if not requests:
                break
            time.sleep(min(1.0, 0.05 * 2**attempt))
        return [r["PutRequest"]["Item"]["task_id"]["S"] for r in requests]

    def get_many(self, task_ids: list[str]) -> dict[str, StoredTask]:
        """Up to 100 tasks by id (consistent reads), unprocessed keys retried; missing ids are absent."""
        return {stored.task.task_id: stored for stored in map(to_stored, self.read_many(task_ids, consistent=True))}

    def read_many(
        self, task_ids: list[str], *, consistent: bool, attributes: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """The raw items of up to 100 task ids (only `attributes` when given), by BatchGetItem with its
        unprocessed keys retried; ids with no item are left out."""
        found: list[dict[str, Any]] = []
        keys = [{"task_id": s_attr(t)} for t in dict.fromkeys(task_ids)]
        request: dict[str, Any] = {"ConsistentRead": consistent}
        if attributes:
            names = {f"#a{i}": name for i, name in enumerate(attributes)}
            request |= {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        for attempt in range(_BATCH_RETRIES):
            if not keys:
                break
            try:
                response = self._db.batch_get_item(RequestItems={self._table: {"Keys": keys, **request}})
            except (ClientError, BotoCoreError) as exc:
                raise StoreUnavailable(f"BatchGetItem failed: {exc}") from exc
            found += response.get("Responses", {}).get(self._table, [])
            keys = response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
            if keys:
                time.sleep(min(1.0, 0.05 * 2**attempt))
        if keys:
            raise StoreUnavailable("BatchGetItem left keys unprocessed after retries")
        return found

    # --- reads ----------------------------------------------------------------------------------

    def get(self, task_id: str) -> StoredTask | None:
        try:
            response = self._db.get_item(TableName=self._table, Key={"task_id": s_attr(task_id)}, ConsistentRead=True)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"GetItem failed: {exc}") from exc
        item = response.get("Item")
        return to_stored(item) if item else None

    # --- transitions ----------------------------------------------------------------------------

    def _update(self, task_id: str, **change: Any) -> StoredTask:
        """A transition that answers with the task as it now is."""
        stored = self._write(task_id, Change(**change), returns=True)
        assert stored is not None
        return stored

    def _record(self, task_id: str, **change: Any) -> None:
        """A transition whose caller needs nothing back."""
        self._write(task_id, Change(**change), returns=False)

    def _write(self, task_id: str, change: Change, *, returns: bool) -> StoredTask | None:
        """One conditional UpdateItem. `change.applied` recognises the item this very change leaves, so
        that a write the SDK retried after its first answer was lost counts as done, not as a conflict."""
        try:
            response = self._db.update_item(
                **change.request(self._table, task_id),
                # Without a use for the new item, none is sent back: parsing it costs more than the write.
                ReturnValues="ALL_NEW" if returns else "NONE",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except BotoCoreError as exc:
            raise StoreUnavailable(f"UpdateItem failed: {exc}") from exc
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise StoreUnavailable(f"UpdateItem failed: {exc}") from exc
            item: dict[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
            current = to_stored(item) if item else None
            if current is not None and change.applied is not None and change.applied(current):
                return current
            raise TransitionRejected(current) from None
        return to_stored(response["Attributes"]) if returns else None

    def _finished(self, moment: datetime) -> dict[str, Any]:
        return {":finished": s_attr(clock.iso(moment)), ":expires": n_attr(clock.epoch(moment + self.layout.retention))}
