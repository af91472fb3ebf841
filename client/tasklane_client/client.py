"""The HTTP client: one method per API route, with retries of throttles and server errors. The wire
is tasklane_client.transport; large values behind presigned URLs, tasklane_client.values."""

from __future__ import annotations

import json
import math
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypedDict, TypeVar, Unpack

from tasklane_client.auth import Auth
from tasklane_client.errors import (
    EndpointError,
    TaskCancelled,
    TaskFailed,
    TasklaneError,
    WaitTimeout,
    from_answer,
)
from tasklane_client.transport import (
    Answer,
    Reply,
    Stream,
    StreamingTransport,
    Transport,
    Urllib3Transport,
    backoff,
    header,
    json_body,
    urllib3_transport,
    where,
)
from tasklane_client.values import Writable, compact, copy_to, location, storage_error, write_file

# Kept importable from here, where they were first defined.
__all__ = [
    "Answer",
    "Client",
    "Stream",
    "StreamingTransport",
    "SubmitOptions",
    "Transport",
    "Urllib3Transport",
    "Writable",
    "urllib3_transport",
]

FINISHED = ("completed", "failed", "cancelled")
MAX_WAIT_SECONDS = 20  # the longest long poll the API takes (GET /tasks/{id}?wait=)
# A TypeVar, not `def f[R: ...]`: the client runs on Python 3.11 too (where apps run).
R = TypeVar("R", bound=Reply)


class SubmitOptions(TypedDict, total=False):
    """What a submission may set beside its type and payload (None leaves the default)."""

    priority: str | None
    delay_seconds: int | None  # up to a year; past SQS's 15 minutes the task is `scheduled` until due
    run_at: str | None  # ISO 8601 with a zone (not with delay_seconds)
    max_attempts: int | None
    timeout_seconds: int | None
    callback_url: str | None


class Client:
    """A tasklane API client.

    >>> client = Client("https://abc.execute-api.us-east-1.amazonaws.com/v1", IamAuth())
    >>> task = client.submit("compute", {"n": 1_000_000}, priority="high")
    >>> client.wait(task["task_id"])["result"]
    499999500000

    Large values (over the API's inline threshold, 64 KiB) are not in the task view: `payload` or
    `result` is null and `payload_url` / `result_url` is a short-lived presigned URL. `result()`
    and `get(..., fetch_values=True)` read them from there; `download_result()` streams a result
    to a file.
    """

    def __init__(
        self,
        endpoint: str,
        auth: Auth | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        transport: Transport | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.auth = auth
        self.timeout = timeout
        self.max_retries = max_retries
        self._send = transport or Urllib3Transport()

    # --- the routes -------------------------------------------------------------------------------

    def submit(
        self,
        task_type: str,
        payload: dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        **options: Unpack[SubmitOptions],
    ) -> dict[str, Any]:
        """Submit one task; the accepted task (status pending, or scheduled when due later than
        15 minutes). `options`: priority, delay_seconds or run_at, max_attempts, timeout_seconds
        (left to the task type's defaults when not given), callback_url (an https URL that gets the
        task's signed summary when it ends)."""
        body = {"task_type": task_type, "payload": payload or {}, **{k: v for k, v in options.items() if v is not None}}
        return self._call("POST", "/tasks", body, idempotency_key=idempotency_key)

    def submit_batch(self, tasks: list[dict[str, Any]], *, idempotency_key: str | None = None) -> list[dict[str, Any]]:
        """Submit up to 100 tasks at once (more are sent in chunks); one {"index", "task" | "error"} per task.

        Each accepted `task` is a summary: it carries no payload or result.
        """
        results: list[dict[str, Any]] = []
        for start in range(0, len(tasks), 100):
            key = f"{idempotency_key}:{start}" if idempotency_key and len(tasks) > 100 else idempotency_key
            answer = self._call("POST", "/tasks/batch", {"tasks": tasks[start : start + 100]}, idempotency_key=key)
            results += [{**r, "index": r["index"] + start} for r in answer["results"]]
        return results

    def get(self, task_id: str, *, fetch_values: bool = False) -> dict[str, Any]:
        """The task as the API shows it; with `fetch_values`, a large payload or result is read from
        its presigned URL into `payload` / `result` (the `*_url` and `*_size` keys stay)."""
        task = self._call("GET", f"/tasks/{_quote(task_id)}")
        return self._with_values(task) if fetch_values else task

    def result(self, task_id: str) -> Any:
        """The result of a completed task, read from its presigned URL when the API answers 303
        (Conflict while it is not completed; the error of a failed one; LargeValueUnavailable
        when the URL has expired or is refused)."""
        answer = self._request("GET", f"/tasks/{_quote(task_id)}/result")
        if answer.status == 303:
            return self._fetch_value(location(answer), f"the result of task {task_id}")
        return json_body(answer.body)["result"]

    def download_result(self, task_id: str, destination: Writable | str | os.PathLike[str]) -> int:
        """Write a completed task's result as JSON text to a binary file or a path, chunk by chunk
        (a large result is never held whole); the number of bytes written.

        The bytes are the compact UTF-8 JSON the API stores (an inline result is encoded the same
        way). A path is written through a temporary file beside it, so it never holds half a result.
        """
        answer = self._request("GET", f"/tasks/{_quote(task_id)}/result")
        if answer.status == 303:
            source = self._open_url(location(answer), f"the result of task {task_id}")
        else:
            inline = compact(json_body(answer.body)["result"])
            source = Stream(answer.status, answer.headers, iter([inline]))
        try:
            if isinstance(destination, str | os.PathLike):
                return write_file(Path(destination), source.chunks)
            return copy_to(source.chunks, destination)
        finally:
            source.close()

    def cancel(self, task_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/tasks/{_quote(task_id)}")

    def retry(self, task_id: str) -> dict[str, Any]:
        return self._call("POST", f"/tasks/{_quote(task_id)}/retry")

    # --- bulk actions -------------------------------------------------------------------------------

    def start_bulk(self, action: str, filter: dict[str, Any] | None = None, *, dry_run: bool = False) -> dict[str, Any]:
        """Cancel ("cancel") or retry ("retry") every task of yours that `filter` selects ({"status",
        "task_type", "priority", "created_after", "created_before"}), on the server, in the background;
        `dry_run` only counts them. {"bulk_id", "status": "running", "dry_run"}: follow get_bulk."""
        body = {"action": action, "filter": filter or {}, "dry_run": dry_run}
        return self._call("POST", "/tasks/bulk", body)

    def get_bulk(self, bulk_id: str) -> dict[str, Any]:
        """A bulk action's progress: {"status": "running" | "done", "matched", "changed", "skipped", ...}."""
        return self._call("GET", f"/tasks/bulk/{_quote(bulk_id)}")

    def wait_bulk(
        self,
        bulk_id: str,
        timeout: float | None = None,
        *,
        poll_seconds: float = 1.0,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll a bulk action until it is done (WaitTimeout after `timeout` seconds); its last progress."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            progress = self.get_bulk(bulk_id)
            if on_update:
                on_update(progress)
            if progress["status"] == "done":
                return progress
            if deadline is not None and time.monotonic() >= deadline:
                message = f"bulk action {bulk_id} still running after {timeout:g}s"
                raise TasklaneError(message, code="wait_timeout", details=progress)
            time.sleep(poll_seconds)

    # --- workflows ---------------------------------------------------------------------------------

    def submit_workflow(
        self,
        root: dict[str, Any],
        *,
        on_failure: str = "fail",
        callback_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Submit a tree built with tasklane_client.workflows (chain, group, chord, task); the workflow."""
        body: dict[str, Any] = {"root": root, "on_failure": on_failure}
        if callback_url is not None:
            body["callback_url"] = callback_url
        return self._call("POST", "/workflows", body, idempotency_key=idempotency_key)

    def get_workflow(self, workflow_id: str) -> dict[str, Any]:
        """A workflow: status, counts, its tree with each task's id and status, the last node's result."""
        return self._call("GET", f"/workflows/{_quote(workflow_id)}")

    def list_workflows(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """Your latest workflows, newest first."""
        return self._call("GET", f"/workflows?limit={limit}")["workflows"]

    def cancel_workflow(self, workflow_id: str) -> dict[str, Any]:
        """Cancel what has not started; a running task finishes and keeps its result."""
        return self._call("DELETE", f"/workflows/{_quote(workflow_id)}")

    def workflow_tasks(self, workflow_id: str) -> Iterator[dict[str, Any]]:
        """The workflow's tasks in the order of its tree (summaries: no payload or result)."""
        cursor: str | None = None
        while True:
            query = f"/tasks?workflow_id={_quote(workflow_id)}&limit=100" + (f"&cursor={cursor}" if cursor else "")
            page = self._call("GET", query)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    # --- recurring schedules ----------------------------------------------------------------------

    def create_schedule(
        self,
        name: str,
        task: dict[str, Any],
        *,
        cron: str | None = None,
        rate: str | None = None,
        timezone: str = "UTC",
    ) -> dict[str, Any]:
        """A recurring schedule: `cron` ("0 9 ? * MON-FRI *", EventBridge's six fields) or `rate`
        ("15 minutes"), read in `timezone`; each firing submits `task`, a submission body
        ({"task_type", "payload", "priority", ...}). The schedule, with its next fire times."""
        body = {"name": name, "cron": cron, "rate": rate, "timezone": timezone, "task": task}
        return self._call("POST", "/schedules", {k: v for k, v in body.items() if v is not None})

    def list_schedules(self) -> list[dict[str, Any]]:
        """Your schedules, each with its next fire time."""
        return self._call("GET", "/schedules")["items"]

    def get_schedule(self, name: str) -> dict[str, Any]:
        """One of your schedules with its next five fire times."""
        return self._call("GET", f"/schedules/{_quote(name)}")

    def edit_schedule(self, name: str, **changes: Any) -> dict[str, Any]:
        """Change what is given of `cron`, `rate` (one replaces the other), `timezone`, `task` (its
        fields merged into the task; a task field given as None is removed) and `paused`; the rest
        stays. The schedule as edited, with its next fire times."""
        body = {k: v for k, v in changes.items() if v is not None}
        return self._call("PATCH", f"/schedules/{_quote(name)}", body)

    def pause_schedule(self, name: str) -> dict[str, Any]:
        return self._call("PATCH", f"/schedules/{_quote(name)}", {"paused": True})

    def resume_schedule(self, name: str) -> dict[str, Any]:
        return self._call("PATCH", f"/schedules/{_quote(name)}", {"paused": False})

    def delete_schedule(self, name: str) -> None:
        self._call("DELETE", f"/schedules/{_quote(name)}")

    # --- task types of your own -------------------------------------------------------------------

    def put_task_type(self, name: str, definition: dict[str, Any]) -> dict[str, Any]:
        """Register (or replace) your task type `name`: {"target": {"url": ...} | {"lambda": ARN}, "mode",
        "payload_schema", "priority", "timeout_seconds", "max_attempts", "rate_limit", "description"}."""
        return self._call("PUT", f"/task-types/{_quote(name)}", definition)

    def list_task_types(self) -> list[dict[str, Any]]:
        """Every type you may submit: the built-ins (with their payload schemas), then yours."""
        return self._call("GET", "/task-types")["items"]

    def get_task_type(self, name: str) -> dict[str, Any]:
        return self._call("GET", f"/task-types/{_quote(name)}")

    def delete_task_type(self, name: str) -> None:
        self._call("DELETE", f"/task-types/{_quote(name)}")

    def list(
        self,
        *,
        status: str | None = None,
        task_type: str | None = None,
        priority: str | None = None,
        schedule: str | None = None,
        page_size: int = 50,
    ) -> Iterator[dict[str, Any]]:
        """Every task of the caller matching the filters given (`schedule`: the tasks a recurring
        schedule's firings submitted), newest first, page after page."""
        cursor: str | None = None
        while True:
            query = {
                "status": status,
                "task_type": task_type,
                "priority": priority,
                "schedule": schedule,
                "limit": str(page_size),
                "cursor": cursor,
            }
            page = self._call("GET", "/tasks?" + urllib.parse.urlencode({k: v for k, v in query.items() if v}))
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def wait(
        self,
        task_id: str,
        timeout: float | None = None,
        *,
        on_update: Callable[[dict[str, Any]], None] | None = None,
        fetch_values: bool = False,
    ) -> dict[str, Any]:
        """Wait until the task finishes; the completed task (with large values read in, as `get`
        does, when `fetch_values`). Raises TaskFailed, TaskCancelled or WaitTimeout.

        Long polls (`GET /tasks/{id}?wait=`): the API answers as soon as the task is finished, so a
        wait costs a request per 20 s, not a request per poll. With `on_update`, each poll carries the
        task's entity tag and is answered as soon as the task changes (its progress, say)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        path = f"/tasks/{_quote(task_id)}"
        task: dict[str, Any] | None = None
        etag = None
        if on_update is not None:  # the task as it is now, and the tag its changes are told by
            answer = self._request("GET", path)
            task, etag = json_body(answer.body), header(answer, "etag")
        while True:
            if task is not None:
                if on_update:
                    on_update(task)
                if task["status"] == "completed":
                    return self._with_values(task) if fetch_values else task
                if task["status"] == "failed":
                    raise TaskFailed(task)
                if task["status"] == "cancelled":
                    raise TaskCancelled(task)
            left = MAX_WAIT_SECONDS if deadline is None else deadline - time.monotonic()
            if left <= 0 and task is not None:
                raise WaitTimeout(task, timeout or 0)
            seconds = min(MAX_WAIT_SECONDS, math.ceil(max(left, 0)))
            conditional = {"if-none-match": etag} if on_update and etag else None
            answer = self._request("GET", f"{path}?wait={seconds}", headers=conditional)
            if answer.status != 304:  # 304: unchanged, the task is as it was
                task, etag = json_body(answer.body), header(answer, "etag")

    def stats(self) -> dict[str, Any]:
        """The overview `GET /stats` answers: each lane's figures (queued, in flight, delayed, dead
        letters, concurrency, oldest age), throughput per minute, and the caller's counts by status."""
        return self._call("GET", "/stats")

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def webhook_secret(self) -> str:
        """Your webhook signing secret (made on first use): verify deliveries with `verify_signature`."""
        return str(self._call("GET", "/webhooks/secret")["secret"])

    def rotate_webhook_secret(self) -> str:
        """Replace your webhook signing secret; the new one signs every delivery from now on."""
        return str(self._call("POST", "/webhooks/secret/rotate")["secret"])

    # --- large values -----------------------------------------------------------------------------

    def _with_values(self, task: dict[str, Any]) -> dict[str, Any]:
        filled = dict(task)
        for key in ("payload", "result"):
            url = task.get(f"{key}_url")
            if url and task.get(key) is None:
                filled[key] = self._fetch_value(url, f"the {key} of task {task.get('task_id')}")
        return filled

    def _fetch_value(self, url: str, what: str) -> Any:
        stream = self._open_url(url, what)
        try:
            raw = b"".join(stream.chunks)
        finally:
            stream.close()
        try:
            return json.loads(raw)
        except ValueError:
            raise TasklaneError(f"{what} at {where(url)} is not JSON ({raw[:80]!r}...)", code="invalid_value") from None

    def _open_url(self, url: str, what: str) -> Stream:
        """GET a presigned URL exactly as given, with no header of ours: it carries its own SigV4
        signature, and S3 refuses a request that also has an Authorization header."""
        stream = getattr(self._send, "stream", None)

        def send() -> Stream:
            if stream is not None:
                opened: Stream = stream("GET", url, {}, self.timeout)
                return opened
            answer = self._send("GET", url, {}, None, self.timeout)
            return Stream(answer.status, answer.headers, iter([answer.body]))

        try:
            opened = self._retrying(send, safe_to_repeat=True)
        except EndpointError as exc:
            raise EndpointError(f"{exc.message} (reading {what} from its presigned URL)") from None
        if opened.status != 200:
            body = b"".join(opened.chunks)
            opened.close()
            raise storage_error(opened.status, body, url, what)
        return opened

    # --- the wire ---------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None, *, idempotency_key: str | None = None) -> Any:
        return json_body(self._request(method, path, body, idempotency_key=idempotency_key).body)

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        # Compact JSON: the API measures a payload's size the same way (1 MiB is a limit on that).
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        headers = {"accept": "application/json", **(headers or {})}
        if data is not None:
            headers["content-type"] = "application/json"
        if idempotency_key:
            headers["idempotency-key"] = idempotency_key
        url = self.endpoint + path

        def send() -> Answer:
            signed = {**headers, **(self.auth.headers(method, url, data, headers) if self.auth else {})}
            return self._send(method, url, signed, data, self.timeout)

        # A POST without an idempotency key is retried only when the gateway refused it (429),
        # never after a server error, which may have created the task.
        try:
            answer = self._retrying(send, safe_to_repeat=method != "POST" or idempotency_key is not None)
        except EndpointError as exc:
            raise EndpointError(f"{exc.message}; check the endpoint (--endpoint or TASKLANE_ENDPOINT)") from None
        if answer.status >= 400:
            raise from_answer(answer.status, json_body(answer.body))
        return answer

    def _retrying(self, send: Callable[[], R], *, safe_to_repeat: bool) -> R:
        """Send until the answer is final: 429s, and 5xx when `safe_to_repeat`, are retried with backoff."""
        attempt = 0
        while True:
            answer = send()
            retryable = answer.status == 429 or (answer.status >= 500 and safe_to_repeat)
            if not retryable or attempt == self.max_retries:
                return answer
            answer.close()
            time.sleep(backoff(attempt, answer.headers.get("retry-after")))
            attempt += 1


def _quote(task_id: str) -> str:
    return urllib.parse.quote(task_id, safe="")
