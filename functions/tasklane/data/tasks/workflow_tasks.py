"""A workflow's tasks in the tasks table: a task's end together with its barrier's countdown (one
TransactWriteItems with a ClientRequestToken), the release of the next tasks in transactions that
check the workflow still runs, and the cancel of what has not started."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.data.attributes import n_attr, s_attr
from tasklane.data.tasks.codec import LISTED_ATTRIBUTES, StoredTask, sweep_shard, to_stored
from tasklane.data.tasks.table import Change, StoreUnavailable, Table, TransitionRejected
from tasklane.model import clock
from tasklane.model.task import TaskStatus
from tasklane.model.workflow import Workflow, WorkflowStatus, record_key
from tasklane.records import record

_TRANSACTION_ITEMS = 100


@record(slots=True)
class FanIn:
    """The countdown a task's terminal transition carries: its barrier, whether it failed, and the
    transition's ClientRequestToken."""

    barrier: str
    failed: bool
    token: str


def _reasons(exc: ClientError) -> list[str]:
    reasons: list[dict[str, Any]] = exc.response.get("CancellationReasons") or []  # type: ignore[assignment]
    return [r.get("Code", "None") for r in reasons]


def _token(fan_in: FanIn, change: Change) -> str:
    """The transition's token, refined by the exact request: a resend of this very write is one
    request to DynamoDB, and another writer's change of the same transition (the reconciler and the
    dead-letter function failing the same attempt) is decided by the task's condition, not refused
    as a token reused with other parameters."""
    values = json.dumps(change.values, sort_keys=True, default=str)
    return hashlib.sha256(f"{fan_in.token}/{values}".encode()).hexdigest()[:36]


class WorkflowTasks(Table):
    """The writes and reads of a workflow's tasks."""

    # --- the task's end and its barrier, together -----------------------------------------------

    def finish(self, task_id: str, change: Change, fan_in: FanIn) -> None:
        """The task's terminal `change` and its barrier's countdown in one TransactWriteItems, sent with
        a ClientRequestToken: a resend after a lost answer is not applied again, and past the token's
        ten minutes the task's condition (which the first write made false) refuses it; either way a
        change already made is recognised by `change.applied` and counts as done."""
        task_update = change.request(self._table, task_id)
        countdown = {
            "TableName": self._table,
            "Key": {"task_id": s_attr(fan_in.barrier)},
            "ConditionExpression": "remaining > :zero",
            "UpdateExpression": "ADD remaining :minus, failed :failed",
            "ExpressionAttributeValues": {
                ":zero": n_attr(0),
                ":minus": n_attr(-1),
                ":failed": n_attr(int(fan_in.failed)),
            },
        }
        try:
            self._db.transact_write_items(
                TransactItems=[{"Update": task_update}, {"Update": countdown}],
                ClientRequestToken=_token(fan_in, change),
            )
        except BotoCoreError as exc:
            raise StoreUnavailable(f"TransactWriteItems failed: {exc}") from exc
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException" or _reasons(exc)[:1] != [
                "ConditionalCheckFailed"
            ]:
                raise StoreUnavailable(f"TransactWriteItems failed: {exc}") from exc
            current = self.get(task_id)
            if current is not None and change.applied is not None and change.applied(current):
                return
            raise TransitionRejected(current) from None

    # --- the workflow's tasks -------------------------------------------------------------------

    def release(self, workflow_id: str, task_ids: list[str], now: datetime, token: str) -> list[str]:
        """waiting → pending for `task_ids`, each chunk in one transaction with a check that the
        workflow still runs. The ids this call moved; ids no longer waiting are skipped; nothing
        moves once the workflow has ended."""
        moved: list[str] = []
        chunk_size = _TRANSACTION_ITEMS - 1
        for start in range(0, len(task_ids), chunk_size):
            chunk = task_ids[start : start + chunk_size]
            while chunk:
                items = [self._release_item(t, now) for t in chunk]
                check = {
                    "ConditionCheck": {
                        "TableName": self._table,
                        "Key": {"task_id": s_attr(record_key(workflow_id))},
                        "ConditionExpression": "#status = :running",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {":running": s_attr(WorkflowStatus.RUNNING.value)},
                    }
                }
                chunk_token = hashlib.sha256(f"{token}/{','.join(chunk)}".encode()).hexdigest()[:36]
                try:
                    self._db.transact_write_items(TransactItems=[*items, check], ClientRequestToken=chunk_token)
                except BotoCoreError as exc:
                    raise StoreUnavailable(f"TransactWriteItems failed: {exc}") from exc
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "TransactionCanceledException":
                        raise StoreUnavailable(f"TransactWriteItems failed: {exc}") from exc
                    reasons = _reasons(exc)
                    if len(reasons) != len(chunk) + 1 or reasons[-1] == "ConditionalCheckFailed":
                        if reasons and reasons[-1] == "ConditionalCheckFailed":
                            return moved  # the workflow ended: nothing more starts
                        raise StoreUnavailable(f"TransactWriteItems failed: {exc}") from exc
                    if not any(r == "ConditionalCheckFailed" for r in reasons):
                        raise StoreUnavailable(f"TransactWriteItems failed: {exc}") from exc
                    chunk = [t for t, r in zip(chunk, reasons, strict=False) if r != "ConditionalCheckFailed"]
                    continue
                moved += chunk
                break
        return moved

    def _release_item(self, task_id: str, now: datetime) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"task_id": s_attr(task_id)},
                "ConditionExpression": "#status = :waiting",
                "UpdateExpression": "SET #status = :pending, updated_at = :now, sweep_shard = :shard, "
                "sweep_at = :sweep",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":waiting": s_attr(TaskStatus.WAITING.value),
                    ":pending": s_attr(TaskStatus.PENDING.value),
                    ":now": s_attr(clock.iso(now)),
                    ":shard": s_attr(sweep_shard(task_id, self.layout.sweep_shards)),
                    ":sweep": n_attr(self.layout.pending_sweep_at(now)),
                },
            }
        }

    def cancel_unstarted(self, task_id: str, now: datetime) -> bool:
        """waiting | pending | scheduled → cancelled; False when it had started or ended already."""
        try:
            self._record(
                task_id,
                condition="#status IN (:waiting, :pending, :scheduled)",
                update="SET #status = :cancelled, finished_at = :finished, updated_at = :finished, "
                "expires_at = :expires REMOVE sweep_shard, sweep_at, due_shard, due_at, not_before_ms, waiting_for",
                values={
                    ":waiting": s_attr(TaskStatus.WAITING.value),
                    ":pending": s_attr(TaskStatus.PENDING.value),
                    ":scheduled": s_attr(TaskStatus.SCHEDULED.value),
                    ":cancelled": s_attr(TaskStatus.CANCELLED.value),
                    **self._finished(now),
                },
            )
        except TransitionRejected:
            return False
        return True

    def tasks_of(self, workflow: Workflow, *, consistent: bool = True) -> dict[str, StoredTask]:
        """Every task of the workflow that exists, by id, as a listing reads it (no payload, no result:
        a 1,000-task workflow is read in ten small requests)."""
        ids = workflow.task_ids()
        found: dict[str, StoredTask] = {}
        for start in range(0, len(ids), 100):
            items = self.read_many(ids[start : start + 100], consistent=consistent, attributes=LISTED_ATTRIBUTES)
            found |= {i["task_id"]["S"]: to_stored(i) for i in items}
        return found
