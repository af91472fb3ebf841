"""Reads of the table's indexes: a caller's listing (ByOwner, ByType, BySchedule: see
tasklane.data.tasks.listing), the reconciler's due tasks (Sweep) and the scheduled tasks coming due (Due).

The listing indexes project only what never changes after submission, so a task writes each once,
at submission, and its claim and completion do not.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.data.attributes import n_attr, s_attr
from tasklane.data.tasks.codec import BY_OWNER_INDEX, DUE_INDEX, SWEEP_INDEX, StoredTask, TableLayout
from tasklane.data.tasks.listing import TaskListing
from tasklane.data.tasks.table import StoreUnavailable, Table
from tasklane.model.lanes import Lane
from tasklane.model.task import DEAD_LETTERED, TaskStatus
from tasklane.records import record

if TYPE_CHECKING:
    from tasklane.model.listing import ListQuery


@record
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


@record(slots=True)
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


@record(slots=True)
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
        self._layout = layout
        self.owner_shards = layout.owner_shards
        self.sweep_shards = layout.sweep_shards

    def _query(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            response: dict[str, Any] = self._db.query(**request)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"Query failed: {exc}") from exc
        return response

    def list_by_owner(self, query: ListQuery) -> tuple[list[StoredTask], str | None]:
        """A page of the caller's tasks created before `query.before`, newest first, filled from the
        index that serves its filters (tasklane.data.tasks.listing), and the position to continue from."""
        return TaskListing(self._db, self._layout, self._query).page(query)

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
