"""A caller's listing, newest first: which index serves a query, and reading a page that fills.

Every filter that never changes after submission is served by an index key, the most selective one
in the key: a schedule (BySchedule, one key per schedule), else a task type (ByType, sharded per
caller like ByOwner), else the caller alone (ByOwner). What the key leaves — a priority, or a type
under a schedule — is filtered in the index, whose items are small (a few hundred bytes read).
A status changes with every transition, so no index keys or projects it (a transition would write
every index twice): it is checked on the tasks read from the table (BatchGetItem), and a page keeps
reading, newest first, until it is full or its read budget is spent. Only then may it come back
short, with the cursor to follow (docs/cost.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tasklane.data.attributes import s_attr
from tasklane.data.tasks.codec import (
    BY_OWNER_INDEX,
    BY_SCHEDULE_INDEX,
    BY_TYPE_INDEX,
    LISTED_ATTRIBUTES,
    StoredTask,
    TableLayout,
    schedule_key,
    to_stored,
)
from tasklane.data.tasks.table import Table
from tasklane.records import record

if TYPE_CHECKING:
    from tasklane.model.listing import ListQuery

# One page's read budget: rounds of index queries (one per partition each) and tasks read from the
# table for a status filter. Past either, the page answers what it found and the cursor goes on.
MAX_ROUNDS = 10
MAX_TASK_READS = 1000
# Index items evaluated per query when the index filters (a priority): they are small, so a query
# of this many costs a few read units and rarely leaves a page short.
FILTERED_QUERY_LIMIT = 200
_BATCH_GET_LIMIT = 100


@record
class IndexPlan:
    """Which index a query reads, its partition keys, and what the index itself still filters."""

    index: str
    key_attribute: str
    partitions: tuple[str, ...]
    filter_expression: str | None = None
    values: tuple[tuple[str, str], ...] = ()
    names: tuple[tuple[str, str], ...] = ()


def plan(query: ListQuery, owner_shards: int) -> IndexPlan:
    """The index whose key carries the query's most selective filter (schedule, then type, then the
    caller alone) and the residual filter the index applies."""
    filters: list[str] = []
    values: list[tuple[str, str]] = []
    names: list[tuple[str, str]] = []
    if query.schedule:
        index, attribute = BY_SCHEDULE_INDEX, "schedule_key"
        partitions: tuple[str, ...] = (schedule_key(query.owner, query.schedule),)
        if query.task_type:
            filters.append("task_type = :task_type")
            values.append((":task_type", query.task_type))
    elif query.task_type:
        index, attribute = BY_TYPE_INDEX, "type_shard"
        partitions = tuple(f"{query.owner}#{query.task_type}#{n}" for n in range(owner_shards))
    else:
        index, attribute = BY_OWNER_INDEX, "owner_shard"
        partitions = tuple(f"{query.owner}#{n}" for n in range(owner_shards))
    if query.priority:
        filters.append("#priority = :priority")
        values.append((":priority", query.priority.value))
        names.append(("#priority", "priority"))
    return IndexPlan(index, attribute, partitions, " AND ".join(filters) or None, tuple(values), tuple(names))


@dataclass
class _Budget:
    rounds: int = 0
    task_reads: int = 0

    def spent(self) -> bool:
        return self.rounds >= MAX_ROUNDS or self.task_reads >= MAX_TASK_READS


class TaskListing:
    """Pages of a caller's tasks, filled from the index that serves their filters."""

    def __init__(self, client: Any, layout: TableLayout, query_index: Any) -> None:
        self._table = layout.table_name
        self._items = Table(client, layout)
        self._owner_shards = layout.owner_shards
        self._query = query_index  # one Query request -> its response (StoreUnavailable on failure)

    def page(self, query: ListQuery) -> tuple[list[StoredTask], str | None]:
        """Up to `query.limit` of the caller's matching tasks created before `query.before`, newest
        first, and the position to continue from: given only when another match was seen past the
        page (or the read budget ran out first), so that a cursor never leads to an empty page."""
        index_plan = plan(query, self._owner_shards)
        want = query.limit + 1  # one more than the page: whether a next page exists
        found: list[StoredTask] = []
        before, budget = query.before, _Budget()
        while True:
            budget.rounds += 1
            keys, floor = self._round(index_plan, query, before, want)
            chunk_size = min(_BATCH_GET_LIMIT, want)
            start = 0
            while start < len(keys) and len(found) < want:
                chunk = keys[start : start + chunk_size]
                read = {t.task.task_id: t for t in self._tasks([task_id for _, task_id in chunk], query)}
                budget.task_reads += len(chunk)
                found += [read[task_id] for _, task_id in chunk if task_id in read]
                start += len(chunk)
                if query.status is not None:  # a rare status: read more of the keys at once
                    chunk_size = min(_BATCH_GET_LIMIT, chunk_size * 4)
                if budget.spent() and len(found) < want and start < len(keys):
                    return found, keys[start - 1][0]  # every key newer than this one was looked at
            if len(found) >= want:
                return found[: query.limit], found[query.limit - 1].created_key
            if floor is None or budget.spent():
                return found, floor
            before = floor

    def _round(
        self, index_plan: IndexPlan, query: ListQuery, before: str | None, want: int
    ) -> tuple[list[tuple[str, str]], str | None]:
        """One query per partition, newest first below `before`; the (created_key, task_id) pairs
        every partition has given in full (newest first) and where the next round starts."""
        keys: list[tuple[str, str]] = []
        stopped: list[str] = []  # where a partition stopped before its end
        limit = want if index_plan.filter_expression is None and query.status is None else FILTERED_QUERY_LIMIT
        for partition in index_plan.partitions:
            found, stopped_at = self._read_partition(index_plan, partition, before, max(limit, want))
            keys += found
            if stopped_at:
                stopped.append(stopped_at)
        # Below the highest point where a partition stopped, it has unread tasks: the next round's.
        floor = max(stopped) if stopped else None
        return sorted((k for k in keys if floor is None or k[0] >= floor), reverse=True), floor

    def _read_partition(
        self, index_plan: IndexPlan, partition: str, before: str | None, limit: int
    ) -> tuple[list[tuple[str, str]], str | None]:
        values: dict[str, Any] = {":key": s_attr(partition), **{name: s_attr(v) for name, v in index_plan.values}}
        condition = f"{index_plan.key_attribute} = :key"
        if before:
            condition += " AND created_key < :before"
            values[":before"] = s_attr(before)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index_plan.index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
            "ProjectionExpression": "task_id, created_key",
        }
        if index_plan.filter_expression:
            request["FilterExpression"] = index_plan.filter_expression
        if index_plan.names:
            request["ExpressionAttributeNames"] = dict(index_plan.names)
        response = self._query(request)
        found = [(item["created_key"]["S"], item["task_id"]["S"]) for item in response.get("Items", [])]
        last: dict[str, Any] = response.get("LastEvaluatedKey") or {}
        # Every task of this partition newer than its last evaluated key was looked at.
        return found, (str(last["created_key"]["S"]) if last else None)

    def _tasks(self, task_ids: list[str], query: ListQuery) -> list[StoredTask]:
        """The listed tasks of `task_ids` in the query's status (if any); a task gone since the index
        was read (its retention ended) is left out."""
        found = [
            to_stored(item) for item in self._items.read_many(task_ids, consistent=False, attributes=LISTED_ATTRIBUTES)
        ]
        return [t for t in found if query.status is None or t.task.status is query.status]
