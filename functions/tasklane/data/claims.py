"""A delivery's claim of its task (pending → processing, or the takeover of a run whose lease ran
out), and, for a rate-limited type, the claim together with its rate's start: one TransactWriteItems
over the tasks and the limits tables, at one moment. The start is the claim: the rate's slot and the
task's `started_at` are the same instant, and a claim whose condition fails (a duplicate, an early
delivery, a finished task) cancels the whole transaction, so no start is spent on it.

Rates are held as the next moment a start is allowed (tasklane.data.rates); a start moves it one
interval on from the claim's own time, so no two claims of a type are recorded closer than that.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.data.attributes import n_attr, s_attr
from tasklane.data.tasks.codec import StoredTask, TableLayout, to_stored
from tasklane.data.tasks.table import Change, StoreUnavailable, Table, TransitionRejected
from tasklane.model import clock
from tasklane.model.task import TaskStatus
from tasklane.records import record

# How long a claim waits in place when its transaction met another one on the same item (jittered).
CONFLICT_RETRY_MS = (10, 60)


def claim_change(owner: str, now: datetime, lease_until: int, timeout_seconds: int | None = None) -> Change:
    """The claim as one conditional change: its not-before time has come and attempts are left, or the
    run it takes over has lost its lease. Its claim token is new for every call: a write the SDK retried
    is recognised by it, a second delivery in the same millisecond is not. The task shows its run's
    deadline (now + timeout_seconds) while it runs."""
    claim = uuid.uuid4().hex
    deadline = clock.iso(now + timedelta(seconds=timeout_seconds)) if timeout_seconds else None
    return Change(
        condition="#owner = :owner AND attempts < max_attempts AND "
        "((#status = :pending AND (attribute_not_exists(not_before_ms) OR not_before_ms <= :now_ms)) "
        "OR (#status = :processing AND lease_until < :now_epoch))",
        update="SET #status = :processing, attempts = attempts + :one, started_at = :now, updated_at = :now, "
        f"lease_until = :lease, claim = :claim{', deadline = :deadline' if deadline else ''} "
        "REMOVE progress, waiting_for, next_attempt_at, async_until, heartbeat_seconds"
        f"{'' if deadline else ', deadline'}",
        values={
            **({":deadline": s_attr(deadline)} if deadline else {}),
            ":owner": s_attr(owner),
            ":pending": s_attr(TaskStatus.PENDING),
            ":processing": s_attr(TaskStatus.PROCESSING),
            ":now_epoch": n_attr(clock.epoch(now)),
            ":now_ms": n_attr(clock.epoch_ms(now)),
            ":now": s_attr(clock.iso(now)),
            ":one": n_attr(1),
            ":lease": n_attr(lease_until),
            ":claim": s_attr(claim),
        },
        names={"#owner": "owner"},
        applied=lambda t: t.task.status is TaskStatus.PROCESSING and t.claim == claim,
    )


class RateRefused(Exception):
    """The type's next start is not due yet: `wait_ms` until it is (the task was not claimed)."""

    def __init__(self, wait_ms: int) -> None:
        super().__init__(f"next start in {wait_ms} ms")
        self.wait_ms = wait_ms


@record(slots=True)
class RateStart:
    """The start a rate-limited claim takes: its limit's key and the interval between two starts."""

    key: str
    interval_ms: int


def claim_token(task_id: str, attempt: int, change: Change) -> str:
    """The transaction's ClientRequestToken: the task and its attempt, refined by this very claim's token.
    The SDK's resend of this request after a lost answer is one request to DynamoDB (applied once,
    answered as done); another delivery of the same attempt is another request, decided by the task's
    condition (a shared token would tell it that it had claimed the task)."""
    return hashlib.sha256(f"{task_id}/{attempt}/{change.values[':claim']['S']}".encode()).hexdigest()[:36]


def _reasons(exc: ClientError) -> list[dict[str, Any]]:
    reasons: list[dict[str, Any]] = exc.response.get("CancellationReasons") or []  # type: ignore[assignment]
    return reasons


class RatedClaims(Table):
    """The claim of a rate-limited type's task, with its start."""

    def __init__(self, client: Any, layout: TableLayout, limits_table: str) -> None:
        super().__init__(client, layout)
        self._limits = limits_table

    def claim_with_start(self, task_id: str, attempt: int, change: Change, start: RateStart, now_ms: int) -> StoredTask:
        """The claim `change` (made at `now_ms`) and one start of the rate, together or not at all.
        TransitionRejected (the task as it is) when the task may not be claimed; RateRefused when it may
        but the rate's next start is not due. A transaction whose answer was lost is recognised by its
        claim token: the emulator and AWS answer the resend as done, and where a resend is refused
        because the first one applied, the task shows this claim."""
        claim = {**change.request(self._table, task_id), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        rate = {
            "TableName": self._limits,
            "Key": {"limit_key": s_attr(start.key)},
            "ConditionExpression": "attribute_not_exists(next_ms) OR next_ms <= :now",
            "UpdateExpression": "SET next_ms = :next",
            "ExpressionAttributeValues": {":now": n_attr(now_ms), ":next": n_attr(now_ms + start.interval_ms)},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        try:
            self._db.transact_write_items(
                TransactItems=[{"Update": claim}, {"Update": rate}],
                ClientRequestToken=claim_token(task_id, attempt, change),
            )
        except BotoCoreError as exc:
            raise StoreUnavailable(f"TransactWriteItems failed: {exc}") from exc
        except ClientError as exc:
            reasons = _reasons(exc)
            codes = [r.get("Code", "None") for r in reasons]
            if exc.response["Error"]["Code"] != "TransactionCanceledException" or len(codes) != 2:
                raise StoreUnavailable(f"TransactWriteItems failed: {exc}") from exc
            if codes[0] == "ConditionalCheckFailed":
                item = reasons[0].get("Item")
                current = to_stored(item) if item else self.get(task_id)
                if current is not None and change.applied is not None and change.applied(current):
                    return current  # our own claim, applied before its answer was lost
                raise TransitionRejected(current) from None
            if "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes:
                # Another claim's transaction holds the rate's item (or a duplicate's the task) this very
                # moment: asked again shortly, it is decided then (a start taken, or the task claimed).
                raise RateRefused(random.randint(*CONFLICT_RETRY_MS)) from None
            if codes != ["None", "ConditionalCheckFailed"]:
                raise StoreUnavailable(f"TransactWriteItems failed: {exc}") from exc
            next_ms = int(reasons[1].get("Item", {}).get("next_ms", {}).get("N", now_ms + 1))
            raise RateRefused(max(1, next_ms - now_ms)) from None
        # A transaction answers no item: the claimed task is read back (one consistent read, as the
        # separate start's request it replaces).
        stored = self.get(task_id)
        if stored is None:
            raise TransitionRejected(None)
        return stored
