"""The task routes of the client: submit, read, wait for, cancel, retry and list tasks; the overview
and the webhook secret."""

from __future__ import annotations

import math
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypedDict, Unpack

from tasklane_client.connection import Connection, quote
from tasklane_client.errors import TaskCancelled, TaskFailed, WaitTimeout
from tasklane_client.transport import Stream, header, json_body
from tasklane_client.values import Writable, compact, copy_to, location, write_file

FINISHED = ("completed", "failed", "cancelled")
MAX_WAIT_SECONDS = 20  # the longest long poll the API takes (GET /tasks/{id}?wait=)


class SubmitOptions(TypedDict, total=False):
    """What a submission may set beside its type and payload (None leaves the default)."""

    priority: str | None
    delay_seconds: int | None  # up to a year; past SQS's 15 minutes the task is `scheduled` until due
    run_at: str | None  # ISO 8601 with a zone (not with delay_seconds)
    max_attempts: int | None
    timeout_seconds: int | None
    callback_url: str | None


class TaskRoutes:
    """/tasks, /stats, /health and /webhooks/secret."""

    connection: Connection

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
        return self.connection.call("POST", "/tasks", body, idempotency_key=idempotency_key)

    def submit_batch(self, tasks: list[dict[str, Any]], *, idempotency_key: str | None = None) -> list[dict[str, Any]]:
        """Submit up to 100 tasks at once (more are sent in chunks); one {"index", "task" | "error"} per task.

        Each accepted `task` is a summary: it carries no payload or result.
        """
        results: list[dict[str, Any]] = []
        for start in range(0, len(tasks), 100):
            key = f"{idempotency_key}:{start}" if idempotency_key and len(tasks) > 100 else idempotency_key
            chunk = {"tasks": tasks[start : start + 100]}
            answer = self.connection.call("POST", "/tasks/batch", chunk, idempotency_key=key)
            results += [{**r, "index": r["index"] + start} for r in answer["results"]]
        return results

    def get(self, task_id: str, *, fetch_values: bool = False) -> dict[str, Any]:
        """The task as the API shows it; with `fetch_values`, a large payload or result is read from
        its presigned URL into `payload` / `result` (the `*_url` and `*_size` keys stay)."""
        task = self.connection.call("GET", f"/tasks/{quote(task_id)}")
        return self.connection.with_values(task) if fetch_values else task

    def result(self, task_id: str) -> Any:
        """The result of a completed task, read from its presigned URL when the API answers 303
        (Conflict while it is not completed; the error of a failed one; LargeValueUnavailable
        when the URL has expired or is refused)."""
        answer = self.connection.request("GET", f"/tasks/{quote(task_id)}/result")
        if answer.status == 303:
            return self.connection.fetch_value(location(answer), f"the result of task {task_id}")
        return json_body(answer.body)["result"]

    def download_result(self, task_id: str, destination: Writable | str | os.PathLike[str]) -> int:
        """Write a completed task's result as JSON text to a binary file or a path, chunk by chunk
        (a large result is never held whole); the number of bytes written.

        The bytes are the compact UTF-8 JSON the API stores (an inline result is encoded the same
        way). A path is written through a temporary file beside it, so it never holds half a result.
        """
        answer = self.connection.request("GET", f"/tasks/{quote(task_id)}/result")
        if answer.status == 303:
            source = self.connection.open_url(location(answer), f"the result of task {task_id}")
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
        return self.connection.call("DELETE", f"/tasks/{quote(task_id)}")

    def retry(self, task_id: str) -> dict[str, Any]:
        return self.connection.call("POST", f"/tasks/{quote(task_id)}/retry")

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
            listed = urllib.parse.urlencode({k: v for k, v in query.items() if v})
            page = self.connection.call("GET", "/tasks?" + listed)
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
        path = f"/tasks/{quote(task_id)}"
        task: dict[str, Any] | None = None
        etag = None
        if on_update is not None:  # the task as it is now, and the tag its changes are told by
            answer = self.connection.request("GET", path)
            task, etag = json_body(answer.body), header(answer, "etag")
        while True:
            if task is not None:
                if on_update:
                    on_update(task)
                if task["status"] == "completed":
                    return self.connection.with_values(task) if fetch_values else task
                if task["status"] == "failed":
                    raise TaskFailed(task)
                if task["status"] == "cancelled":
                    raise TaskCancelled(task)
            left = MAX_WAIT_SECONDS if deadline is None else deadline - time.monotonic()
            if left <= 0 and task is not None:
                raise WaitTimeout(task, timeout or 0)
            seconds = min(MAX_WAIT_SECONDS, math.ceil(max(left, 0)))
            conditional = {"if-none-match": etag} if on_update and etag else None
            answer = self.connection.request("GET", f"{path}?wait={seconds}", headers=conditional)
            if answer.status != 304:  # 304: unchanged, the task is as it was
                task, etag = json_body(answer.body), header(answer, "etag")

    def stats(self) -> dict[str, Any]:
        """The overview `GET /stats` answers: each lane's figures (queued, in flight, delayed, dead
        letters, concurrency, oldest age), throughput per minute, and the caller's counts by status."""
        return self.connection.call("GET", "/stats")

    def health(self) -> dict[str, Any]:
        return self.connection.call("GET", "/health")

    def webhook_secret(self) -> str:
        """Your webhook signing secret (made on first use): verify deliveries with `verify_signature`."""
        return str(self.connection.call("GET", "/webhooks/secret")["secret"])

    def rotate_webhook_secret(self) -> str:
        """Replace your webhook signing secret; the new one signs every delivery from now on."""
        return str(self.connection.call("POST", "/webhooks/secret/rotate")["secret"])
