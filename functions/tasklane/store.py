"""The tasks table: the only module that reads or writes DynamoDB items.

Every lifecycle change is one conditional UpdateItem. A rejected change returns the item as it
was (ReturnValuesOnConditionCheckFailure), so callers learn why without a second read.
"""

from __future__ import annotations

import json
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane import clock
from tasklane.domain import Progress, Task, TaskError, TaskStatus
from tasklane.errors import ServiceUnavailable
from tasklane.lanes import Lane

BY_OWNER_INDEX = "ByOwner"
SWEEP_INDEX = "Sweep"
_BATCH_WRITE_LIMIT = 25
_BATCH_RETRIES = 6


class StoreUnavailable(ServiceUnavailable):
    """The table did not take or return an item (throttled or failing past the SDK's retries)."""


class TransitionRejected(Exception):
    """The condition of a transition did not hold; `current` is the item as it was, if any."""

    def __init__(self, stored: StoredTask | None) -> None:
        super().__init__("transition rejected")
        self.stored = stored
        self.current = stored.task if stored else None
        self.owner = stored.owner if stored else None


@dataclass(frozen=True)
class StoredTask:
    """A task with the fields only the backend sees."""

    task: Task
    owner: str
    lease_until: int | None = None
    created_key: str = ""
    claim: str | None = None  # the token of the delivery that holds the current run
    not_before_ms: int | None = None  # epoch ms before which no delivery may start it (delay, backoff)
    payload_key: str | None = None  # the values bucket's object of a large payload
    result_key: str | None = None


@dataclass(frozen=True)
class StoredValue:
    """A payload or result as the item keeps it: inline JSON text, or the key of its object."""

    size: int
    text: str | None = None
    key: str | None = None

    def attributes(self, name: str) -> dict[str, Any]:
        inline = {name: _s(self.text)} if self.text is not None else {f"{name}_key": _s(self.key or "")}
        return {**inline, f"{name}_size": _n(self.size)}


@dataclass(frozen=True)
class SweepEntry:
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


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float) -> dict[str, str]:
    return {"N": str(value)}


def _shard(task_id: str, shards: int) -> int:
    return zlib.crc32(task_id.encode()) % shards


def sweep_shard(task_id: str, shards: int) -> str:
    """Spread the sparse sweep index over `shards` partition keys."""
    return str(_shard(task_id, shards))


def owner_shard(owner: str, task_id: str, shards: int) -> str:
    """Spread one caller's tasks over `shards` partition keys of the listing index: a single busy
    caller (a service submitting everything under one role) would otherwise write one hot key."""
    return f"{owner}#{_shard(task_id, shards)}"


def _ts(item: dict[str, Any], name: str) -> str | None:
    return item[name]["S"] if name in item else None


def _int(item: dict[str, Any], name: str) -> int | None:
    return int(item[name]["N"]) if name in item else None


def to_stored(item: dict[str, Any]) -> StoredTask:
    """Read a DynamoDB item (full, or a listing projection without payload)."""
    error = item.get("error", {}).get("M")
    progress = item.get("progress", {}).get("M")
    task = Task(
        task_id=item["task_id"]["S"],
        task_type=item["task_type"]["S"],
        priority=Lane(item["priority"]["S"]),
        status=TaskStatus(item["status"]["S"]),
        payload=json.loads(item["payload"]["S"]) if "payload" in item else None,
        result=json.loads(item["result"]["S"]) if "result" in item else None,
        payload_size=_int(item, "payload_size"),
        result_size=_int(item, "result_size"),
        error=TaskError(type=error["type"]["S"], message=error["message"]["S"]) if error else None,
        progress=Progress(percent=float(progress["percent"]["N"]), message=progress.get("message", {}).get("S"))
        if progress
        else None,
        attempts=int(item["attempts"]["N"]),
        max_attempts=int(item["max_attempts"]["N"]),
        timeout_seconds=int(item["timeout_seconds"]["N"]),
        delay_seconds=int(item.get("delay_seconds", {"N": "0"})["N"]),
        created_at=item["created_at"]["S"],
        started_at=_ts(item, "started_at"),
        finished_at=_ts(item, "finished_at"),
        updated_at=item["updated_at"]["S"],
    )
    return StoredTask(
        task=task,
        owner=item["owner"]["S"],
        lease_until=_int(item, "lease_until"),
        created_key=item["created_key"]["S"],
        claim=_ts(item, "claim"),
        not_before_ms=_int(item, "not_before_ms"),
        payload_key=_ts(item, "payload_key"),
        result_key=_ts(item, "result_key"),
    )


def _error_value(error: TaskError) -> dict[str, Any]:
    return {"M": {"type": _s(error.type), "message": _s(error.message[:4000])}}


class TaskStore:
    """Reads and conditional writes of task items."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        retention_days: int,
        sweep_shards: int,
        owner_shards: int,
        pending_grace_seconds: int,
    ) -> None:
        self._db = client
        self._table = table_name
        self._retention = timedelta(days=retention_days)
        self.sweep_shards = sweep_shards
        self.owner_shards = owner_shards
        self.pending_grace_seconds = pending_grace_seconds

    def new_item(
        self, task: Task, owner: str, correlation_id: str | None, payload: StoredValue, sequence: int = 0
    ) -> dict[str, Any]:
        """The DynamoDB item of a freshly submitted task; `sequence` orders the tasks of one batch."""
        created = task.created_at
        created_ms = clock.epoch_ms(datetime.fromisoformat(created))
        sweep_at = created_ms // 1000 + task.delay_seconds + self.pending_grace_seconds
        return {
            "task_id": _s(task.task_id),
            "owner": _s(owner),
            "owner_shard": _s(owner_shard(owner, task.task_id, self.owner_shards)),
            "created_key": _s(f"{created}#{sequence:03d}#{task.task_id}"),
            "task_type": _s(task.task_type),
            "priority": _s(task.priority.value),
            "status": _s(task.status.value),
            **payload.attributes("payload"),
            "attempts": _n(0),
            "max_attempts": _n(task.max_attempts),
            # Attempts never go back: an explicit retry raises max_attempts by this budget instead.
            "attempt_budget": _n(task.max_attempts),
            "timeout_seconds": _n(task.timeout_seconds),
            "delay_seconds": _n(task.delay_seconds),
            "created_at": _s(created),
            "updated_at": _s(created),
            "sweep_shard": _s(sweep_shard(task.task_id, self.sweep_shards)),
            "sweep_at": _n(sweep_at),
            **({"correlation_id": _s(correlation_id)} if correlation_id else {}),
            # SQS holds a delayed message back, but a duplicate may come early: the claim checks this.
            **({"not_before_ms": _n(created_ms + task.delay_seconds * 1000)} if task.delay_seconds else {}),
        }

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

    def put_many(self, items: list[dict[str, Any]]) -> list[str]:
        """BatchWriteItem in chunks of 25, retrying unprocessed items; returns the ids never written.
        A chunk whose request fails outright is looked up, so that items written before an answer
        was lost count as written (the caller answers for each, and nothing is created twice)."""
        failed: list[str] = []
        for start in range(0, len(items), _BATCH_WRITE_LIMIT):
            chunk = items[start : start + _BATCH_WRITE_LIMIT]
            try:
                failed += self._put_chunk(chunk)
            except (ClientError, BotoCoreError):
                written = self.get_many([item["task_id"]["S"] for item in chunk])
                failed += [
                    i["task_id"]["S"]
                    for i in chunk
                    if (w := written.get(i["task_id"]["S"])) is None or w.created_key != i["created_key"]["S"]
                ]
        return failed

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
        found: dict[str, StoredTask] = {}
        keys = [{"task_id": _s(t)} for t in dict.fromkeys(task_ids)]
        for attempt in range(_BATCH_RETRIES):
            if not keys:
                break
            try:
                response = self._db.batch_get_item(RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}})
            except (ClientError, BotoCoreError) as exc:
                raise StoreUnavailable(f"BatchGetItem failed: {exc}") from exc
            for item in response.get("Responses", {}).get(self._table, []):
                stored = to_stored(item)
                found[stored.task.task_id] = stored
            keys = response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
            if keys:
                time.sleep(min(1.0, 0.05 * 2**attempt))
        if keys:
            raise StoreUnavailable("BatchGetItem left keys unprocessed after retries")
        return found

    # --- reads ----------------------------------------------------------------------------------

    def get(self, task_id: str) -> StoredTask | None:
        try:
            response = self._db.get_item(TableName=self._table, Key={"task_id": _s(task_id)}, ConsistentRead=True)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"GetItem failed: {exc}") from exc
        item = response.get("Item")
        return to_stored(item) if item else None

    def list_by_owner(
        self,
        owner: str,
        *,
        limit: int,
        before: str | None,
        status: TaskStatus | None,
        task_type: str | None,
        max_reads: int = 3,
    ) -> tuple[list[StoredTask], str | None]:
        """A page of the caller's tasks created before `before` (a created_key), newest first, and
        the position to continue from. Each shard of the index is read newest first and the shards
        merged; a page may come back short when filters skip much (follow the position)."""
        found: list[StoredTask] = []
        unread_below: list[str] = []  # where a shard stopped before reaching its end
        for shard in range(self.owner_shards):
            items, stopped_at = self._read_shard(f"{owner}#{shard}", before, limit, status, task_type, max_reads)
            found += items
            if stopped_at:
                unread_below.append(stopped_at)
        # Below the highest point where a shard stopped, it has unread tasks: they go to the next page.
        floor = max(unread_below) if unread_below else None
        ready = sorted(
            (t for t in found if floor is None or t.created_key >= floor), key=lambda t: t.created_key, reverse=True
        )
        page = ready[:limit]
        if len(ready) > limit:
            return page, page[-1].created_key
        return page, floor

    def _read_shard(
        self,
        shard: str,
        before: str | None,
        limit: int,
        status: TaskStatus | None,
        task_type: str | None,
        max_reads: int,
    ) -> tuple[list[StoredTask], str | None]:
        values: dict[str, Any] = {":shard": _s(shard)}
        condition = "owner_shard = :shard"
        if before:
            condition += " AND created_key < :before"
            values[":before"] = _s(before)
        filters, names = [], {}
        if status:
            filters.append("#status = :status")
            values[":status"], names["#status"] = _s(status.value), "status"
        if task_type:
            filters.append("task_type = :task_type")
            values[":task_type"] = _s(task_type)
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_OWNER_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if filters:
            query["FilterExpression"] = " AND ".join(filters)
        if names:
            query["ExpressionAttributeNames"] = names
        found: list[StoredTask] = []
        for _ in range(max_reads):
            response = self._db.query(**query)
            found += [to_stored(item) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last:
                return found, None
            if len(found) >= limit:
                break
            query["ExclusiveStartKey"] = last
        return found, str(last["created_key"]["S"])  # every task of this shard newer than this was read

    def due_for_sweep(self, shard: str, now: int, limit: int = 100) -> list[SweepEntry]:
        response = self._db.query(
            TableName=self._table,
            IndexName=SWEEP_INDEX,
            KeyConditionExpression="sweep_shard = :shard AND sweep_at <= :now",
            ExpressionAttributeValues={":shard": _s(shard), ":now": _n(now)},
            Limit=limit,
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

    # --- transitions ----------------------------------------------------------------------------

    def _update(self, task_id: str, **change: Any) -> StoredTask:
        """A transition that answers with the task as it now is."""
        stored = self._write(task_id, returns=True, **change)
        assert stored is not None
        return stored

    def _write(
        self,
        task_id: str,
        *,
        condition: str,
        update: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
        applied: Callable[[StoredTask], bool] | None = None,
        returns: bool = True,
    ) -> StoredTask | None:
        """One conditional UpdateItem. `applied` recognises the item this very change leaves, so that
        a write the SDK retried after its first answer was lost counts as done, not as a conflict."""
        names = {"#status": "status", **(names or {})}
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key={"task_id": _s(task_id)},
                ConditionExpression=f"attribute_exists(task_id) AND ({condition})",
                UpdateExpression=update,
                ExpressionAttributeValues=values,
                ExpressionAttributeNames=names,
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
            if current is not None and applied is not None and applied(current):
                return current
            raise TransitionRejected(current) from None
        return to_stored(response["Attributes"]) if returns else None

    def _finished(self, moment: datetime) -> dict[str, Any]:
        return {":finished": _s(clock.iso(moment)), ":expires": _n(clock.epoch(moment + self._retention))}

    def pending_sweep_at(self, now: datetime, delay: int = 0) -> int:
        """When the reconciler looks at a pending task: after its delay and a grace period."""
        return clock.epoch(now) + delay + self.pending_grace_seconds

    def mark_processing(self, task_id: str, owner: str, now: datetime, lease_until: int) -> StoredTask:
        """pending → processing once its not-before time has come, or take over a processing task
        whose lease ran out (a crashed run). The claim token is new for every call: a write the SDK
        retried is recognised by it, a second delivery in the same millisecond is not."""
        claim = uuid.uuid4().hex
        return self._update(
            task_id,
            condition="#owner = :owner AND attempts < max_attempts AND "
            "((#status = :pending AND (attribute_not_exists(not_before_ms) OR not_before_ms <= :now_ms)) "
            "OR (#status = :processing AND lease_until < :now_epoch))",
            update="SET #status = :processing, attempts = attempts + :one, started_at = :now, updated_at = :now, "
            "lease_until = :lease, claim = :claim REMOVE progress",
            values={
                ":owner": _s(owner),
                ":pending": _s(TaskStatus.PENDING),
                ":processing": _s(TaskStatus.PROCESSING),
                ":now_epoch": _n(clock.epoch(now)),
                ":now_ms": _n(clock.epoch_ms(now)),
                ":now": _s(clock.iso(now)),
                ":one": _n(1),
                ":lease": _n(lease_until),
                ":claim": _s(claim),
            },
            names={"#owner": "owner"},
            applied=lambda t: t.task.status is TaskStatus.PROCESSING and t.claim == claim,
        )

    def _running(self, attempt: int) -> dict[str, Any]:
        return {":processing": _s(TaskStatus.PROCESSING), ":attempt": _n(attempt)}

    def record_progress(self, task_id: str, attempt: int, progress: Progress, now: datetime) -> None:
        value: dict[str, Any] = {"percent": _n(round(progress.percent, 2))}
        if progress.message:
            value["message"] = _s(progress.message[:500])
        self._write(
            task_id,
            returns=False,
            condition="#status = :processing AND attempts = :attempt",
            update="SET progress = :progress, updated_at = :now",
            values={**self._running(attempt), ":progress": {"M": value}, ":now": _s(clock.iso(now))},
        )

    def mark_completed(self, task_id: str, attempt: int, result: StoredValue, now: datetime) -> None:
        """processing → completed with the result inline or as the key of its object."""
        attributes = result.attributes("result")
        names = {f"#v{i}": name for i, name in enumerate(attributes)}
        sets = ", ".join(f"#v{i} = :v{i}" for i in range(len(attributes)))
        self._write(
            task_id,
            returns=False,
            condition="#status = :processing AND attempts = :attempt",
            update=f"SET #status = :completed, {sets}, finished_at = :finished, updated_at = :finished, "
            "expires_at = :expires REMOVE lease_until, sweep_shard, sweep_at, #error, not_before_ms",
            values={
                **self._running(attempt),
                **self._finished(now),
                ":completed": _s(TaskStatus.COMPLETED),
                **{f":v{i}": value for i, value in enumerate(attributes.values())},
            },
            names={**names, "#error": "error"},
            applied=lambda t: t.task.status is TaskStatus.COMPLETED and t.task.attempts == attempt,
        )

    def mark_retrying(self, task_id: str, attempt: int, error: TaskError, now: datetime, delay: int) -> StoredTask:
        """processing → pending after a failed attempt; the queue redelivers after the backoff `delay`,
        and no delivery starts it before then."""
        return self._update(
            task_id,
            condition="#status = :processing AND attempts = :attempt",
            update="SET #status = :pending, #error = :error, updated_at = :now, sweep_at = :sweep, "
            "not_before_ms = :not_before REMOVE lease_until",
            values={
                **self._running(attempt),
                ":pending": _s(TaskStatus.PENDING),
                ":error": _error_value(error),
                ":now": _s(clock.iso(now)),
                ":sweep": _n(self.pending_sweep_at(now, delay)),
                ":not_before": _n(clock.epoch_ms(now) + delay * 1000),
            },
            names={"#error": "error"},
            applied=lambda t: (
                t.task.status is TaskStatus.PENDING and t.task.attempts == attempt and t.task.error == error
            ),
        )

    def mark_failed(self, task_id: str, error: TaskError, now: datetime, *, attempt: int | None = None) -> StoredTask:
        """→ failed: from the attempt that ran (attempt given), or from pending or a run whose lease
        ran out (a task running right now records its own outcome)."""
        if attempt is None:
            condition = "#status = :pending OR (#status = :processing AND lease_until < :now_epoch)"
            values = {
                ":pending": _s(TaskStatus.PENDING),
                ":processing": _s(TaskStatus.PROCESSING),
                ":now_epoch": _n(clock.epoch(now)),
            }
        else:
            condition = "#status = :processing AND attempts = :attempt"
            values = self._running(attempt)
        return self._update(
            task_id,
            condition=condition,
            update="SET #status = :failed, #error = :error, finished_at = :finished, updated_at = :finished, "
            "expires_at = :expires REMOVE lease_until, sweep_shard, sweep_at, not_before_ms",
            values={**values, **self._finished(now), ":failed": _s(TaskStatus.FAILED), ":error": _error_value(error)},
            names={"#error": "error"},
            applied=lambda t: (
                t.task.status is TaskStatus.FAILED and t.task.error == error and t.task.finished_at == clock.iso(now)
            ),
        )

    def redrive(self, task_id: str, owner: str, now: datetime, max_redrives: int) -> StoredTask:
        """Count one more fresh message for a pending task whose message was dead-lettered unclaimed."""
        return self._update(
            task_id,
            condition="#owner = :owner AND #status = :pending AND (attribute_not_exists(redrives) OR redrives < :max)",
            update="SET redrives = if_not_exists(redrives, :zero) + :one, updated_at = :now, sweep_at = :sweep",
            values={
                ":owner": _s(owner),
                ":pending": _s(TaskStatus.PENDING),
                ":max": _n(max_redrives),
                ":zero": _n(0),
                ":one": _n(1),
                ":now": _s(clock.iso(now)),
                ":sweep": _n(self.pending_sweep_at(now)),
            },
            names={"#owner": "owner"},
            applied=lambda t: t.task.status is TaskStatus.PENDING and t.task.updated_at == clock.iso(now),
        )

    def cancel(self, task_id: str, owner: str, now: datetime) -> StoredTask:
        return self._update(
            task_id,
            condition="#owner = :owner AND #status = :pending",
            update="SET #status = :cancelled, finished_at = :finished, updated_at = :finished, expires_at = :expires "
            "REMOVE sweep_shard, sweep_at, not_before_ms",
            values={
                ":owner": _s(owner),
                ":pending": _s(TaskStatus.PENDING),
                ":cancelled": _s(TaskStatus.CANCELLED),
                **self._finished(now),
            },
            names={"#owner": "owner"},
            applied=lambda t: t.task.status is TaskStatus.CANCELLED and t.task.finished_at == clock.iso(now),
        )

    def reopen(self, task_id: str, owner: str, now: datetime, correlation_id: str) -> StoredTask:
        """failed | cancelled → pending for an explicit retry. Attempts keep counting (a late outcome
        of an earlier run can never pass for the new run's); max_attempts grows by the task's budget."""
        return self._update(
            task_id,
            condition="#owner = :owner AND #status IN (:failed, :cancelled)",
            update="SET #status = :pending, max_attempts = attempts + if_not_exists(attempt_budget, max_attempts), "
            "updated_at = :now, sweep_shard = :shard, sweep_at = :sweep, correlation_id = :cid "
            "REMOVE #error, #result, result_key, result_size, started_at, finished_at, progress, expires_at, "
            "lease_until, not_before_ms, claim, unsent",
            values={
                ":owner": _s(owner),
                ":failed": _s(TaskStatus.FAILED),
                ":cancelled": _s(TaskStatus.CANCELLED),
                ":pending": _s(TaskStatus.PENDING),
                ":now": _s(clock.iso(now)),
                ":shard": _s(sweep_shard(task_id, self.sweep_shards)),
                ":sweep": _n(self.pending_sweep_at(now)),
                ":cid": _s(correlation_id),
            },
            names={"#owner": "owner", "#error": "error", "#result": "result"},
            applied=lambda t: t.task.status is TaskStatus.PENDING and t.task.updated_at == clock.iso(now),
        )

    def mark_unsent(self, task_id: str, now: int) -> None:
        """Note that a pending task's message was never sent, and make it due for the reconciler now."""
        self._write(
            task_id,
            returns=False,
            condition="#status = :pending",
            update="SET unsent = :yes, sweep_at = :now",
            values={":pending": _s(TaskStatus.PENDING), ":yes": {"BOOL": True}, ":now": _n(now)},
        )

    def claim_sweep(self, entry: SweepEntry, next_sweep_at: int) -> StoredTask | None:
        """Move a task's next sweep time forward; the task as it now is, or None when another
        sweeper got there first."""
        try:
            return self._write(
                entry.task_id,
                condition="#status = :status AND sweep_at = :seen",
                update="SET sweep_at = :next REMOVE unsent",
                values={":status": _s(entry.status), ":seen": _n(entry.sweep_at), ":next": _n(next_sweep_at)},
            )
        except TransitionRejected:
            return None
