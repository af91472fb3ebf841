"""The HTTP client: one method per API route, with retries of throttles and server errors."""

from __future__ import annotations

import json
import random
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from tasklane_client.auth import Auth
from tasklane_client.errors import EndpointError, TaskCancelled, TaskFailed, WaitTimeout, from_answer

FINISHED = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class Transport(Protocol):
    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float
    ) -> Answer: ...


def urllib3_transport() -> Transport:
    import urllib3

    pool = urllib3.PoolManager(retries=False)

    def send(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> Answer:
        try:
            response = pool.request(method, url, headers=headers, body=body, timeout=timeout, redirect=False)
        except urllib3.exceptions.HTTPError as exc:
            raise EndpointError(
                f"cannot reach {url}: {exc}; check the endpoint (--endpoint or TASKLANE_ENDPOINT)"
            ) from None
        return Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.data)

    return send


class Client:
    """A tasklane API client.

    >>> client = Client("https://abc.execute-api.us-east-1.amazonaws.com/v1", IamAuth())
    >>> task = client.submit("compute", {"n": 1_000_000}, priority="high")
    >>> client.wait(task["task_id"])["result"]
    499999500000
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
        self._send = transport or urllib3_transport()

    # --- the routes -------------------------------------------------------------------------------

    def submit(
        self,
        task_type: str,
        payload: dict[str, Any] | None = None,
        *,
        priority: str | None = None,
        delay_seconds: int | None = None,
        max_attempts: int | None = None,
        timeout_seconds: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Submit one task; the accepted task (status pending)."""
        body = _task_body(task_type, payload, priority, delay_seconds, max_attempts, timeout_seconds)
        return self._call("POST", "/tasks", body, idempotency_key=idempotency_key)

    def submit_batch(self, tasks: list[dict[str, Any]], *, idempotency_key: str | None = None) -> list[dict[str, Any]]:
        """Submit up to 100 tasks at once (more are sent in chunks); one {"index", "task" | "error"} per task."""
        results: list[dict[str, Any]] = []
        for start in range(0, len(tasks), 100):
            key = f"{idempotency_key}:{start}" if idempotency_key and len(tasks) > 100 else idempotency_key
            answer = self._call("POST", "/tasks/batch", {"tasks": tasks[start : start + 100]}, idempotency_key=key)
            results += [{**r, "index": r["index"] + start} for r in answer["results"]]
        return results

    def get(self, task_id: str) -> dict[str, Any]:
        return self._call("GET", f"/tasks/{_quote(task_id)}")

    def result(self, task_id: str) -> Any:
        """The result of a completed task (Conflict while it is not; the error of a failed one)."""
        return self._call("GET", f"/tasks/{_quote(task_id)}/result")["result"]

    def cancel(self, task_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/tasks/{_quote(task_id)}")

    def retry(self, task_id: str) -> dict[str, Any]:
        return self._call("POST", f"/tasks/{_quote(task_id)}/retry")

    def list(
        self, *, status: str | None = None, task_type: str | None = None, page_size: int = 50
    ) -> Iterator[dict[str, Any]]:
        """Every task of the caller, newest first, page after page."""
        cursor: str | None = None
        while True:
            query = {"status": status, "task_type": task_type, "limit": str(page_size), "cursor": cursor}
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
        poll: float = 0.5,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll until the task finishes; the completed task. Raises TaskFailed, TaskCancelled or WaitTimeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = min(poll, 0.2)
        while True:
            task = self.get(task_id)
            if on_update:
                on_update(task)
            if task["status"] == "completed":
                return task
            if task["status"] == "failed":
                raise TaskFailed(task)
            if task["status"] == "cancelled":
                raise TaskCancelled(task)
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(task, timeout or 0)
            time.sleep(interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic())))
            interval = min(poll, interval * 1.5)

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    # --- the wire ---------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None, *, idempotency_key: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"accept": "application/json"}
        if data is not None:
            headers["content-type"] = "application/json"
        if idempotency_key:
            headers["idempotency-key"] = idempotency_key
        url = self.endpoint + path
        # A POST without an idempotency key is retried only when the gateway refused it (429),
        # never after a server error, which may have created the task.
        safe_to_repeat = method != "POST" or idempotency_key is not None
        for attempt in range(self.max_retries + 1):
            signed = {**headers, **(self.auth.headers(method, url, data, headers) if self.auth else {})}
            answer = self._send(method, url, signed, data, self.timeout)
            retryable = answer.status == 429 or (answer.status >= 500 and safe_to_repeat)
            if not retryable or attempt == self.max_retries:
                break
            time.sleep(_backoff(attempt, answer.headers.get("retry-after")))
        parsed = _json(answer.body)
        if answer.status >= 400:
            raise from_answer(answer.status, parsed)
        return parsed


def _task_body(task_type: str, payload: Any, priority: Any, delay: Any, attempts: Any, timeout: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"task_type": task_type, "payload": payload or {}}
    for name, value in (
        ("priority", priority),
        ("delay_seconds", delay),
        ("max_attempts", attempts),
        ("timeout_seconds", timeout),
    ):
        if value is not None:
            body[name] = value
    return body


def _backoff(attempt: int, retry_after: str | None) -> float:
    if retry_after and retry_after.isdigit():
        return float(retry_after)
    return min(20.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.0)


def _quote(task_id: str) -> str:
    return urllib.parse.quote(task_id, safe="")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return {"message": raw.decode(errors="replace")[:500]}
