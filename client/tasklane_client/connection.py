"""The client's connection to the API: signed requests, retries of throttles and server errors, error
answers as typed errors, and large values read from their presigned URLs."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

from tasklane_client.auth import Auth
from tasklane_client.errors import EndpointError, TasklaneError, from_answer
from tasklane_client.transport import Answer, Reply, Stream, Transport, Urllib3Transport, backoff, json_body, where
from tasklane_client.values import storage_error

# A TypeVar, not `def f[R: ...]`: the client runs on Python 3.11 too (where apps run).
R = TypeVar("R", bound=Reply)


def quote(name: str) -> str:
    """A task id, schedule or type name as one path segment."""
    return urllib.parse.quote(name, safe="")


class Connection:
    """Where the API is, how requests are signed, and how long and how often a request is tried."""

    def __init__(
        self, endpoint: str, auth: Auth | None, *, timeout: float, max_retries: int, transport: Transport | None
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.auth = auth
        self.timeout = timeout
        self.max_retries = max_retries
        self.transport = transport or Urllib3Transport()

    def call(self, method: str, path: str, body: Any = None, *, idempotency_key: str | None = None) -> Any:
        """The JSON body of a successful answer (an error answer raises its typed error)."""
        return json_body(self.request(method, path, body, idempotency_key=idempotency_key).body)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """A successful answer, whole (a 303 included); an error answer raises its typed error."""
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
            return self.transport(method, url, signed, data, self.timeout)

        # A POST without an idempotency key is retried only when the gateway refused it (429),
        # never after a server error, which may have created the task.
        try:
            answer = self.retrying(send, safe_to_repeat=method != "POST" or idempotency_key is not None)
        except EndpointError as exc:
            raise EndpointError(f"{exc.message}; check the endpoint (--endpoint or TASKLANE_ENDPOINT)") from None
        if answer.status >= 400:
            raise from_answer(answer.status, json_body(answer.body))
        return answer

    def retrying(self, send: Callable[[], R], *, safe_to_repeat: bool) -> R:
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

    # --- large values -----------------------------------------------------------------------------

    def with_values(self, task: dict[str, Any]) -> dict[str, Any]:
        """The task with a large payload or result read from its presigned URL into `payload` / `result`."""
        filled = dict(task)
        for key in ("payload", "result"):
            url = task.get(f"{key}_url")
            if url and task.get(key) is None:
                filled[key] = self.fetch_value(url, f"the {key} of task {task.get('task_id')}")
        return filled

    def fetch_value(self, url: str, what: str) -> Any:
        """The JSON value behind a presigned URL, read whole."""
        stream = self.open_url(url, what)
        try:
            raw = b"".join(stream.chunks)
        finally:
            stream.close()
        try:
            return json.loads(raw)
        except ValueError:
            raise TasklaneError(f"{what} at {where(url)} is not JSON ({raw[:80]!r}...)", code="invalid_value") from None

    def open_url(self, url: str, what: str) -> Stream:
        """GET a presigned URL exactly as given, with no header of ours: it carries its own SigV4
        signature, and S3 refuses a request that also has an Authorization header."""
        stream = getattr(self.transport, "stream", None)

        def send() -> Stream:
            if stream is not None:
                opened: Stream = stream("GET", url, {}, self.timeout)
                return opened
            answer = self.transport("GET", url, {}, None, self.timeout)
            return Stream(answer.status, answer.headers, iter([answer.body]))

        try:
            opened = self.retrying(send, safe_to_repeat=True)
        except EndpointError as exc:
            raise EndpointError(f"{exc.message} (reading {what} from its presigned URL)") from None
        if opened.status != 200:
            body = b"".join(opened.chunks)
            opened.close()
            raise storage_error(opened.status, body, url, what)
        return opened
