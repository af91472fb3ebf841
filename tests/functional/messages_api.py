"""Every error message the API answers: one row each (code, status, the text a caller reads, what to do),
and how to make the API answer it. tests/functional/test_messages.py drives each row and checks the
catalogue against the code and against docs/messages.md."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.events import api_event
from tests.functional import task_types_helpers as types
from tests.functional import workflow_helpers as workflows
from tests.functional.test_schedules import create as create_schedule
from tests.functional.test_schedules import schedule_event

UNKNOWN = "0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
# What a produced answer is: (status, code, message), and the values its row's text is formatted with.
Produced = tuple[tuple[int, str, str], dict[str, Any]]


@dataclass(frozen=True)
class Message:
    code: str
    status: int
    text: str  # {name} stands for what the answer fills in (a task id, a name, a status)
    todo: str
    produce: Callable[[Any], Produced]


def said(answer: Any, **values: Any) -> Produced:
    error = answer.body["error"]
    return (answer.status, error["code"], error["message"]), values


def call(tasklane: Any, name: str, *, path: dict[str, str] | None = None, **fields: Any) -> Any:
    event = api_event(name, **fields)
    if path:
        event["pathParameters"] = path
        event["path"] = event["resource"].format(**path)
    return tasklane.call(event)


def submitted(tasklane: Any, **body: Any) -> str:
    body = {"task_type": "echo", "payload": {"x": 1}, **body}
    answer = call(tasklane, "submit_task", body=body, headers={"Idempotency-Key": None})
    assert answer.status == 202, answer.body
    return str(answer.body["task_id"])


def submit(tasklane: Any, body: Any = ..., **fields: Any) -> Any:
    return call(tasklane, "submit_task", body=body, **{"headers": {"Idempotency-Key": None}, **fields})


def refuse_every_call(client: Any, code: str = "InternalServerError", status: int = 500) -> None:
    """Every call of a boto3 client is answered with an AWS error (500: after the SDK's retries)."""
    from botocore.awsrequest import AWSResponse

    class Raw:
        def __init__(self, body: bytes) -> None:
            self.body = body

        def stream(self, **_: Any) -> Any:
            yield self.body

        def read(self, *_: Any) -> bytes:
            return self.body

    def answer(request: Any, **kwargs: Any) -> Any:
        body = json.dumps({"__type": code, "message": "refused", "Message": "refused"}).encode()
        return AWSResponse(request.url, status, {"x-amzn-ErrorType": code}, Raw(body))

    client.meta.events.register_first("before-send", answer)


# --- producers -------------------------------------------------------------------------------------


def _task_not_found(t: Any) -> Produced:
    return said(call(t, "get_task", task_id=UNKNOWN), task_id=UNKNOWN)


def _cancel_twice(t: Any) -> Produced:
    task_id = submitted(t)
    assert call(t, "cancel_task", task_id=task_id).status == 200
    return said(call(t, "cancel_task", task_id=task_id), action="cancel", task_id=task_id, status="cancelled")


def _retry_pending(t: Any) -> Produced:
    task_id = submitted(t)
    return said(call(t, "retry_task", task_id=task_id), action="retry", task_id=task_id, status="pending")


def _malformed_id(t: Any) -> Produced:
    return said(call(t, "get_task", task_id="nope"), task_id="nope")


def _bad_cursor(t: Any) -> Produced:
    return said(call(t, "list_tasks", query={"cursor": "nope"}))


def _not_json(t: Any) -> Produced:
    return said(submit(t, raw_body="{nope"))


def _not_json_bulk(t: Any) -> Produced:
    return said(call(t, "start_bulk", raw_body="{nope"))


def _not_json_batch(t: Any) -> Produced:
    return said(call(t, "submit_batch", raw_body="{nope"))


def _too_deep(t: Any) -> Produced:
    return said(call(t, "submit_batch", raw_body='{"tasks": ' + "[" * 200_000 + "]" * 200_000 + "}"))


def _not_utf8(t: Any) -> Produced:
    event = api_event("submit_task", headers={"Idempotency-Key": None})
    event["body"], event["isBase64Encoded"] = "/w==", True  # the byte 0xff
    return said(t.call(event))


def _unauthenticated(t: Any) -> Produced:
    return said(call(t, "get_task", owner=None, task_id=UNKNOWN))


def _media_type(t: Any) -> Produced:
    answer = submit(t, body={"task_type": "echo"}, headers={"Idempotency-Key": None, "Content-Type": "text/plain"})
    return said(answer, content_type="text/plain")


def _media_type_schedules(t: Any) -> Produced:
    """The schedules routes (Powertools' validation layer) answer as the others do."""
    event = schedule_event("POST", body={"name": "x", "rate": "5 minutes", "task": {"task_type": "echo"}})
    event["headers"]["Content-Type"], event["multiValueHeaders"]["Content-Type"] = "text/plain", ["text/plain"]
    return said(t.call(event), content_type="text/plain")


def _payload_too_large(t: Any) -> Produced:
    from tasklane.limits import MAX_PAYLOAD_BYTES

    answer = submit(t, body={"task_type": "echo", "payload": {"x": "a" * MAX_PAYLOAD_BYTES}})
    size = len(json.dumps({"x": "a" * MAX_PAYLOAD_BYTES}, separators=(",", ":")).encode())
    return said(answer, size=size, limit=MAX_PAYLOAD_BYTES)


def _batch_too_large(t: Any) -> Produced:
    from tasklane.limits import MAX_BATCH_BODY_BYTES

    raw = json.dumps({"tasks": [{"task_type": "echo", "payload": {"x": "a" * MAX_BATCH_BODY_BYTES}}]})
    return said(call(t, "submit_batch", raw_body=raw), size=len(raw.encode()), limit=MAX_BATCH_BODY_BYTES)


def _schedule_payload_too_large(t: Any) -> Produced:
    from tasklane.limits import INLINE_VALUE_BYTES

    answer = create_schedule(t, task={"task_type": "echo", "payload": {"x": "a" * INLINE_VALUE_BYTES}})
    return said(answer, limit=INLINE_VALUE_BYTES)


def _request_not_valid(t: Any) -> Produced:
    return said(submit(t, body={"task_type": "echo", "priority": "urgent"}))


def _unknown_type(t: Any) -> Produced:
    return said(submit(t, body={"task_type": "nope"}), name="nope")


def _invalid_payload(t: Any) -> Produced:
    return said(submit(t, body={"task_type": "compute", "payload": {"n": "x"}}), name="compute")


def _processor_limit(t: Any) -> Produced:
    return said(submit(t, body={"task_type": "echo", "timeout_seconds": 100_000}))


def _callback_not_allowed(t: Any) -> Produced:
    t.resolver.names["private.example.com"] = ["10.0.0.1"]
    return said(submit(t, body={"task_type": "echo", "callback_url": "https://private.example.com/hook"}))


def _callback_unresolved(t: Any) -> Produced:
    return said(submit(t, body={"task_type": "echo", "callback_url": "https://no-such-host.example.com/hook"}))


def _batch_task_not_valid(t: Any) -> Produced:
    answer = call(t, "submit_batch", body={"tasks": [{"task_type": "echo", "priority": "urgent"}]})
    assert answer.status == 202, answer.body
    error = answer.body["results"][0]["error"]
    return (422, error["code"], error["message"]), {}


def _schedule_task_not_valid(t: Any) -> Produced:
    answer = create_schedule(t, task={"task_type": "nope"})
    return said(answer, reason="unknown task_type 'nope'")


def _schedule_not_found(t: Any) -> Produced:
    return said(t.call(schedule_event("GET", name="nope")), name="nope")


def _schedule_exists(t: Any) -> Produced:
    assert create_schedule(t).status == 201
    return said(create_schedule(t), name="nightly-report")


def _schedule_changed(t: Any) -> Produced:
    """Every write of an edit loses to another edit made meanwhile."""
    from tasklane.data.schedules import ScheduleRecords
    from tests.functional.test_schedule_edits import edit

    assert create_schedule(t).status == 201
    original, inside = ScheduleRecords.replace, []

    def raced(self: Any, schedule: Any, expected_version: int) -> Any:
        if not inside:  # another request's whole edit comes first
            inside.append(True)
            assert edit(t.tasklane, {"timezone": "Europe/Paris"}).status == 200
            inside.clear()
        return original(self, schedule, expected_version)

    t.monkeypatch.setattr(ScheduleRecords, "replace", raced)
    return said(edit(t.tasklane, {"rate": "1 hour"}), name="nightly-report")


def _schedule_limit(t: Any) -> Produced:
    from tasklane.settings import scheduler

    limit = scheduler.scheduler_settings().max_schedules_per_owner
    t.limit_schedules(2)
    for name in ("a", "b"):
        assert create_schedule(t, name=name).status == 201
    answer = create_schedule(t, name="c")
    t.limit_schedules(limit)
    return said(answer, limit=2)


def _scheduler_refused(t: Any) -> Produced:
    from tasklane.data import aws

    refuse_every_call(aws.scheduler(), "ValidationException", 400)
    return said(create_schedule(t))


def _bulk_not_found(t: Any) -> Produced:
    return said(call(t, "get_bulk", path={"bulk_id": UNKNOWN}), bulk_id=UNKNOWN)


def _bulk_not_valid(t: Any) -> Produced:
    return said(call(t, "start_bulk", body={"action": "explode"}))


def _workflow_not_found(t: Any) -> Produced:
    return said(workflows.get(t, UNKNOWN), workflow_id=UNKNOWN)


def _workflow_not_valid(t: Any) -> Produced:
    answer = call(
        t, "submit_workflow", body={"root": {"task": {"task_type": "nope"}}}, headers={"Idempotency-Key": None}
    )
    return said(answer)


def _workflow_task(action: str) -> Callable[[Any], Produced]:
    def produce(t: Any) -> Produced:
        root = {"chain": [{"task": {"task_type": "echo"}}, {"task": {"task_type": "echo"}}]}
        workflow_id = workflows.submit(t, root)["workflow_id"]
        listed = call(t, "list_tasks", query={"workflow_id": workflow_id})
        task_id = listed.body["items"][-1]["task_id"]
        verb = "cancel_task" if action == "cancel" else "retry_task"
        return said(call(t, verb, task_id=task_id), action=action, task_id=task_id, workflow_id=workflow_id)

    return produce


def _workflow_finished(t: Any) -> Produced:
    workflow_id = workflows.submit(t, {"task": {"task_type": "echo"}})["workflow_id"]
    assert workflows.cancel(t, workflow_id).status == 200
    return said(workflows.cancel(t, workflow_id), workflow_id=workflow_id, status="cancelled")


def _result_not_yet(t: Any) -> Produced:
    task_id = submitted(t)
    return said(call(t, "get_result", task_id=task_id), task_id=task_id, status="pending")


def _result_cancelled(t: Any) -> Produced:
    task_id = submitted(t)
    call(t, "cancel_task", task_id=task_id)
    return said(call(t, "get_result", task_id=task_id), task_id=task_id)


def _result_expired(t: Any) -> Produced:
    task_id = submitted(t, task_type="blob", payload={"size": 100_000})
    t.drain("normal")
    item = t.item(task_id)
    t.s3.delete_object(Bucket=t.stack.names["ValuesBucket"], Key=item["result_key"]["S"])
    return said(call(t, "get_result", task_id=task_id), task_id=task_id)


def _result_of_failed(t: Any) -> Produced:
    task_id = submitted(t, task_type="fail", payload={"message": "boom"}, max_attempts=1)
    t.drain("normal")
    return said(call(t, "get_result", task_id=task_id), task_id=task_id, error="IntentionalFailure: boom")


def _idempotency_conflict(t: Any) -> Produced:
    headers = {"Idempotency-Key": "k-1"}
    assert submit(t, body={"task_type": "echo"}, headers=headers).status == 202
    return said(submit(t, body={"task_type": "echo", "payload": {"x": 2}}, headers=headers))


def _in_progress(t: Any) -> Produced:
    """The same key sent again while its first request still runs."""
    from tasklane.logic import submission

    first, seen = submission.submit_keyed, []

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        seen.append(submit(t, body={"task_type": "echo"}, headers={"Idempotency-Key": "k-2"}))
        return first(*args, **kwargs)

    t.monkeypatch.setattr(submission, "submit_keyed", meanwhile)
    assert submit(t, body={"task_type": "echo"}, headers={"Idempotency-Key": "k-2"}).status == 202
    return said(seen[0])


def _no_json_form(t: Any) -> Produced:
    """A payload a task type's own check turns into a value JSON cannot hold (NaN)."""
    from dataclasses import replace

    from tasklane.logic import submission

    offered = submission.offered

    def nan(*args: Any) -> Any:
        return replace(offered(*args), check_payload=lambda payload: {"x": float("nan")})

    t.monkeypatch.setattr(submission, "offered", nan)
    return said(submit(t, body={"task_type": "echo"}))


def _result_not_kept(t: Any) -> Produced:
    """An async target completes its attempt with a result over MaxResultBytes."""
    from tasklane.data.services import services
    from tests.functional.test_async_targets import finish, start

    task_id, envelope = start(t.tasklane, t.receiver)
    body = {"token": envelope["completion"]["token"], "result": "a" * services().settings.max_result_bytes}
    return said(finish(t.tasklane, "complete", task_id, body))


def _stale_token(t: Any) -> Produced:
    """An async attempt failed with a retry: its token no longer finishes the task."""
    from tests.functional.test_async_targets import finish, start

    task_id, envelope = start(t.tasklane, t.receiver, max_attempts=2)
    token = envelope["completion"]["token"]
    failed = {"token": token, "error": {"type": "RenderCrashed", "message": "out of memory"}, "retry": True}
    assert finish(t.tasklane, "fail", task_id, failed).status == 200
    return said(
        finish(t.tasklane, "complete", task_id, {"token": token, "result": 1}), action="finish", task_id=task_id
    )


def _attempt_over(t: Any) -> Produced:
    """An async attempt finished after its deadline: its token is spent."""
    from tests.functional.test_async_targets import finish, start

    task_id, envelope = start(t.tasklane, t.receiver, max_attempts=1, timeout_seconds=60)
    t.pass_time(3600)
    answer = finish(t.tasklane, "complete", task_id, {"token": envelope["completion"]["token"], "result": 1})
    details = answer.body["error"]["details"]
    return said(
        answer, task_id=task_id, missed=details["missed"], at=details["at"], then="tasklane fails the task", attempt=1
    )


def _task_type_not_found(t: Any) -> Produced:
    return said(types.get_type(t, "nope"), name="nope")


def _builtin_type(t: Any) -> Produced:
    return said(types.put_type(t, "echo", types.definition()), name="echo")


def _type_not_valid(t: Any) -> Produced:
    return said(types.put_type(t, "Mine", types.definition()))


def _schema_not_allowed(t: Any) -> Produced:
    from tasklane.logic.payload_schemas import MAX_SCHEMA_BYTES

    return said(types.put_type(t, "mine", types.definition(payload_schema={"description": "a" * MAX_SCHEMA_BYTES})))


def _type_limit(t: Any) -> Produced:
    t.limit_task_types(1)
    first = types.put_type(t, "first", types.definition())
    assert first.status in (200, 201), first.body
    return said(types.put_type(t, "second", types.definition()), limit=1)


def _route_not_found(t: Any) -> Produced:
    event = api_event("get_task", task_id=UNKNOWN)
    event["resource"], event["path"] = "/nowhere", "/nowhere"
    return said(t.call(event))


def _console_file(t: Any) -> Produced:
    return said(call(t, "console_asset", path={"asset": "nope.js"}), asset="nope.js")


def _internal_error(t: Any) -> Produced:
    from tasklane.logic import queries

    def broken(*_: Any, **__: Any) -> Any:
        raise ZeroDivisionError("x")

    t.monkeypatch.setattr(queries, "get_task", broken)
    return said(call(t, "get_task", task_id=UNKNOWN))


def _unavailable(client: str, route: str) -> Callable[[Any], Produced]:
    def produce(t: Any) -> Produced:
        from tasklane.data import aws

        t.monkeypatch.setattr("time.sleep", lambda s: None)
        task_id = submitted(t)
        refuse_every_call(getattr(aws, client)())
        if route == "get_task":
            return said(call(t, "get_task", task_id=task_id))
        if route == "stats":
            return said(call(t, "stats"))
        if route == "submit_task":
            return said(submit(t, body={"task_type": "echo"}))
        if route == "list_schedules":
            return said(t.call(schedule_event("GET")))
        if route == "get_bulk":
            return said(call(t, "get_bulk", path={"bulk_id": UNKNOWN}))
        return said(types.list_types(t))

    return produce


def _value_unavailable(t: Any) -> Produced:
    from tasklane.data import aws

    t.monkeypatch.setattr("time.sleep", lambda s: None)
    refuse_every_call(aws.s3())
    return said(submit(t, body={"task_type": "echo", "payload": {"x": "a" * 70_000}}))


# --- the catalogue ---------------------------------------------------------------------------------

RETRY = "retry later, with backoff; nothing was done"
API: list[Message] = [
    Message(
        "bad_request",
        400,
        "malformed task id {task_id!r}: expected a UUID",
        "pass a task id as the API gave it",
        _malformed_id,
    ),
    Message(
        "bad_request",
        400,
        "invalid cursor: pass back the next_cursor of a previous page",
        "pass next_cursor unchanged, or no cursor for the first page",
        _bad_cursor,
    ),
    Message("bad_request", 400, "the body is not valid JSON", "send a JSON body", _not_json),
    Message(
        "bad_request",
        400,
        "the body is nested too deeply",
        "send a body nested less deeply (a payload: at most 64 levels)",
        _too_deep,
    ),
    Message("bad_request", 400, "the body is not UTF-8", "encode the body as UTF-8", _not_utf8),
    Message(
        "unauthenticated",
        403,
        "no authenticated identity in the request: sign it with SigV4 or send an API key",
        "sign the request (IAM) or send x-api-key (API keys)",
        _unauthenticated,
    ),
    Message(
        "task_not_found",
        404,
        "task {task_id} not found",
        "check the id and the credentials: another caller's task is not found either",
        _task_not_found,
    ),
    Message(
        "schedule_not_found",
        404,
        "schedule {name!r} not found",
        "check the name: GET /schedules lists yours",
        _schedule_not_found,
    ),
    Message(
        "bulk_not_found",
        404,
        "bulk action {bulk_id} not found",
        "use the bulk_id POST /tasks/bulk answered (kept TaskRetentionDays)",
        _bulk_not_found,
    ),
    Message(
        "workflow_not_found",
        404,
        "workflow {workflow_id} not found",
        "check the id: GET /workflows lists yours",
        _workflow_not_found,
    ),
    Message(
        "task_type_not_found",
        404,
        "task type {name!r} not found",
        "check the name: GET /task-types lists what you may submit",
        _task_type_not_found,
    ),
    Message("route_not_found", 404, "no such route", "see GET /openapi.json for the routes", _route_not_found),
    Message("not_found", 404, "no console file {asset!r}", "open the console at /console", _console_file),
    Message(
        "invalid_transition",
        409,
        "cannot {action} task {task_id}: it is {status}",
        "read the task: only a pending or scheduled task is cancelled, a failed or cancelled one retried",
        _cancel_twice,
    ),
    Message(
        "invalid_transition",
        409,
        "cannot {action} task {task_id}: it is {status}",
        "read the task: only a pending or scheduled task is cancelled, a failed or cancelled one retried",
        _retry_pending,
    ),
    Message(
        "invalid_transition",
        409,
        "cannot {action} task {task_id}: this token's attempt is over (a later attempt or a retry has its own token)",
        "finish an attempt with the token of its own envelope; this one's outcome is not needed",
        _stale_token,
    ),
    Message(
        "attempt_over",
        409,
        "attempt {attempt} of task {task_id} is over: its {missed} at {at}; {then}",
        "nothing to send: the task has moved on (read it)",
        _attempt_over,
    ),
    Message(
        "schedule_exists",
        409,
        "you have a schedule named {name!r} already",
        "choose another name, or delete the schedule first",
        _schedule_exists,
    ),
    Message(
        "schedule_changed",
        409,
        "schedule {name!r} is being changed by another request: read it and try again",
        "read the schedule, then send the edit again",
        _schedule_changed,
    ),
    Message(
        "schedule_limit_reached",
        409,
        "you have {limit} schedules, the most this stack allows: delete one first",
        "delete a schedule (or raise MaxSchedulesPerOwner)",
        _schedule_limit,
    ),
    Message(
        "workflow_task",
        409,
        "cannot {action} task {task_id} on its own: it is a node of workflow {workflow_id}; cancel the workflow instead",
        "DELETE /workflows/{id}",
        _workflow_task("cancel"),
    ),
    Message(
        "workflow_task",
        409,
        "cannot {action} task {task_id} on its own: it is a node of workflow {workflow_id}; submit the workflow again",
        "POST /workflows with the same tree",
        _workflow_task("retry"),
    ),
    Message(
        "workflow_finished",
        409,
        "cannot cancel workflow {workflow_id}: it is {status}",
        "nothing to do: it has ended",
        _workflow_finished,
    ),
    Message(
        "result_not_ready",
        409,
        "task {task_id} is {status}; it has no result yet",
        "wait for it (GET /tasks/{id}?wait=20), then ask again",
        _result_not_yet,
    ),
    Message(
        "result_not_ready",
        409,
        "task {task_id} was cancelled: it has no result (retry it to run it)",
        "POST /tasks/{id}/retry",
        _result_cancelled,
    ),
    Message(
        "result_not_ready",
        409,
        "the result of task {task_id} has expired",
        "run the task again: results are kept TaskRetentionDays",
        _result_expired,
    ),
    Message(
        "task_failed",
        409,
        "task {task_id} failed ({error}): it has no result",
        "read its error (details, or GET /tasks/{id}); retry it once fixed",
        _result_of_failed,
    ),
    Message(
        "idempotency_conflict",
        409,
        "this Idempotency-Key was used with a different request body",
        "use a new key for a new request",
        _idempotency_conflict,
    ),
    Message(
        "idempotency_conflict",
        409,
        "a request with this Idempotency-Key is still in progress; retry shortly",
        "retry after a pause: the first request's answer is then replayed",
        _in_progress,
    ),
    Message(
        "builtin_task_type",
        409,
        "{name!r} is a built-in task type: choose another name",
        "register your type under another name",
        _builtin_type,
    ),
    Message(
        "task_type_limit_reached",
        409,
        "you have {limit} task types, the most this stack allows: delete one first",
        "delete a type (or raise MaxTaskTypesPerOwner)",
        _type_limit,
    ),
    Message(
        "payload_too_large",
        413,
        "payload is {size} bytes of JSON; the limit is {limit}",
        "send a smaller payload, or a reference to where the data is",
        _payload_too_large,
    ),
    Message(
        "payload_too_large",
        413,
        "batch body is {size} bytes; the limit is {limit}",
        "send fewer tasks per batch",
        _batch_too_large,
    ),
    Message(
        "payload_too_large",
        413,
        "a schedule's task payload is at most {limit} bytes of JSON",
        "keep a schedule's payload small: it is stored with the schedule",
        _schedule_payload_too_large,
    ),
    Message(
        "unsupported_media_type",
        415,
        "content type {content_type!r} is not supported: send application/json",
        "send Content-Type: application/json",
        _media_type,
    ),
    Message(
        "unsupported_media_type",
        415,
        "content type {content_type!r} is not supported: send application/json",
        "send Content-Type: application/json",
        _media_type_schedules,
    ),
    Message("validation_error", 422, "the request is not valid", "fix the fields named in details", _request_not_valid),
    Message(
        "validation_error",
        422,
        "unknown task_type {name!r}",
        "GET /task-types lists the types you may submit",
        _unknown_type,
    ),
    Message(
        "validation_error",
        422,
        "invalid payload for task type {name!r}",
        "fix the payload's fields named in details",
        _invalid_payload,
    ),
    Message(
        "validation_error",
        422,
        "timeout_seconds is above the processor's limit",
        "ask for at most the limit details give",
        _processor_limit,
    ),
    Message(
        "validation_error", 422, "the callback_url is not allowed", "give a public https URL", _callback_not_allowed
    ),
    Message(
        "validation_error", 422, "the callback_url host does not resolve", "check the host name", _callback_unresolved
    ),
    Message(
        "validation_error",
        422,
        "the payload has no JSON form",
        "send a payload JSON can hold (no NaN, no Infinity)",
        _no_json_form,
    ),
    Message(
        "validation_error",
        422,
        "the task is not valid",
        "fix the fields named in this item's details",
        _batch_task_not_valid,
    ),
    Message(
        "validation_error",
        422,
        "the schedule's task is not valid: {reason}",
        "fix the task's fields named in details",
        _schedule_task_not_valid,
    ),
    Message(
        "validation_error",
        422,
        "EventBridge Scheduler refused the schedule",
        "check the cron or rate expression and the time zone",
        _scheduler_refused,
    ),
    Message("validation_error", 422, "the request is not valid", "fix the fields named in details", _bulk_not_valid),
    Message(
        "validation_error", 422, "the workflow is not valid", "fix the nodes named in details", _workflow_not_valid
    ),
    Message("validation_error", 422, "the task type is not valid", "fix the fields named in details", _type_not_valid),
    Message(
        "validation_error",
        422,
        "the payload_schema is not allowed",
        "use a self-contained JSON Schema (no remote $ref)",
        _schema_not_allowed,
    ),
    Message(
        "validation_error",
        422,
        "the result cannot be kept",
        "the task failed with the error details give: return a smaller result",
        _result_not_kept,
    ),
    Message(
        "internal_error",
        500,
        "internal error; it has been logged",
        "retry; if it persists, report it with the request id",
        _internal_error,
    ),
    Message(
        "service_unavailable",
        503,
        "the task table did not answer; try again shortly",
        RETRY,
        _unavailable("dynamodb", "get_task"),
    ),
    Message(
        "service_unavailable",
        503,
        "a lane queue did not answer; try again shortly",
        RETRY,
        _unavailable("sqs", "stats"),
    ),
    Message(
        "service_unavailable", 503, "the values bucket did not answer; try again shortly", RETRY, _value_unavailable
    ),
    Message(
        "service_unavailable",
        503,
        "CloudWatch did not answer; try again shortly",
        RETRY,
        _unavailable("cloudwatch", "stats"),
    ),
    Message(
        "service_unavailable",
        503,
        "the schedules table or EventBridge Scheduler did not answer; try again shortly",
        RETRY,
        _unavailable("dynamodb", "list_schedules"),
    ),
    Message(
        "service_unavailable",
        503,
        "a service tasklane depends on did not answer; try again shortly",
        RETRY,
        _unavailable("dynamodb", "list_task_types"),
    ),
]


# --- API Gateway's own answers (no function ran): rendered from the template as API Gateway renders them ----


def gateway_answer(kind: str, auth_mode: str = "api_key") -> Callable[[Any], Produced]:
    def produce(t: Any) -> Produced:
        from tests import cfn
        from tests.template.test_gateway_responses import CONTEXT, EXTENSION, render

        body = cfn.template()["Resources"]["TasklaneApi"]["Properties"]["DefinitionBody"][EXTENSION][kind]

        def chosen(node: Any) -> Any:  # the template's Fn::If on UseApiKey, for this AuthMode
            if isinstance(node, dict) and set(node) == {"Fn::If"}:
                return chosen(node["Fn::If"][1 if auth_mode == "api_key" else 2])
            return node

        status = int(chosen(body.get("statusCode", "0")) or 0)
        error = render(chosen(body["responseTemplates"]["application/json"]))["error"]
        path = CONTEXT["path"]
        return (status, error["code"], error["message"]), {"method": CONTEXT["httpMethod"], "path": path}

    produce.__name__ = f"gateway_{kind.lower()}_{auth_mode}"
    return produce


GATEWAY: list[Message] = [
    Message(
        "no_route",
        404,
        "no route {method} {path}: the routes are listed by GET /openapi.json (tasks are under /tasks, schedules under /schedules)",
        "check the method and the path",
        gateway_answer("MISSING_AUTHENTICATION_TOKEN"),
    ),
    Message(
        "no_route_or_unsigned",
        403,
        "no route {method} {path}, or the request is not signed: sign it with SigV4 (service execute-api), and see GET /openapi.json for the routes",
        "sign the request; check the method and the path",
        gateway_answer("MISSING_AUTHENTICATION_TOKEN", "iam"),
    ),
    Message(
        "invalid_api_key",
        403,
        "API key missing or not valid for this stage: send it in the x-api-key header (tasklane CLI: --api-key or TASKLANE_API_KEY)",
        "send the stack's API key",
        gateway_answer("INVALID_API_KEY"),
    ),
    Message(
        "access_denied",
        403,
        "these credentials may not call this API: their IAM policy must allow execute-api:Invoke on it",
        "grant execute-api:Invoke on the API",
        gateway_answer("ACCESS_DENIED", "iam"),
    ),
    Message(
        "invalid_signature",
        403,
        "the request signature does not match: check the credentials, the region and this machine's clock",
        "check the credentials, the region and the clock",
        gateway_answer("INVALID_SIGNATURE", "iam"),
    ),
    Message(
        "expired_token",
        403,
        "the credentials have expired: refresh them (e.g. aws sso login) and retry",
        "refresh the credentials",
        gateway_answer("EXPIRED_TOKEN", "iam"),
    ),
    Message(
        "throttled",
        429,
        "too many requests for this API key or stage: retry after a pause, with backoff",
        "retry with backoff (the client does)",
        gateway_answer("THROTTLED"),
    ),
    Message(
        "quota_exceeded",
        429,
        "this API key has used its daily quota (ApiKeyQuotaLimit): it renews at the start of the next UTC day",
        "wait for the next UTC day, or raise ApiKeyQuotaLimit",
        gateway_answer("QUOTA_EXCEEDED"),
    ),
    Message(
        "request_too_large",
        413,
        "the request is larger than API Gateway accepts (10 MB): send fewer tasks per batch or smaller payloads",
        "send less per request",
        gateway_answer("REQUEST_TOO_LARGE"),
    ),
    Message(
        "timeout",
        504,
        "the API did not answer within 29 s: retry (a submission with an idempotency key is not made twice); a wait should ask for at most 20 s",
        "retry, with an idempotency key for a submission",
        gateway_answer("INTEGRATION_TIMEOUT"),
    ),
]
