"""The HTTP client: one method per API route, with retries of throttles and server errors."""

from __future__ import annotations

import json
import math
import os
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypedDict, Unpack

from tasklane_client.auth import Auth
from tasklane_client.errors import (
    EndpointError,
    LargeValueUnavailable,
    ServerError,
    TaskCancelled,
    TaskFailed,
    TasklaneError,
    WaitTimeout,
    from_answer,
)

FINISHED = ("completed", "failed", "cancelled")
CHUNK_BYTES = 256 * 1024
MAX_WAIT_SECONDS = 20  # the longest long poll the API takes (GET /tasks/{id}?wait=)


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def close(self) -> None:
        """Nothing to release: the body is already read."""


@dataclass(frozen=True)
class Stream:
    """An answer whose body is read chunk by chunk; `close` releases the connection, read or not."""

    status: int
    headers: dict[str, str]
    chunks: Iterator[bytes]
    release: Callable[[], None] = _nothing

    def close(self) -> None:
        """Release the connection (the rest of the body, if any, is abandoned)."""
        self.release()


class Transport(Protocol):
    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float
    ) -> Answer: ...


class StreamingTransport(Transport, Protocol):
    """A transport that can also hand out a body chunk by chunk (large values); one without
    `stream` still works, a large value is then read whole before it is written."""

    def stream(self, method: str, url: str, headers: dict[str, str], timeout: float) -> Stream: ...


class Writable(Protocol):
    """Where a downloaded value goes: a binary file or stream (`open(path, "wb")`, `sys.stdout.buffer`)."""

    def write(self, data: bytes, /) -> object: ...


class _Reply(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> dict[str, str]: ...
    def close(self) -> None: ...


class Urllib3Transport:
    """The default transport: one urllib3 pool that neither retries nor follows redirects (the
    client decides both, and must not carry its credentials to a presigned URL)."""

    def __init__(self) -> None:
        import urllib3

        self._pool = urllib3.PoolManager(retries=False)

    def __call__(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> Answer:
        response = self._open(method, url, headers, body, timeout)
        try:
            return Answer(response.status, _lower(response.headers), response.data)
        finally:
            response.release_conn()

    def stream(self, method: str, url: str, headers: dict[str, str], timeout: float) -> Stream:
        """The answer with its body unread: `chunks` reads it, `close` releases the connection."""
        response = self._open(method, url, headers, None, timeout)

        def release() -> None:
            # Closing drops a connection whose body was not read to the end, so that the pool
            # never hands out a socket with the rest of a 10 MiB value still on it.
            response.close()
            response.release_conn()

        return Stream(response.status, _lower(response.headers), _read_chunks(response, url), release)

    def _open(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> Any:
        """Send a request and leave its body unread: an answer reads it whole, a stream in chunks."""
        import urllib3

        try:
            return self._pool.request(
                method, url, headers=headers, body=body, timeout=timeout, redirect=False, preload_content=False
            )
        except urllib3.exceptions.HTTPError as exc:
            raise EndpointError(f"cannot reach {_where(url)}: {exc}") from None


def urllib3_transport() -> StreamingTransport:
    """The default transport (kept for callers that built it by name)."""
    return Urllib3Transport()


def _read_chunks(response: Any, url: str) -> Iterator[bytes]:
    import urllib3

    try:
        yield from response.stream(CHUNK_BYTES)
    except urllib3.exceptions.HTTPError as exc:
        raise EndpointError(f"lost the connection to {_where(url)} while reading: {exc}") from None


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _where(url: str) -> str:
    """The URL without its query: a presigned URL's signature is a credential, kept out of messages."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


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
            return self._fetch_value(_location(answer), f"the result of task {task_id}")
        return _json(answer.body)["result"]

    def download_result(self, task_id: str, destination: Writable | str | os.PathLike[str]) -> int:
        """Write a completed task's result as JSON text to a binary file or a path, chunk by chunk
        (a large result is never held whole); the number of bytes written.

        The bytes are the compact UTF-8 JSON the API stores (an inline result is encoded the same
        way). A path is written through a temporary file beside it, so it never holds half a result.
        """
        answer = self._request("GET", f"/tasks/{_quote(task_id)}/result")
        if answer.status == 303:
            source = self._open_url(_location(answer), f"the result of task {task_id}")
        else:
            inline = _compact(_json(answer.body)["result"])
            source = Stream(answer.status, answer.headers, iter([inline]))
        try:
            if isinstance(destination, str | os.PathLike):
                return _write_file(Path(destination), source.chunks)
            return _copy(source.chunks, destination)
        finally:
            source.close()

    def cancel(self, task_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/tasks/{_quote(task_id)}")

    def retry(self, task_id: str) -> dict[str, Any]:
        return self._call("POST", f"/tasks/{_quote(task_id)}/retry")

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

    def pause_schedule(self, name: str) -> dict[str, Any]:
        return self._call("PATCH", f"/schedules/{_quote(name)}", {"paused": True})

    def resume_schedule(self, name: str) -> dict[str, Any]:
        return self._call("PATCH", f"/schedules/{_quote(name)}", {"paused": False})

    def delete_schedule(self, name: str) -> None:
        self._call("DELETE", f"/schedules/{_quote(name)}")

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
            task, etag = _json(answer.body), _header(answer, "etag")
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
                task, etag = _json(answer.body), _header(answer, "etag")

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
            raise TasklaneError(
                f"{what} at {_where(url)} is not JSON ({raw[:80]!r}...)", code="invalid_value"
            ) from None

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
            raise _storage_error(opened.status, body, url, what)
        return opened

    # --- the wire ---------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None, *, idempotency_key: str | None = None) -> Any:
        return _json(self._request(method, path, body, idempotency_key=idempotency_key).body)

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
            raise from_answer(answer.status, _json(answer.body))
        return answer

    def _retrying[R: _Reply](self, send: Callable[[], R], *, safe_to_repeat: bool) -> R:
        """Send until the answer is final: 429s, and 5xx when `safe_to_repeat`, are retried with backoff."""
        attempt = 0
        while True:
            answer = send()
            retryable = answer.status == 429 or (answer.status >= 500 and safe_to_repeat)
            if not retryable or attempt == self.max_retries:
                return answer
            answer.close()
            time.sleep(_backoff(attempt, answer.headers.get("retry-after")))
            attempt += 1


def _header(answer: Answer, name: str) -> str | None:
    return next((value for key, value in answer.headers.items() if key.lower() == name), None)


def _location(answer: Answer) -> str:
    """Where a 303 points: its Location header (or, should a proxy drop it, the body's result_url)."""
    url = answer.headers.get("location") or (_json(answer.body) or {}).get("result_url")
    if not url:
        raise ServerError("the API answered 303 without a Location", status=answer.status, code="no_location")
    return str(url)


def _storage_error(status: int, body: bytes, url: str, what: str) -> TasklaneError:
    """S3 answers errors in XML: <Error><Code>AccessDenied</Code><Message>Request has expired</Message>."""
    text = body.decode(errors="replace")
    code = _xml_field(text, "Code") or f"http_{status}"
    message = _xml_field(text, "Message") or text[:200]
    details = {"storage_code": code, "storage_message": message, "location": _where(url)}
    if status == 429 or status >= 500:
        return from_answer(status, {"error": {"code": code, "message": f"{what}: {message}", "details": details}})
    return LargeValueUnavailable(
        f"{what} could not be read from its presigned URL ({code}: {message}); it has expired or was "
        "refused: ask the API again for a fresh URL",
        status=status,
        code="large_value_unavailable",
        details=details,
    )


def _xml_field(text: str, name: str) -> str | None:
    # A regex, not an XML parser: the body is untrusted and only two flat fields are wanted.
    match = re.search(rf"<{name}>([^<]*)</{name}>", text)
    return match.group(1) if match else None


def _compact(value: Any) -> bytes:
    """A value as the API stores it: compact UTF-8 JSON."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _copy(chunks: Iterable[bytes], sink: Writable) -> int:
    written = 0
    for chunk in chunks:
        sink.write(chunk)
        written += len(chunk)
    return written


def _write_file(path: Path, chunks: Iterable[bytes]) -> int:
    if path.exists() and not path.is_file():  # /dev/stdout, a named pipe: no temporary file beside it
        with path.open("wb") as sink:
            return _copy(chunks, sink)
    partial = path.with_name(f".{path.name}.part")
    try:
        with partial.open("wb") as sink:
            written = _copy(chunks, sink)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written


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
