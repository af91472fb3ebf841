"""Task items as DynamoDB holds them: their shape, their keys, and reading one back into a task."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tasklane.data.callbacks import callback_of
from tasklane.model import clock
from tasklane.model.lanes import Lane
from tasklane.model.task import Progress, Task, TaskError, TaskStatus

BY_OWNER_INDEX = "ByOwner"
SWEEP_INDEX = "Sweep"
DUE_INDEX = "Due"

# What a listing shows of a task, read from the table by BatchGetItem after the ByOwner index gave the
# page's keys (the index projects only what never changes, so that claims and completions do not
# write it): every attribute but the payload and the result.
LISTED_ATTRIBUTES = (
    "task_id", "owner", "created_key", "task_type", "priority", "status", "error", "progress", "attempts",
    "max_attempts", "timeout_seconds", "delay_seconds", "created_at", "started_at", "finished_at", "updated_at",
    "waiting_for", "run_at", "workflow_id",
)  # fmt: skip


@dataclass(frozen=True)
class TableLayout:
    """How this deployment lays out task items: the table, the index shards and the time rules."""

    table_name: str
    retention: timedelta
    sweep_shards: int
    owner_shards: int
    pending_grace_seconds: int
    due_shards: int = 1

    def pending_sweep_at(self, now: datetime, delay: int = 0) -> int:
        """When the reconciler looks at a pending task: after its delay and a grace period."""
        return clock.epoch(now) + delay + self.pending_grace_seconds


@dataclass(frozen=True)
class StoredTask:
    """A task with the fields only the services sees."""

    task: Task
    owner: str
    lease_until: int | None = None
    created_key: str = ""
    claim: str | None = None  # the token of the delivery that holds the current run
    not_before_ms: int | None = None  # epoch ms before which no delivery may start it (delay, backoff)
    sweep_token: str | None = None  # the reconciler run that last moved its sweep time
    payload_key: str | None = None  # the values bucket's object of a large payload
    result_key: str | None = None
    workflow_before: int | None = None  # the barrier of its workflow that its end counts down
    workflow_inputs: tuple[int, ...] = ()  # the workflow's tasks whose results are its inputs, in order

    def belongs_to(self, owner: str) -> bool:
        """Whether `owner` may see this task: to anyone else it does not exist."""
        return self.owner == owner


@dataclass(frozen=True)
class StoredValue:
    """A payload or result as the item keeps it: inline JSON text, or the key of its object."""

    size: int
    text: str | None = None
    key: str | None = None

    def attributes(self, name: str) -> dict[str, Any]:
        inline = {name: _s(self.text)} if self.text is not None else {f"{name}_key": _s(self.key or "")}
        return {**inline, f"{name}_size": _n(self.size)}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float) -> dict[str, str]:
    return {"N": str(value)}


def _shard(task_id: str, shards: int) -> int:
    return zlib.crc32(task_id.encode()) % shards


def sweep_shard(task_id: str, shards: int) -> str:
    """Spread the sparse sweep index over `shards` partition keys."""
    return str(_shard(task_id, shards))


def due_shard(task_id: str, shards: int) -> str:
    """Spread the sparse due-time index of scheduled tasks over `shards` partition keys."""
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
        waiting_for=_ts(item, "waiting_for"),
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
        run_at=_ts(item, "run_at"),
        created_at=item["created_at"]["S"],
        started_at=_ts(item, "started_at"),
        finished_at=_ts(item, "finished_at"),
        updated_at=item["updated_at"]["S"],
        callback=callback_of(item),
        workflow_id=_ts(item, "workflow_id"),
    )
    return StoredTask(
        task=task,
        owner=item["owner"]["S"],
        lease_until=_int(item, "lease_until"),
        created_key=item["created_key"]["S"],
        claim=_ts(item, "claim"),
        not_before_ms=_int(item, "not_before_ms"),
        sweep_token=_ts(item, "sweep_token"),
        payload_key=_ts(item, "payload_key"),
        result_key=_ts(item, "result_key"),
        workflow_before=_int(item, "wf_before"),
        workflow_inputs=tuple(int(n["N"]) for n in item.get("wf_inputs", {}).get("L", [])),
    )


def error_value(error: TaskError) -> dict[str, Any]:
    return {"M": {"type": _s(error.type), "message": _s(error.message)}}


def new_item(
    new: StoredTask, correlation_id: str | None, payload: StoredValue, layout: TableLayout, sequence: int = 0
) -> dict[str, Any]:
    """The DynamoDB item of a freshly submitted task; `sequence` orders the tasks of one batch."""
    task, owner = new.task, new.owner
    created = task.created_at
    created_at = datetime.fromisoformat(created)
    sweep_at = layout.pending_sweep_at(created_at, task.delay_seconds)
    if task.status is TaskStatus.SCHEDULED:
        # Not in the reconciler's index until the promoter queues it: a scheduled task has no message.
        run_at = datetime.fromisoformat(task.run_at or created)
        timing = {"due_shard": _s(due_shard(task.task_id, layout.due_shards)), "due_at": _n(clock.epoch(run_at))}
    else:
        timing = {"sweep_shard": _s(sweep_shard(task.task_id, layout.sweep_shards)), "sweep_at": _n(sweep_at)}
    return {
        "task_id": _s(task.task_id),
        "owner": _s(owner),
        "owner_shard": _s(owner_shard(owner, task.task_id, layout.owner_shards)),
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
        **timing,
        **({"correlation_id": _s(correlation_id)} if correlation_id else {}),
        **({"callback_url": _s(task.callback.url)} if task.callback else {}),
        # SQS holds a delayed message back, but a duplicate may come early: the claim checks this.
        **(
            {"run_at": _s(task.run_at), "not_before_ms": _n(clock.epoch_ms(datetime.fromisoformat(task.run_at)))}
            if task.run_at
            else {}
        ),
    }
