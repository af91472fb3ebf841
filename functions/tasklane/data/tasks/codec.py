"""Task items as DynamoDB holds them: their shape, their keys, and reading one back into a task."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from tasklane.data.attributes import n_attr, s_attr
from tasklane.data.tasks.deliveries import callback_of
from tasklane.model import clock
from tasklane.model.lanes import Lane
from tasklane.model.task import (
    ATTEMPTS_KEPT,
    TASK_FIELDS,
    AttemptOutcome,
    Kept,
    Progress,
    Task,
    TaskError,
    TaskStatus,
    role,
)
from tasklane.records import record

BY_OWNER_INDEX = "ByOwner"
BY_TYPE_INDEX = "ByType"
BY_SCHEDULE_INDEX = "BySchedule"
SWEEP_INDEX = "Sweep"
DUE_INDEX = "Due"

# What a listing shows of a task, read from the table by BatchGetItem after the ByOwner index gave the
# page's keys (the index projects only what never changes, so that claims and completions do not
# write it): the fields Task declares as listed, and the keys.
LISTED_ATTRIBUTES = (
    "owner",
    "created_key",
    *(f.name for f in TASK_FIELDS if role(f).listed and role(f).kept is not Kept.NOT_KEPT),
)


@record
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


@record
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
    tokens: tuple[tuple[int, str], ...] = ()  # async: (attempt, hash of its completion token)
    async_until: int | None = None  # async: epoch seconds by which the accepted attempt must finish
    heartbeat_seconds: int | None = None  # async: the longest silence an accepted attempt may keep

    def belongs_to(self, owner: str) -> bool:
        """Whether `owner` may see this task: to anyone else it does not exist."""
        return self.owner == owner


@record
class StoredValue:
    """A payload or result as the item keeps it: inline JSON text, or the key of its object."""

    size: int
    text: str | None = None
    key: str | None = None

    def attributes(self, name: str) -> dict[str, Any]:
        inline = {name: s_attr(self.text)} if self.text is not None else {f"{name}_key": s_attr(self.key or "")}
        return {**inline, f"{name}_size": n_attr(self.size)}


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


def type_shard(owner: str, task_type: str, task_id: str, shards: int) -> str:
    """The partition of a caller's tasks of one type in the ByType index: sharded like the listing
    index, since one busy caller may submit everything as one type."""
    return f"{owner}#{task_type}#{_shard(task_id, shards)}"


def schedule_key(owner: str, schedule: str) -> str:
    """The partition of a recurring schedule's tasks in the sparse BySchedule index: one key, since a
    schedule fires at most once a minute."""
    return f"{owner}#{schedule}"


def _ts(item: dict[str, Any], name: str) -> str | None:
    return item[name]["S"] if name in item else None


def _int(item: dict[str, Any], name: str) -> int | None:
    return int(item[name]["N"]) if name in item else None


def _error(m: dict[str, Any]) -> TaskError:
    return TaskError(type=m["type"]["S"], message=m["message"]["S"])


def _progress(m: dict[str, Any]) -> Progress:
    return Progress(percent=float(m["percent"]["N"]), message=m.get("message", {}).get("S"))


def error_value(error: TaskError) -> dict[str, Any]:
    return {"M": {"type": s_attr(error.type), "message": s_attr(error.message)}}


def attempt_slot(attempt: int) -> str:
    """The attribute that keeps an attempt's outcome: one of ATTEMPTS_KEPT, reused in turn, so that a
    task keeps its last attempts with one SET each and no read."""
    return f"attempt_{attempt % ATTEMPTS_KEPT}"


def outcome_value(outcome: AttemptOutcome) -> dict[str, Any]:
    m: dict[str, Any] = {
        "attempt": n_attr(outcome.attempt),
        "outcome": s_attr(outcome.outcome),
        "at": s_attr(outcome.at),
    }
    if outcome.error is not None:
        m["error"] = error_value(outcome.error)
    return {"M": m}


def _outcome(m: dict[str, Any]) -> AttemptOutcome:
    error = m.get("error", {}).get("M")
    return AttemptOutcome(int(m["attempt"]["N"]), m["outcome"]["S"], m["at"]["S"], _error(error) if error else None)


def attempt_history(item: dict[str, Any]) -> tuple[AttemptOutcome, ...]:
    """The outcomes an item keeps, oldest first."""
    slots = (item.get(f"attempt_{i}", {}).get("M") for i in range(ATTEMPTS_KEPT))
    return tuple(sorted((_outcome(m) for m in slots if m), key=lambda o: o.attempt))


# Each kind of Task field read from its item attribute (present: the field's default stands otherwise).
_READ: dict[Kept, Callable[[dict[str, Any]], Any]] = {
    Kept.TEXT: lambda a: a["S"],
    Kept.NUMBER: lambda a: int(a["N"]),
    Kept.LANE: lambda a: Lane(a["S"]),
    Kept.STATUS: lambda a: TaskStatus(a["S"]),
    Kept.VALUE: lambda a: json.loads(a["S"]),
    Kept.ERROR: lambda a: _error(a["M"]),
    Kept.PROGRESS: lambda a: _progress(a["M"]),
}

# ... and written as its attribute (VALUE and CALLBACK have their own writers: StoredValue, callback_url).
_WRITE: dict[Kept, Callable[[Any], dict[str, Any]]] = {
    Kept.TEXT: s_attr,
    Kept.NUMBER: n_attr,
    Kept.LANE: lambda v: s_attr(v.value),
    Kept.STATUS: lambda v: s_attr(v.value),
    Kept.ERROR: error_value,
    Kept.PROGRESS: lambda v: {
        "M": {"percent": n_attr(v.percent), **({"message": s_attr(v.message)} if v.message else {})}
    },
}


def task_fields(item: dict[str, Any], names: Iterable[str] | None = None) -> dict[str, Any]:
    """The Task fields an item holds (all, or those named), as Task takes them."""
    wanted = None if names is None else set(names)
    read: dict[str, Any] = {}
    for f in TASK_FIELDS:
        kept = role(f).kept
        if wanted is not None and f.name not in wanted:
            continue
        if kept is Kept.CALLBACK:
            read[f.name] = callback_of(item)
        elif kept is Kept.HISTORY:
            read[f.name] = attempt_history(item)
        elif kept in _READ and f.name in item:
            read[f.name] = _READ[kept](item[f.name])
    return read


def task_attributes(task: Task) -> dict[str, Any]:
    """The item attributes of a task's fields that are set (not its payload, result or callback)."""
    return {
        f.name: _WRITE[role(f).kept](value)
        for f in TASK_FIELDS
        if role(f).kept in _WRITE and (value := getattr(task, f.name)) is not None
    }


def to_stored(item: dict[str, Any]) -> StoredTask:
    """Read a DynamoDB item (full, or a listing projection without payload)."""
    return StoredTask(
        task=Task(**task_fields(item)),
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
        tokens=tuple(sorted((int(k[6:]), v["S"]) for k, v in item.items() if k.startswith("token_"))),
        async_until=_int(item, "async_until"),
        heartbeat_seconds=_int(item, "heartbeat_seconds"),
    )


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
        timing = {
            "due_shard": s_attr(due_shard(task.task_id, layout.due_shards)),
            "due_at": n_attr(clock.epoch(run_at)),
        }
    else:
        timing = {"sweep_shard": s_attr(sweep_shard(task.task_id, layout.sweep_shards)), "sweep_at": n_attr(sweep_at)}
    return {
        **task_attributes(task),
        "owner": s_attr(owner),
        "owner_shard": s_attr(owner_shard(owner, task.task_id, layout.owner_shards)),
        "type_shard": s_attr(type_shard(owner, task.task_type, task.task_id, layout.owner_shards)),
        **({"schedule_key": s_attr(schedule_key(owner, task.schedule))} if task.schedule else {}),
        "created_key": s_attr(f"{created}#{sequence:03d}#{task.task_id}"),
        **payload.attributes("payload"),
        # Attempts never go back: an explicit retry raises max_attempts by this budget instead.
        "attempt_budget": n_attr(task.max_attempts),
        **timing,
        **({"correlation_id": s_attr(correlation_id)} if correlation_id else {}),
        **({"callback_url": s_attr(task.callback.url)} if task.callback else {}),
        # SQS holds a delayed message back, but a duplicate may come early: the claim checks this.
        **({"not_before_ms": n_attr(clock.epoch_ms(datetime.fromisoformat(task.run_at)))} if task.run_at else {}),
    }
