"""One call of a target with a task's envelope: a url target POSTed (signed like a webhook, to the
address checked just now), a Lambda target invoked; the answer mapped to a result or a failure.

url: 2xx with a JSON body is the result; 4xx other than 408/429, and redirects (never followed),
fail the task (TargetRejected); 408, 429, 5xx, refused connections and timeouts fail the attempt
(retried with backoff, Retry-After honoured). The whole call ends by the attempt's deadline, and at
most the result limit of its body is read. lambda: the returned value is the result; a function error
fails the attempt with the function's errorType. Either may instead PUT its result to the envelope's
`result_upload` URL and answer {"tasklane": "result_uploaded"} (a Lambda cannot return over 6 MB, an
async worker's completion goes through the API's 10 MB): a sync url target answers in its body, up to
the result limit, and gets no upload URL (presigning needs an S3 client, ~40 ms of a cold start).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from tasklane.logic.target_outcomes import TargetUnavailable, rejected, retry_after
from tasklane.logic.task_values import ResultUploadInvalid, Unfinishable, read_payload, upload_url, uploaded_result
from tasklane.model import clock
from tasklane.model.async_answers import ACCEPTED
from tasklane.model.envelope import RESULT_UPLOADED, Envelope, ResultUpload
from tasklane.model.registered_types import RegisteredType
from tasklane.records import record

if TYPE_CHECKING:
    from tasklane.data.services import HasNotifications, HasSettings, HasStore, HasTargetFunctions, HasValues
    from tasklane.data.tasks.codec import StoredTask
    from tasklane.model.message import TaskMessage
    from tasklane.task_types.registry import TaskContext

USER_AGENT = "tasklane-targets/1"
RETRIED_STATUSES = frozenset({408, 429})
MAX_UPLOAD_URL_SECONDS = 7 * 24 * 3600  # SigV4's longest (the signing role's session may end sooner)


if TYPE_CHECKING:

    class TargetCalls(HasSettings, HasValues, HasStore, HasTargetFunctions, HasNotifications, Protocol):
        """What a target call touches: the values bucket (payload, inputs), the tasks table (an async
        attempt's token), the target's Lambda function, the owner's signing secret and the webhook settings
        (a url target's call is signed and checked as a webhook), and the settings' limits."""


@record
class TargetRun:
    """A registered type's task as the processor runs it (the built-ins' parse_payload and run)."""

    task_type: RegisteredType
    stored: StoredTask
    message: TaskMessage
    services: TargetCalls

    def parse_payload(self, raw: dict[str, Any]) -> dict[str, Any]:
        return raw  # checked against the type's schema at submission

    def run(self, payload: dict[str, Any], ctx: TaskContext) -> Any:
        # Ends a little before the task's own time limit, so that the call's typed error (TargetTimedOut)
        # is what the task shows; the limit's alarm stays the backstop.
        # An async type's call is bounded as a sync one's: its own deadline (days) is the attempt's.
        call_seconds = min(ctx.remaining_seconds(), self.services.settings.max_task_timeout_seconds)
        deadline = time.monotonic() + call_seconds * 0.8
        envelope = self.envelope(ctx.attempt, ctx.remaining_seconds(), ctx.inputs)
        if self.task_type.mode == "async":
            from tasklane.logic import async_tasks
            from tasklane.settings.task_types import task_type_settings

            completion = async_tasks.arm(self.stored, ctx.attempt, self.services, task_type_settings().api_url)
            envelope = replace(envelope, completion=completion)
        result = call_url(self, envelope, deadline) if self.task_type.kind == "url" else call_function(self, envelope)
        if self.task_type.mode == "async" and result is ACCEPTED:
            from tasklane.logic import async_tasks

            async_tasks.accepted(self.stored, ctx.attempt, self.task_type.heartbeat_seconds, self.services)
        elif result == RESULT_UPLOADED:
            try:
                return uploaded_result(self.stored, ctx.attempt, self.services)
            except ResultUploadInvalid as exc:
                raise TargetUnavailable(exc.type, exc.message) from None
        return result

    def envelope(self, attempt: int, seconds_left: float, inputs: list[Any] | None = None) -> Envelope:
        task = self.stored.task
        large = self.stored.payload_key is not None
        given: dict[str, Any] = {}
        if task.workflow_id is not None:
            from tasklane.logic.workflows.inputs import envelope_inputs  # a workflow's tasks only

            given = envelope_inputs(self.stored, attempt, inputs or [], self.services)
        return Envelope(
            task_id=task.task_id,
            task_type=task.task_type,
            attempt=attempt,
            max_attempts=task.max_attempts,
            deadline=clock.iso(clock.now() + timedelta(seconds=seconds_left)),
            payload=None if large else read_payload(self.stored, self.services),
            payload_url=self.services.values.url(self.stored.payload_key) if self.stored.payload_key else None,
            **given,
            correlation_id=self.message.correlation_id,
            result_upload=self.result_upload(attempt, seconds_left) if self.uploads_results else None,
        )

    @property
    def uploads_results(self) -> bool:
        """Whether the target may need to PUT its result: a Lambda's answer stops at 6 MB and an async
        completion passes the API; a sync url target's body carries the whole result."""
        return self.task_type.kind == "lambda" or self.task_type.mode == "async"

    def result_upload(self, attempt: int, seconds_left: float) -> ResultUpload:
        """The attempt's presigned PUT, valid while the attempt may run (an async one: its timeout)."""
        seconds = self.stored.task.timeout_seconds if self.task_type.mode == "async" else seconds_left
        seconds = min(MAX_UPLOAD_URL_SECONDS, max(60, int(seconds)))
        url = upload_url(self.stored, attempt, seconds, self.services)
        return ResultUpload(url, self.services.settings.max_result_bytes)


def call_url(run: TargetRun, envelope: Envelope, deadline: float) -> Any:
    from tasklane.destinations import receivers
    from tasklane.destinations.check import CallbackRefused, destination
    from tasklane.logic.webhook_secrets import secret_for
    from tasklane.model.callbacks import SIGNATURE_HEADER, signature

    alerts = run.services.notifications
    try:
        hooks = alerts.settings
        target, addresses = destination(
            run.task_type.target.address, allow_loopback=hooks.allow_loopback, closed_port=hooks.closed_port
        )
    except CallbackRefused as exc:
        # The rules held at registration; the name now points elsewhere (or the stack changed).
        raise TargetUnavailable("TargetRefused", str(exc).replace("callback_url", "the target's url", 1)) from None
    except receivers.NameNotResolved as exc:
        raise TargetUnavailable("TargetUnreachable", str(exc)) from None
    body = envelope.to_json()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret_for(run.stored.owner, alerts).secret, clock.epoch(clock.now()), body),
        "Tasklane-Task-Id": envelope.task_id,
        "Tasklane-Attempt": str(envelope.attempt),
    }
    limit = run.services.settings.max_result_bytes
    error = "no address"
    for address in addresses:  # each was checked; the next only when this one gives no answer
        try:
            answer = receivers.exchange(receivers.Post(target, address, body, headers), deadline, limit)
        except receivers.CallTimedOut as exc:
            raise TargetUnavailable("TargetTimedOut", str(exc)) from None
        except receivers.ReceiverUnreachable as exc:
            error = str(exc)
            continue
        if answer.status == 202 and run.task_type.mode == "async":
            return ACCEPTED  # the target finishes it later through the completion routes
        return _result(answer, limit)
    raise TargetUnavailable("TargetUnreachable", f"the target could not be reached: {error}")


def _result(answer: Any, limit: int) -> Any:
    status = answer.status
    if status in RETRIED_STATUSES or status >= 500:
        start = answer.body[:200].decode("utf-8", "replace")
        raise TargetUnavailable(
            f"TargetStatus{status}",
            f"the target answered {status}: {start}",
            retry_after(answer.headers.get("retry-after")),
        )
    if not 200 <= status < 300:
        raise rejected(status, answer.body)
    if answer.truncated:
        raise Unfinishable("ResultTooLarge", f"the target's answer is over the result limit of {limit} bytes")
    return parse_json(answer.body, "the target's answer")


def parse_json(body: bytes, what: str) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise TargetUnavailable(
            "TargetAnswerNotJSON", f"{what} is not JSON: {body[:100].decode('utf-8', 'replace')}"
        ) from None


def call_function(run: TargetRun, envelope: Envelope) -> Any:
    from tasklane.data.functions import InvocationFailed

    try:
        answer = run.services.target_functions.invoke(run.task_type.target.address, envelope.to_json())
    except InvocationFailed as exc:
        raise TargetUnavailable("TargetInvocationFailed", str(exc)) from None
    if answer.function_error:
        kind, message = answer.error()
        raise TargetUnavailable(kind, message)
    limit = run.services.settings.max_result_bytes
    if len(answer.payload) > limit:
        raise Unfinishable("ResultTooLarge", f"the function returned {len(answer.payload)} bytes; the limit is {limit}")
    value = parse_json(answer.payload, "the function's return value")
    if run.task_type.mode == "async" and value == {"tasklane": "accepted"}:
        return ACCEPTED
    return value
