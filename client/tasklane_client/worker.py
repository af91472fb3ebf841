"""For a worker that finishes an async task's attempt: complete, fail or keep it alive (and put a
large result where tasklane reads it), with nothing but the attempt's envelope. The token
authenticates the call; no credentials, no API key, standard library only (a worker may run
anywhere: ECS, Batch, a laptop).

    from tasklane_client import worker

    attempt = envelope["completion"]  # {"token", "complete_url", "fail_url", "heartbeat_url", ...}
    worker.heartbeat(envelope["task_id"], attempt, 40)
    worker.complete(envelope["task_id"], attempt, {"frames": 240})

A result too large to send (over the API's 10 MB request) is PUT first, then completed by reference:

    worker.upload_result(envelope["task_id"], attempt, frames)  # a fresh URL, then the PUT
    worker.complete(envelope["task_id"], attempt, worker.RESULT_UPLOADED)

`token` is the envelope's `completion` (its routes are then used), or the token alone (then the API
at TASKLANE_API_URL). A wrong token raises NotFound, a spent one (an earlier attempt, a finished
task) Conflict; 429, 5xx and an unreachable API are tried again twice.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from tasklane_client.errors import (
    Conflict,
    EndpointError,
    InvalidRequest,
    NotFound,
    ServerError,
    TasklaneError,
    Throttled,
)

TRIES = 3  # 429, 5xx and unreachable are tried again, after 1 s then 2 s
TIMEOUT_SECONDS = 10
USER_AGENT = "tasklane-worker/1"
UPLOAD_TIMEOUT_SECONDS = 600  # a PUT of up to 100 MiB
# The result that says: the result is the object PUT to this attempt's result upload URL.
RESULT_UPLOADED = {"tasklane": "result_uploaded"}
Token = str | Mapping[str, str]  # the token, or the envelope's whole `completion`


def complete(task_id: str, token: Token, result: Any) -> dict[str, Any]:
    """Finish the attempt with `result` (any JSON value): the task is completed."""
    url, secret = _route(task_id, token, "complete")
    return _post(url, {"token": secret, "result": result})


def fail(task_id: str, token: Token, error_type: str, message: str, retry: bool = False) -> dict[str, Any]:
    """Fail the attempt; with `retry`, the task is tried again with backoff while attempts remain.
    The answer's `status` says which: "pending" (retried) or "failed"."""
    url, secret = _route(task_id, token, "fail")
    return _post(url, {"token": secret, "error": {"type": error_type, "message": message}, "retry": retry})


def heartbeat(task_id: str, token: Token, progress: float | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Keep the attempt alive (where its type sets heartbeat_seconds); `progress` a percent or
    {"percent", "message"}, shown on the task. The answer's `alive_until`: epoch seconds."""
    url, secret = _route(task_id, token, "heartbeat")
    shown = {"percent": progress} if isinstance(progress, (int, float)) else progress
    return _post(url, {"token": secret, "progress": dict(shown) if shown is not None else None})


def result_upload(task_id: str, token: Token) -> dict[str, Any]:
    """Where to PUT the attempt's result: {"url", "method", "max_bytes", "expires_at"}, signed now
    (the envelope's own `result_upload` may have expired by the time a long attempt ends)."""
    url, secret = _route(task_id, token, "result_upload")
    return _post(url, {"token": secret})


def upload_result(task_id: str, token: Token, result: Any) -> None:
    """PUT `result`'s JSON to a fresh result upload URL; then complete with RESULT_UPLOADED. A result
    over the upload's `max_bytes` raises InvalidRequest without sending it. A refused PUT (403: the
    URL expired meanwhile), a 5xx or an unreachable bucket is tried again twice, each time with a
    fresh URL."""
    data = json.dumps(result).encode()  # before asking: the URL's hour starts when it is signed
    for attempt in range(1, TRIES + 1):
        place = result_upload(task_id, token)
        if len(data) > place["max_bytes"]:
            raise InvalidRequest(f"the result is {len(data)} bytes; the limit is {place['max_bytes']}", status=413)
        request = urllib.request.Request(place["url"], data=data, method=place["method"])  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=UPLOAD_TIMEOUT_SECONDS):  # noqa: S310
                return
        except urllib.error.HTTPError as exc:
            if attempt == TRIES or not (exc.code == 403 or exc.code >= 500):
                kind = ServerError if exc.code >= 500 else InvalidRequest
                raise kind(f"the result upload was refused: HTTP {exc.code}", status=exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            if attempt == TRIES:
                raise EndpointError(f"the result upload could not be sent: {exc}") from None
        time.sleep(attempt)


def _route(task_id: str, token: Token, route: str) -> tuple[str, str]:
    if not isinstance(token, str):
        if f"{route}_url" not in token:  # an envelope from before the route: beside its complete_url
            return token["complete_url"].rsplit("/", 1)[0] + "/" + route.replace("_", "-"), token["token"]
        return token[f"{route}_url"], token["token"]
    base = os.environ.get("TASKLANE_API_URL")
    if not base:
        raise ValueError("pass the envelope's `completion` as the token, or set TASKLANE_API_URL")
    return f"{base.rstrip('/')}/tasks/{task_id}/{route.replace('_', '-')}", token


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    for attempt in range(1, TRIES + 1):
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
                return json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            error = _error(exc.code, exc.read())
            if not isinstance(error, (Throttled, ServerError)) or attempt == TRIES:
                raise error from None
        except (urllib.error.URLError, OSError) as exc:
            if attempt == TRIES:
                raise EndpointError(f"{url} could not be reached: {exc}") from None
        time.sleep(attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _error(status: int, raw: bytes) -> TasklaneError:
    try:
        error = json.loads(raw).get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    kind = {404: NotFound, 409: Conflict, 429: Throttled}.get(status)
    if kind is None:
        kind = ServerError if status >= 500 else InvalidRequest
    message = error.get("message") or raw[:200].decode("utf-8", "replace") or f"HTTP {status}"
    return kind(message, status=status, code=error.get("code"), details=error.get("details"))
