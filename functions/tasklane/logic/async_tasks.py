"""Async attempts: a target accepts (HTTP 202, or a Lambda's {"tasklane": "accepted"}) and finishes
later through POST /tasks/{id}/complete, /fail or /heartbeat (and asks /result-upload for where to PUT
a large result), authenticated by the attempt's token alone. The token is random (256 bits), given
once in the envelope; the task keeps only its hash.

A wrong token (or an unknown task) is a 404; a token of an earlier attempt, or of a finished task, a
409. The end is the run's own conditional transition (processing, this attempt), so a completion
races a sweep, a heartbeat or a second completion safely: one wins, the other is a 409.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from tasklane.data.tasks.table import TransitionRejected
from tasklane.limits import RESULT_UPLOAD_SECONDS
from tasklane.logic import workflows
from tasklane.logic.running import BACKOFF_CAP_SECONDS, backoff_seconds
from tasklane.logic.task_values import Unfinishable, keep_result, upload_url, uploaded_result
from tasklane.model import clock
from tasklane.model.envelope import RESULT_UPLOADED, Completion, ResultUpload
from tasklane.model.errors import STALE, AttemptOver, InvalidTransition, TaskNotFound
from tasklane.model.message import TaskMessage
from tasklane.model.task import Progress, TaskError, TaskStatus
from tasklane.observability import count, logger

if TYPE_CHECKING:
    from tasklane.data.services import HasStore
    from tasklane.data.tasks.codec import StoredTask
    from tasklane.logic.queueing import Queueing
    from tasklane.logic.task_values import ResultKeeping

    class Completing(ResultKeeping, Queueing, Protocol):
        """What completing an async attempt touches: the values bucket, the tasks table, the lanes."""

    class Uploading(ResultKeeping, HasStore, Protocol):
        """What signing a result upload reads: the task (its attempt and lease), the values bucket."""


TOKEN_BYTES = 32  # 256 bits


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def arm(stored: StoredTask, attempt: int, services: HasStore, api_url: str) -> Completion:
    """A fresh token for this attempt (its hash stored first) and the routes that take it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    services.store.arm_token(stored.task.task_id, attempt, token_hash(token))
    base = f"{api_url}/tasks/{stored.task.task_id}"
    return Completion(token, f"{base}/complete", f"{base}/fail", f"{base}/heartbeat", f"{base}/result-upload")


def accepted(stored: StoredTask, attempt: int, heartbeat_seconds: int | None, services: HasStore) -> None:
    """The target took the attempt: it now holds no Lambda, up to its deadline (timeout from its start)."""
    task = stored.task
    started = datetime.fromisoformat(task.started_at or clock.iso(clock.now()))
    until = clock.epoch(started) + task.timeout_seconds
    services.store.mark_accepted(task.task_id, attempt, clock.now(), until, heartbeat_seconds)
    logger.info("task accepted by its target", extra={"until": until, "heartbeat_seconds": heartbeat_seconds})


def _attempt_of(task_id: str, token: Any, services: HasStore, now: datetime) -> StoredTask:
    """The task whose current attempt `token` belongs to, its lease holding at `now`; TaskNotFound (404),
    InvalidTransition or AttemptOver (409)."""
    stored = services.store.get(task_id) if isinstance(token, str) and token else None
    if stored is None:
        raise TaskNotFound(task_id)
    given = token_hash(token)
    matched = [n for n, kept in stored.tokens if hmac.compare_digest(kept, given)]
    if not matched:
        raise TaskNotFound(task_id)
    task = stored.task
    if task.status is not TaskStatus.PROCESSING or matched[0] != task.attempts or stored.async_until is None:
        raise InvalidTransition(task_id, task.status.value if task.status.finished else STALE, "finish")
    if not _holds(stored, now):
        raise _over(stored)
    return stored


def _holds(stored: StoredTask, now: datetime) -> bool:
    """Whether the accepted attempt's lease holds at `now`, to the millisecond (as lease_holds writes it)."""
    return (stored.lease_until or 0) > now.timestamp()


def _over(stored: StoredTask) -> AttemptOver:
    """What a late call is told: which end passed and when, and what tasklane does next."""
    lease = stored.lease_until or 0
    missed = "deadline passed" if stored.async_until is None or lease >= stored.async_until else "heartbeat was missed"
    at = clock.iso(datetime.fromtimestamp(lease, UTC))
    return AttemptOver(
        stored.task.task_id, stored.task.attempts, missed, at, stored.task.attempts < stored.task.max_attempts
    )


def _refused(stored: StoredTask, exc: TransitionRejected, now: datetime, action: str) -> Exception:
    """Why a finishing write's condition failed: the lease ended meanwhile (AttemptOver), or the attempt did."""
    current, task_id = exc.stored, stored.task.task_id
    same = current is not None and current.task.attempts == stored.task.attempts
    if current is not None and same and current.task.status is TaskStatus.PROCESSING and not _holds(current, now):
        return _over(current)
    return InvalidTransition(task_id, STALE, action)


def complete(task_id: str, token: Any, result: Any, services: Completing) -> None:
    """Finish the attempt with its result, in one write conditional on its lease holding at this request's
    time. A result of {"tasklane": "result_uploaded"} is the object PUT to the envelope's result_upload
    URL (ResultUploadInvalid when there is none or it is not JSON: the attempt goes on)."""
    now = clock.now()
    stored = _attempt_of(task_id, token, services, now)
    number = stored.task.attempts
    fan_in = workflows.fan_in(stored, number, failed=False)
    try:
        given = uploaded_result(stored, number, services) if result == RESULT_UPLOADED else result
        value = keep_result(stored, number, given, services)
    except Unfinishable as exc:
        _end(stored, TaskError(type=exc.type, message=exc.message), False, services, alive_at=now)
        raise
    try:
        services.store.within_lease().mark_completed(task_id, number, value, now, fan_in=fan_in)
    except TransitionRejected as exc:
        raise _refused(stored, exc, now, "complete") from None
    count(stored.task.priority, stored.task.task_type, "TaskCompleted")
    if fan_in is not None:
        workflows.moves_on(stored, services, failed=False)


def fail(task_id: str, token: Any, error: TaskError, retry: bool, services: Queueing) -> bool:
    """Fail the attempt; whether it is retried."""
    now = clock.now()
    return _end(_attempt_of(task_id, token, services, now), error, retry, services, alive_at=now)


def heartbeat(task_id: str, token: Any, progress: Progress | None, services: HasStore) -> int:
    """Keep the attempt alive: its lease moves to now + heartbeat_seconds (never past its deadline).
    The lease it now has, in epoch seconds."""
    now = clock.now()
    stored = _attempt_of(task_id, token, services, now)
    until = stored.async_until or 0
    lease = min(until, clock.epoch(now) + stored.heartbeat_seconds) if stored.heartbeat_seconds else until
    try:
        services.store.beat(task_id, stored.task.attempts, lease, now, progress)
    except TransitionRejected as exc:
        raise _refused(stored, exc, now, "heartbeat") from None
    return lease


def result_upload(task_id: str, token: Any, services: Uploading) -> tuple[ResultUpload, str]:
    """A presigned PUT to the attempt's result key, signed now (the envelope's was signed at the start,
    by credentials that may have expired since): valid for RESULT_UPLOAD_SECONDS, and ending with the
    attempt's lease, to the second (SigV4 signs to the second; a URL lasts one at least). The upload
    and when its URL expires (ISO 8601 UTC). A URL signed with temporary credentials also stops when
    they expire, which Lambda does not promise to be later: a PUT refused with 403 asks again (as
    tasklane_client.worker.upload_result does)."""
    now = clock.now()
    stored = _attempt_of(task_id, token, services, now)
    signed = math.floor(now.timestamp())
    seconds = max(1, min(RESULT_UPLOAD_SECONDS, math.floor(stored.lease_until or 0) - signed))
    url = upload_url(stored, stored.task.attempts, seconds, services)
    upload = ResultUpload(url, services.settings.max_result_bytes)
    return upload, clock.iso(datetime.fromtimestamp(signed + seconds, UTC))


def _end(
    stored: StoredTask, error: TaskError, retry: bool, services: Queueing, alive_at: datetime | None = None
) -> bool:
    """Fail this attempt: retried with backoff (a fresh lane message) while attempts remain and
    `retry`, else the task fails (a workflow's counting down its barrier). `alive_at`: a call from the
    target, written only while the attempt's lease holds at that time (the sweep's own end has none)."""
    task, now = stored.task, alive_at or clock.now()
    store = services.store.within_lease() if alive_at is not None else services.store
    number = task.attempts
    try:
        if retry and number < task.max_attempts:
            delay = min(backoff_seconds(number), BACKOFF_CAP_SECONDS)
            store.mark_retrying(task.task_id, number, error, now, delay)
            services.queues.send(task.priority, TaskMessage.for_task(task, stored.owner, None), delay)
            count(task.priority, task.task_type, "TaskRetried")
            return True
        fan_in = workflows.fan_in(stored, number, failed=True)
        failed = store.mark_failed(task.task_id, error, now, attempt=number, fan_in=fan_in)
    except TransitionRejected as exc:
        raise _refused(stored, exc, now, "fail") from None
    count(task.priority, task.task_type, "TaskFailed")
    if fan_in is not None:
        workflows.moves_on(failed, services, failed=True)
    return False


def sweep(stored: StoredTask, services: Queueing) -> bool:
    """The reconciler's turn on an accepted attempt whose lease ran out (deadline or heartbeat missed):
    retried while attempts remain, else failed. False when it was not an async attempt."""
    if stored.async_until is None or stored.task.status is not TaskStatus.PROCESSING:
        return False
    if _holds(stored, clock.now()):
        return True
    missed = stored.lease_until is not None and stored.lease_until < stored.async_until
    error = (
        TaskError(type="HeartbeatMissed", message=f"no heartbeat within {stored.heartbeat_seconds} s")
        if missed
        else TaskError(type="TaskTimedOut", message=f"not finished within {stored.task.timeout_seconds} s")
    )
    try:
        _end(stored, error, True, services)
    except (InvalidTransition, AttemptOver):
        logger.info("async attempt ended meanwhile", extra={"task_id": stored.task.task_id})
    return True
