"""The wire under the client: a request's answer, read whole or chunk by chunk, and the default
urllib3 transport (no retries, no redirects: the client decides both)."""

from __future__ import annotations

import json
import random
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from tasklane_client.errors import EndpointError

CHUNK_BYTES = 256 * 1024


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


class Reply(Protocol):
    """What the retry loop reads of an answer, whole or streamed."""

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
            return Answer(response.status, lower_headers(response.headers), response.data)
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

        return Stream(response.status, lower_headers(response.headers), read_chunks(response, url), release)

    def _open(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> Any:
        """Send a request and leave its body unread: an answer reads it whole, a stream in chunks."""
        import urllib3

        try:
            return self._pool.request(
                method, url, headers=headers, body=body, timeout=timeout, redirect=False, preload_content=False
            )
        except urllib3.exceptions.HTTPError as exc:
            raise EndpointError(f"cannot reach {where(url)}: {plain_reason(exc)}") from None


def urllib3_transport() -> StreamingTransport:
    """The default transport (kept for callers that built it by name)."""
    return Urllib3Transport()


def read_chunks(response: Any, url: str) -> Iterator[bytes]:
    """A urllib3 response's body, chunk by chunk."""
    import urllib3

    try:
        yield from response.stream(CHUNK_BYTES)
    except urllib3.exceptions.HTTPError as exc:
        raise EndpointError(f"lost the connection to {where(url)} while reading: {plain_reason(exc)}") from None


def plain_reason(exc: Exception) -> str:
    """Why a request failed on the wire, without urllib3's pool and object names ("connection refused")."""
    import urllib3

    while isinstance(cause := getattr(exc, "reason", None), Exception):  # MaxRetryError and the like wrap it
        exc = cause
    # NewConnectionError is a ConnectTimeoutError too (urllib3 keeps it so): a refusal is not a timeout.
    if isinstance(exc, urllib3.exceptions.TimeoutError) and not isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "no answer in time"
    text = re.sub(r"^(?:<[^>]*>|\w+\([^)]*\)): ", "", str(exc))  # "<...Connection object at 0x..>: " or "Pool(...): "
    text = text.removeprefix("Failed to establish a new connection: ")
    text = re.sub(r"\[Errno -?\d+\] ", "", text)
    return text[:1].lower() + text[1:] if text else type(exc).__name__


def lower_headers(headers: Any) -> dict[str, str]:
    """Header names in lower case, as HTTP/2 and the API send them."""
    return {k.lower(): v for k, v in headers.items()}


def where(url: str) -> str:
    """The URL without its query: a presigned URL's signature is a credential, kept out of messages."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def header(answer: Answer, name: str) -> str | None:
    return next((value for key, value in answer.headers.items() if key.lower() == name), None)


def backoff(attempt: int, retry_after: str | None) -> float:
    """Seconds before retry `attempt` (from 0): the answer's Retry-After, or an exponential backoff with jitter."""
    if retry_after and retry_after.isdigit():
        return float(retry_after)
    return min(20.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.0)


def json_body(raw: bytes) -> Any:
    """An answer's JSON body (None when empty; a message when it is not JSON)."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return {"message": raw.decode(errors="replace")[:500]}
