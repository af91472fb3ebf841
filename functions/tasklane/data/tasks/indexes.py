"""Reads of the table's indexes: a caller's listing (ByOwner), the reconciler's due tasks (Sweep) and
the scheduled tasks coming due (Due).

ByOwner projects only what never changes after submission (task_type, priority, created_at), so a
task writes it once, at submission, and its claim and completion do not. A listing reads the page's
keys from it, filtered by type and priority there, then the tasks themselves by BatchGetItem
(eventually consistent, like the index), filtered by status after that read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.data.tasks.codec import (
    BY_OWNER_INDEX,
    DUE_INDEX,
    LISTED_ATTRIBUTES,
    SWEEP_INDEX,
    StoredTask,
    TableLayout,
    n_attr,
    s_attr,
    to_stored,
)
from tasklane.data.tasks.table import StoreUnavailable, Table
from tasklane.model.lanes import Lane
from tasklane.model.task import DEAD_LETTERED, TaskStatus

if TYPE_CHECKING:
    from tasklane.model.listing import ListQuery


@dataclass(frozen=True)
class SweepEntry:
    """An unfinished task due for the reconciler: what the sweep decides on, from the index alone."""

    task_id: str
    owner: str
    status: TaskStatus
    sweep_at: int
    attempts: int
    max_attempts: int
    priority: Lane
    task_type: str
    correlation_id: str | None
    created_at: datetime
    lease_until: int | None = None
    unsent: bool = False  # the send at submit failed


@dataclass(frozen=True, slots=True)
class DueEntry:
    """A scheduled task coming due: what its lane message needs, from the index alone."""

    task_id: str
    owner: str
    priority: Lane
    task_type: str
    timeout_seconds: int
    due_at: int  # epoch seconds, the index's sort key
    run_at: datetime
    correlation_id: str | None = None


@dataclass(frozen=True, slots=True)
class RecentTask:
    """What the console's overview needs of a task: read from the listing index alone."""

    status: TaskStatus
    priority: Lane
    created_at: str
    finished_at: str | None
    dead_lettered: bool = False  # failed by its lane's dead-letter queue (error type DeadLettered)


_RECENT = ("status", "priority", "created_at", "finished_at", "error")


class TaskIndexes:
    """A caller's tasks, newest first, and the unfinished tasks due for the reconciler."""

    def __init__(self, client: Any, layout: TableLayout) -> None:
        self._db = client
        self._table = layout.table_name
        self._items = Table(client, layout)
        self.owner_shards = layout.owner_shards
        self.sweep_shards = layout.sweep_shards

    def _query(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            response: dict[str, Any] = self._db.query(**request)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"Query failed: {exc}") from exc
        return response

    def list_by_owner(self, query: ListQuery, max_reads: int = 3) -> tuple[list[StoredTask], str | None]:
        """A page of the caller's tasks created before `query.before` (a created_key), newest first,
        and the position to continue from. Each shard of the index is read newest first and the
        shards' keys merged; then the tasks are read in that order until the page is full. A page
        may come back short when filters skip much (follow the position)."""
        keys: list[tuple[str, str]] = []  # (created_key, task_id)
        unread_below: list[str] = []  # where a shard stopped before reaching its end
        for shard in range(self.owner_shards):
            items, stopped_at = self._read_shard(f"{query.owner}#{shard}", query, max_reads)
            keys += items
            if stopped_at:
                unread_below.append(stopped_at)
        # Below the highest point where a shard stopped, it has unread tasks: they go to the next page.
        floor = max(unread_below) if unread_below else None
        ready = sorted((k for k in keys if floor is None or k[0] >= floor), reverse=True)
        page: list[StoredTask] = []
        for start in range(0, len(ready), query.limit):
            chunk = ready[start : start + query.limit]
            found = {t.task.task_id: t for t in self._tasks([task_id for _, task_id in chunk], query.status)}
            for position, (created_key, task_id) in enumerate(chunk, start):
                if task_id in found:
                    page.append(found[task_id])
                if len(page) == query.limit:
                    return page, (created_key if position < len(ready) - 1 else floor)
        return page, floor

    def _read_shard(self, shard: str, query: ListQuery, max_reads: int) -> tuple[list[tuple[str, str]], str | None]:
        """The (created_key, task_id) of one shard's tasks matching the query's type and priority."""
        before, limit, task_type, priority = query.before, query.limit, query.task_type, query.priority
        values: dict[str, Any] = {":shard": s_attr(shard)}
        condition = "owner_shard = :shard"
        if before:
            condition += " AND created_key < :before"
            values[":before"] = s_attr(before)
        filters, names = [], {}
        if task_type:
            filters.append("task_type = :task_type")
            values[":task_type"] = s_attr(task_type)
        if priority:
            filters.append("#priority = :priority")
            values[":priority"], names["#priority"] = s_attr(priority.value), "priority"
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_OWNER_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
            "ProjectionExpression": "task_id, created_key",
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        if names:
            request["ExpressionAttributeNames"] = names
        found: list[tuple[str, str]] = []
        for _ in range(max_reads):
            response = self._query(request)
            found += [(item["created_key"]["S"], item["task_id"]["S"]) for item in response.get("Items", [])]
            last: dict[str, Any] = response.get("LastEvaluatedKey") or {}
            if not last:
                return found, None
            if len(found) >= limit:
                break
            request["ExclusiveStartKey"] = last
        return found, str(last["created_key"]["S"])  # every task of this shard newer than this was read

    def _tasks(self, task_ids: list[str], status: TaskStatus | None) -> list[StoredTask]:
        """The listed tasks of `task_ids` (only those in `status` when given); a task gone since the
        index was read (its retention ended) is left out."""
        found = [
            to_stored(item) for item in self._items.read_many(task_ids, consistent=False, attributes=LISTED_ATTRIBUTES)
        ]
        return [t for t in found if status is None or t.task.status is status]

    def recent_by_owner(self, owner: str, since: str, cap: int) -> tuple[list[RecentTask], bool]:
        """The caller's tasks created at or after `since` (ISO text), at most `cap` of them, and
        whether every one was read. The index gives their ids; the four attributes the overview
        counts are read from the table (BatchGetItem, eventually consistent)."""
        found: list[RecentTask] = []
        for shard in range(self.owner_shards):
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": BY_OWNER_INDEX,
                "KeyConditionExpression": "owner_shard = :shard AND created_key >= :since",
                "ExpressionAttributeValues": {":shard": s_attr(f"{owner}#{shard}"), ":since": s_attr(since)},
                "ProjectionExpression": "task_id",
            }
            while True:
                response = self._query(request)
                ids = [item["task_id"]["S"] for item in response.get("Items", [])][: cap - len(found)]
                for start in range(0, len(ids), 100):
                    items = self._items.read_many(ids[start : start + 100], consistent=False, attributes=_RECENT)
                    found += [
                        RecentTask(
                            status=TaskStatus(item["status"]["S"]),
                            priority=Lane(item["priority"]["S"]),
                            created_at=item["created_at"]["S"],
                            finished_at=item.get("finished_at", {}).get("S"),
                            dead_lettered=item.get("error", {}).get("M", {}).get("type", {}).get("S") == DEAD_LETTERED,
                        )
                        for item in items
                    ]
                if len(found) >= cap:
                    return found[:cap], False
                if not response.get("LastEvaluatedKey"):
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found, True

    def due_for_sweep(self, shard: str, now: int, limit: int = 100) -> list[SweepEntry]:
        response = self._query(
            {
                "TableName": self._table,
                "IndexName": SWEEP_INDEX,
                "KeyConditionExpression": "sweep_shard = :shard AND sweep_at <= :now",
                "ExpressionAttributeValues": {":shard": s_attr(shard), ":now": n_attr(now)},
                "Limit": limit,
            }
        )
        return [
            SweepEntry(
                task_id=item["task_id"]["S"],
                owner=item["owner"]["S"],
                status=TaskStatus(item["status"]["S"]),
                sweep_at=int(item["sweep_at"]["N"]),
                attempts=int(item["attempts"]["N"]),
                max_attempts=int(item["max_attempts"]["N"]),
                priority=Lane(item["priority"]["S"]),
                task_type=item["task_type"]["S"],
                correlation_id=item.get("correlation_id", {}).get("S"),
                created_at=datetime.fromisoformat(item["created_at"]["S"]),
                lease_until=int(item["lease_until"]["N"]) if "lease_until" in item else None,
                unsent="unsent" in item,
            )
            for item in response.get("Items", [])
        ]

    def due_by(self, shard: str, horizon: int, start: dict[str, Any] | None = None) -> tuple[list[DueEntry], Any]:
        """One page of a shard's scheduled tasks due at or before `horizon` (epoch seconds), earliest
        first, and where the next page starts (None at the end)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": "due_shard = :shard AND due_at <= :horizon",
            "ExpressionAttributeValues": {":shard": s_attr(shard), ":horizon": n_attr(horizon)},
        }
        if start:
            request["ExclusiveStartKey"] = start
        response = self._query(request)
        entries = [
            DueEntry(
                task_id=item["task_id"]["S"],
                owner=item["owner"]["S"],
                priority=Lane(item["priority"]["S"]),
                task_type=item["task_type"]["S"],
                timeout_seconds=int(item["timeout_seconds"]["N"]),
                due_at=int(item["due_at"]["N"]),
                run_at=datetime.fromisoformat(item["run_at"]["S"]),
                correlation_id=item.get("correlation_id", {}).get("S"),
            )
            for item in response.get("Items", [])
        ]
        return entries, response.get("LastEvaluatedKey")
