"""Workflows in the tasks table: the workflow's record, its barriers, and the transactions that keep a
task's end and its barrier's countdown together.

Keys are never UUIDs (`wf#<id>`, `wf#<id>#b<n>`), so no task route can reach them. A record is marked
`kind: workflow`: its `status` changes reach the events function through the same stream filter as a
task's (tasklane.data.tasks.changes tells them apart), and it sits in the listing index under its own
partition (`wf#<owner>`), which no task listing reads. Barriers carry no status at all. A running workflow's
record sits in the Sweep index under its own shards (`wf#<n>`), which the task sweep never reads.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.data.attributes import n_attr, s_attr
from tasklane.data.tasks.codec import BY_OWNER_INDEX, SWEEP_INDEX
from tasklane.data.tasks.table import StoreUnavailable
from tasklane.data.tasks.workflow_tasks import WorkflowTasks
from tasklane.model import clock
from tasklane.model.workflow import (
    WORKFLOW_KIND,
    OnFailure,
    Workflow,
    WorkflowStatus,
    barrier_key,
    plan,
    record_key,
)
from tasklane.records import record


@record(slots=True)
class BarrierState:
    index: int
    remaining: int
    failed: int
    fired: bool


def workflow_shard(workflow_id: str, shards: int) -> str:
    """The Sweep index partition of a running workflow: apart from every task shard."""
    return f"wf#{zlib.crc32(workflow_id.encode()) % shards}"


class WorkflowStore(WorkflowTasks):
    """The workflow records and barriers (and, inherited, the writes that move a workflow's tasks)."""

    # --- records --------------------------------------------------------------------------------

    def record_item(self, workflow: Workflow, shape: dict[str, Any], total: int, sweep_at: int) -> dict[str, Any]:
        """The record of a new workflow (creating): in the owner's listing and in the sweep."""
        item = {
            "task_id": s_attr(record_key(workflow.workflow_id)),
            "workflow_id": s_attr(workflow.workflow_id),
            "owner": s_attr(workflow.owner),
            "owner_shard": s_attr(f"wf#{workflow.owner}"),
            "created_key": s_attr(f"{workflow.created_at}#{workflow.workflow_id}"),
            "kind": s_attr(WORKFLOW_KIND),
            "status": s_attr(workflow.status.value),
            "on_failure": s_attr(workflow.on_failure.value),
            "shape": s_attr(json.dumps(shape, separators=(",", ":"))),
            "total": n_attr(total),
            "created_at": s_attr(workflow.created_at),
            "updated_at": s_attr(workflow.updated_at),
            "sweep_shard": s_attr(workflow_shard(workflow.workflow_id, self.layout.sweep_shards)),
            "sweep_at": n_attr(sweep_at),
        }
        if workflow.callback_url:
            item["callback_url"] = s_attr(workflow.callback_url)
        return item

    def barrier_item(self, workflow_id: str, index: int, remaining: int) -> dict[str, Any]:
        return {
            "task_id": s_attr(barrier_key(workflow_id, index)),
            "workflow_id": s_attr(workflow_id),
            "remaining": n_attr(remaining),
            "failed": n_attr(0),
        }

    def get_workflow(self, workflow_id: str, *, consistent: bool = True) -> Workflow | None:
        try:
            response = self._db.get_item(
                TableName=self._table, Key={"task_id": s_attr(record_key(workflow_id))}, ConsistentRead=consistent
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"GetItem failed: {exc}") from exc
        item = response.get("Item")
        return to_workflow(item) if item and item.get("kind", {}).get("S") == WORKFLOW_KIND else None

    def move(self, workflow_id: str, status: WorkflowStatus, now: datetime, **extra: Any) -> bool:
        """running | creating → `status`; False when the workflow is no longer where that may happen."""
        sources = [WorkflowStatus.CREATING] if status is WorkflowStatus.RUNNING else [WorkflowStatus.RUNNING]
        values: dict[str, Any] = {":to": s_attr(status.value), ":now": s_attr(clock.iso(now))}
        values |= {f":from{i}": s_attr(s.value) for i, s in enumerate(sources)}
        update = "SET #status = :to, updated_at = :now"
        if status.finished:
            update += ", finished_at = :now, expires_at = :expires"
            values[":expires"] = n_attr(clock.epoch(now + self.layout.retention))
        if extra.get("error") is not None:
            update += ", wf_error = :error"
            values[":error"] = s_attr(json.dumps(extra["error"], separators=(",", ":")))
        if extra.get("sweep_at") is not None:
            update += ", sweep_at = :sweep"
            values[":sweep"] = n_attr(extra["sweep_at"])
        if status is WorkflowStatus.COMPLETED:
            update += " REMOVE sweep_shard, sweep_at"  # every task ended: nothing left for the sweep
        condition = "attribute_exists(task_id) AND #status IN (" + ", ".join(f":from{i}" for i in range(len(sources)))
        return self._update_record(
            workflow_id,
            ConditionExpression=condition + ")",
            UpdateExpression=update,
            ExpressionAttributeValues=values,
            ExpressionAttributeNames={"#status": "status"},
        )

    def settle_sweep(self, workflow_id: str, seen: int, next_at: int | None) -> bool:
        """Move a workflow's next sweep (None: out of the sweep, nothing left to repair); False when
        another sweeper moved it first."""
        update = "SET sweep_at = :next" if next_at is not None else "REMOVE sweep_shard, sweep_at"
        values = {":seen": n_attr(seen), **({":next": n_attr(next_at)} if next_at is not None else {})}
        condition = "sweep_at = :seen"
        return self._update_record(
            workflow_id, ConditionExpression=condition, UpdateExpression=update, ExpressionAttributeValues=values
        )

    def _update_record(self, workflow_id: str, **request: Any) -> bool:
        """One conditional UpdateItem of the workflow's record; False when its condition failed."""
        try:
            self._db.update_item(TableName=self._table, Key={"task_id": s_attr(record_key(workflow_id))}, **request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreUnavailable(f"UpdateItem failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"UpdateItem failed: {exc}") from exc
        return True

    def due(self, shard: int, now: int) -> list[tuple[str, int]]:
        """(workflow id, sweep_at) of the workflows of one sweep shard due by `now`."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": SWEEP_INDEX,
            "KeyConditionExpression": "sweep_shard = :shard AND sweep_at <= :now",
            "ExpressionAttributeValues": {":shard": s_attr(f"wf#{shard}"), ":now": n_attr(now)},
            "ProjectionExpression": "task_id, sweep_at",
        }
        found: list[tuple[str, int]] = []
        while True:
            try:
                response = self._db.query(**request)
            except (ClientError, BotoCoreError) as exc:
                raise StoreUnavailable(f"Query failed: {exc}") from exc
            found += [(i["task_id"]["S"][3:], int(i["sweep_at"]["N"])) for i in response.get("Items", [])]
            if not response.get("LastEvaluatedKey"):
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def list_by_owner(self, owner: str, limit: int, before: str | None) -> tuple[list[Workflow], str | None]:
        """A page of the owner's workflows, newest first, and the position to continue from."""
        values: dict[str, Any] = {":shard": s_attr(f"wf#{owner}")}
        condition = "owner_shard = :shard"
        if before:
            condition += " AND created_key < :before"
            values[":before"] = s_attr(before)
        try:
            response = self._db.query(
                TableName=self._table,
                IndexName=BY_OWNER_INDEX,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
                ScanIndexForward=False,
                Limit=limit,
                ProjectionExpression="task_id, created_key",
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"Query failed: {exc}") from exc
        keys = [(i["task_id"]["S"], i["created_key"]["S"]) for i in response.get("Items", [])]
        items = {i["task_id"]["S"]: i for i in self.read_many([k for k, _ in keys], consistent=False)}
        page = [to_workflow(items[k]) for k, _ in keys if k in items]
        last = response.get("LastEvaluatedKey")
        return page, (last["created_key"]["S"] if last else None)

    # --- barriers -------------------------------------------------------------------------------

    def barriers(self, workflow: Workflow) -> list[BarrierState]:
        """Every barrier of the workflow as it is now (consistent reads)."""
        keys = [barrier_key(workflow.workflow_id, b.index) for b in workflow.plan.barriers]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 100):
            found |= {i["task_id"]["S"]: i for i in self.read_many(keys[start : start + 100], consistent=True)}
        return [_barrier(i, found[k]) for i, k in enumerate(keys) if k in found]

    def barrier(self, workflow_id: str, index: int) -> BarrierState | None:
        try:
            response = self._db.get_item(
                TableName=self._table, Key={"task_id": s_attr(barrier_key(workflow_id, index))}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"GetItem failed: {exc}") from exc
        item = response.get("Item")
        return _barrier(index, item) if item else None

    def mark_fired(self, workflow_id: str, index: int) -> None:
        """Note that a barrier at zero has done what follows it (the reconciler then leaves it)."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"task_id": s_attr(barrier_key(workflow_id, index))},
                ConditionExpression="remaining = :zero",
                UpdateExpression="SET fired = :yes",
                ExpressionAttributeValues={":zero": n_attr(0), ":yes": {"BOOL": True}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise StoreUnavailable(f"UpdateItem failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"UpdateItem failed: {exc}") from exc

    def delete_all(self, workflow: Workflow) -> None:
        """Remove every item a workflow's creation may have written (its creation did not finish)."""
        keys = [*workflow.task_ids(), *(barrier_key(workflow.workflow_id, b.index) for b in workflow.plan.barriers)]
        # The record last, in a request of its own once every other item is gone: while it exists,
        # the sweep finds the rest (in one request with them, it could go while one of them is left
        # unprocessed and the invocation ends before the retry).
        chunks = [keys[start : start + 25] for start in range(0, len(keys), 25)] + [[record_key(workflow.workflow_id)]]
        try:
            for chunk in chunks:
                requests = [{"DeleteRequest": {"Key": {"task_id": s_attr(k)}}} for k in chunk]
                while requests:
                    response = self._db.batch_write_item(RequestItems={self._table: requests})
                    requests = response.get("UnprocessedItems", {}).get(self._table, [])
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"BatchWriteItem failed: {exc}") from exc


def _barrier(index: int, item: dict[str, Any]) -> BarrierState:
    return BarrierState(
        index=index,
        remaining=int(item["remaining"]["N"]),
        failed=int(item.get("failed", {"N": "0"})["N"]),
        fired=bool(item.get("fired", {}).get("BOOL", False)),
    )


def to_workflow(item: dict[str, Any]) -> Workflow:
    """A workflow record read back."""
    return Workflow(
        workflow_id=item["workflow_id"]["S"],
        owner=item["owner"]["S"],
        status=WorkflowStatus(item["status"]["S"]),
        on_failure=OnFailure(item["on_failure"]["S"]),
        plan=plan(json.loads(item["shape"]["S"])),
        callback_url=item.get("callback_url", {}).get("S"),
        error=json.loads(item["wf_error"]["S"]) if "wf_error" in item else None,
        created_at=item["created_at"]["S"],
        updated_at=item["updated_at"]["S"],
        finished_at=item.get("finished_at", {}).get("S"),
    )
